import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Io } from './context.js';
import { type FdSystem, fdOutput, SYNC_OUTPUT_LIMIT } from './real-context.js';

/** A fake fd: records what writeSync wrote; `plan` says, call by call, how many bytes to take or what to throw. */
function fakeFd(plan: Array<number | string> = [], tty = false): FdSystem & { written: Buffer[]; calls: number } {
  const sys = {
    written: [] as Buffer[],
    calls: 0,
    writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number {
      expect(fd).toBe(1);
      const step = plan[sys.calls++];
      if (typeof step === 'string') throw Object.assign(new Error(`write ${step}`), { code: step });
      const n = step === undefined ? length : Math.min(step, length);
      sys.written.push(Buffer.from(buffer.subarray(offset, offset + n)));
      return n;
    },
    isatty: () => tty,
  };
  return sys;
}

/** A stand-in for process.stdout: a stream that collects what it is given, and counts its creation. */
function fakeStream(columns?: number): { open: () => Io['stdout']; opened: () => number; text: () => string; stream: PassThrough & { columns?: number; isTTY?: boolean } } {
  const stream = Object.assign(new PassThrough(), columns === undefined ? {} : { columns, isTTY: true });
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  let opened = 0;
  return {
    open: () => {
      opened++;
      return stream;
    },
    opened: () => opened,
    text: () => Buffer.concat(chunks).toString('utf8'),
    stream,
  };
}

describe('fdOutput (stdout/stderr of the real context)', () => {
  it('writes short output with writeSync and never creates the stream', async () => {
    const fd = fakeFd();
    const s = fakeStream();
    const out = fdOutput(1, s.open, fd);
    expect(out.write('abc\n')).toBe(true);
    expect(out.write(new Uint8Array([0x68, 0x69]))).toBe(true);
    await new Promise<void>((resolve) => out.write('é', () => resolve()));
    expect(Buffer.concat(fd.written).toString('utf8')).toBe('abc\nhié');
    expect(out.isTTY).toBe(false);
    expect(out.columns).toBeUndefined();
    expect(s.opened()).toBe(0);
  });

  it('finishes a partial write with further writeSync calls', () => {
    const fd = fakeFd([3, 2]);
    const s = fakeStream();
    fdOutput(1, s.open, fd).write('0123456789');
    expect(Buffer.concat(fd.written).toString()).toBe('0123456789');
    expect(fd.calls).toBe(3);
    expect(s.opened()).toBe(0);
  });

  it('on EAGAIN hands the unwritten rest and every later write to the stream, in order', () => {
    const fd = fakeFd([4, 'EAGAIN']);
    const s = fakeStream();
    const out = fdOutput(1, s.open, fd);
    out.write('first line\n');
    out.write('second line\n');
    expect(Buffer.concat(fd.written).toString()).toBe('firs');
    expect(s.text()).toBe('t line\nsecond line\n');
    expect(fd.calls).toBe(2);
    expect(s.opened()).toBe(1);
  });

  it('on EPIPE (or any other failure) gives the bytes to the stream, whose error handling applies', () => {
    const fd = fakeFd(['EPIPE']);
    const s = fakeStream();
    const errors: string[] = [];
    const out = fdOutput(1, () => {
      s.stream.on('error', (e: NodeJS.ErrnoException) => errors.push(e.code ?? ''));
      return s.open();
    }, fd);
    out.write('lost\n');
    expect(s.opened()).toBe(1);
    expect(s.text()).toBe('lost\n');
    s.stream.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    expect(errors).toEqual(['EPIPE']);
  });

  it(`switches to the stream for good once ${SYNC_OUTPUT_LIMIT} bytes would have been written synchronously`, () => {
    const fd = fakeFd();
    const s = fakeStream();
    const out = fdOutput(1, s.open, fd);
    const half = 'a'.repeat(SYNC_OUTPUT_LIMIT / 2);
    out.write(half);
    out.write(half);
    out.write('b');
    out.write('c');
    expect(Buffer.concat(fd.written).length).toBe(SYNC_OUTPUT_LIMIT);
    expect(s.text()).toBe('bc');
  });

  it('gives every other member (drain, listeners, stream options) from the real stream, bound to it', async () => {
    const fd = fakeFd();
    const s = fakeStream();
    const out = fdOutput(1, s.open, fd);
    out.write('sync\n');
    const drained = new Promise<void>((resolve) => out.once('drain', () => resolve()));
    expect(s.opened()).toBe(1);
    s.stream.emit('drain');
    await drained;
    expect(out instanceof EventEmitter).toBe(true);
    out.write('streamed\n');
    expect(Buffer.concat(fd.written).toString()).toBe('sync\n');
    expect(s.text()).toBe('streamed\n');
  });

  it('at a terminal: isTTY from isatty, columns from the stream (created only then)', () => {
    const fd = fakeFd([], true);
    const s = fakeStream(120);
    const out = fdOutput(1, s.open, fd);
    expect(out.isTTY).toBe(true);
    expect(s.opened()).toBe(0);
    expect(out.columns).toBe(120);
    expect(s.opened()).toBe(1);
  });
});
