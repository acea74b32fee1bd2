import { randomBytes } from 'node:crypto';
import { fstatSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Chalk } from 'chalk';
import type { Dispatcher } from 'undici';
import { configDir, openConfStore } from '../store/conf-store.js';
import type { ProfileStore } from '../store/types.js';
import { canPrompt, type Ctx, defaultUi, type Io } from './context.js';
import { CliError } from './errors.js';
import { renderError } from './output.js';
import { inquirerPrompter, type Prompter } from './prompter.js';

/**
 * The production context: the one place besides bin.ts that reads `process`. Expensive
 * pieces (the store, the HTTP agent, stdin, the stdout and stderr streams) are created on first use.
 */
export function createRealCtx(): Ctx {
  const controller = new AbortController();
  const io: Io = {
    // A getter: touching process.stdin sets up a stream, which costs start-up time.
    get stdin() {
      return process.stdin;
    },
    // Windows consoles need the stream (WriteConsoleW for Unicode); elsewhere write directly.
    stdout: process.platform === 'win32' ? openStdout(failStdout) : fdOutput(1, () => openStdout(failStdout)),
    stderr: process.platform === 'win32' ? openStderr() : fdOutput(2, openStderr),
  };
  let store: ProfileStore | undefined;
  let agent: Dispatcher | undefined;
  // Made on the first question: the inquirer prompter reads io.stdin when it is created.
  let inquirer: Prompter | undefined;
  const ask = (): Prompter => (inquirer ??= inquirerPrompter(io, () => canPrompt(ctx), () => ctx.errColor.level > 0));
  const ctx: Ctx = {
    io,
    env: process.env,
    cwd: process.cwd(),
    clock: { now: () => new Date(), monotonic: () => performance.now() },
    random: (size) => new Uint8Array(randomBytes(size)),
    sleep: async (ms, signal) => {
      await sleep(ms, undefined, signal ? { signal } : undefined);
    },
    color: new Chalk({ level: 0 }),
    errColor: new Chalk({ level: 0 }),
    prompter: {
      input: (message, o) => ask().input(message, o),
      password: (message, o) => ask().password(message, o),
      select: (message, choices, o) => ask().select(message, choices, o),
      confirm: (message, o) => ask().confirm(message, o),
    },
    ui: defaultUi(),
    store: async () => {
      store ??= openConfStore({ dir: configDir(process.env, process.platform, homedir()), now: () => ctx.clock.now() });
      return store;
    },
    http: async () => {
      if (!agent) {
        const { Agent } = await import('undici');
        agent = new Agent({ keepAliveTimeout: 10_000, connections: 32, pipelining: 1 });
      }
      return agent;
    },
    signal: controller.signal,
    platform: { os: process.platform, home: homedir() },
    close: async () => {
      const a = agent;
      agent = undefined;
      await a?.close();
    },
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    // Second Ctrl-C: stop now.
    if (controller.signal.aborted) process.exit(130);
    // First: let commands that watch ctx.signal finish their step (checkpoint, report),
    // and stop anyway shortly after for those that do not.
    controller.abort(new Error(`received ${sig}`));
    process.exitCode = 130;
    setTimeout(() => process.exit(130), 2_000).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return ctx;

  // Called from a stream 'error' event, after main may have returned: render here and exit.
  // stdout cannot carry a JSON error document, so the error goes to stderr as text.
  function failStdout(err: NodeJS.ErrnoException): never {
    ctx.ui.json = false;
    process.exit(renderError(stdoutWriteError(err), ctx));
  }
}

type Output = Io['stdout'];

/**
 * process.stdout, set up to end quietly when the reader goes away, and with one error line
 * (`fail`) when the output cannot be written for another reason.
 */
function openStdout(fail: (err: NodeJS.ErrnoException) => never): Output {
  const s = process.stdout;
  // `chatid … | head` closes the pipe early: that is not an error worth a stack trace.
  s.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    fail(err);
  });
  return s;
}

/**
 * process.stderr, set up so that a failed write (a full disk, a closed pipe: `2>&1 | true`) is
 * dropped: there is nowhere left to say so, and an uncaught 'error' event ended a command
 * whose result was already on stdout with exit 1 and no word.
 */
function openStderr(): Output {
  const s = process.stderr;
  s.on('error', () => undefined);
  return s;
}

/**
 * The error for a write to stdout that failed other than by a closed pipe: a full disk
 * (ENOSPC), an I/O error (EIO). Rethrown from the stream's 'error' event it was an uncaught
 * exception: a stack trace through the minified bundle, and no next step.
 */
export function stdoutWriteError(err: NodeJS.ErrnoException): CliError {
  // Node says "ENOSPC: no space left on device, write": the syscall adds nothing.
  const why = err.message.replace(/, write$/, '');
  return new CliError('ERR_OUTPUT_WRITE', `Cannot write the output to stdout (${why}); what it holds is incomplete.`, {
    cause: err,
    hint: 'Free space where stdout goes (or send it elsewhere) and run the command again.',
  });
}

/** What {@link fdOutput} needs from the system (tests pass fakes). */
export interface FdSystem {
  /** fs.writeSync(fd, buffer, offset, length): bytes written. */
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  isatty(fd: number): boolean;
}

const realFdSystem: FdSystem = {
  writeSync: (fd, buffer, offset, length) => writeSync(fd, buffer, offset, length),
  // Only a character device can be a terminal: a pipe or a file is answered by fstat alone,
  // without loading node:tty (and node:net behind it, ≈ 10 M instructions).
  isatty: (fd) => {
    try {
      if (!fstatSync(fd).isCharacterDevice()) return false;
    } catch {
      // Let tty answer.
    }
    return process.getBuiltinModule('node:tty').isatty(fd);
  },
};

/**
 * Bytes written with `writeSync` before the output is handed to a stream for good: short
 * outputs (a hash, a token, help, an error) never create one; long ones (`--batch`) get the
 * stream's back-pressure and leave the event loop free (Ctrl-C) while a slow reader catches up.
 */
export const SYNC_OUTPUT_LIMIT = 64 * 1024;

/**
 * stdout or stderr without the cost of creating `process.stdout`/`process.stderr` (on a pipe:
 * a net.Socket, node:tty, node:net; ≈ 10 M instructions, docs/performance.md) for the common
 * case of a few short writes. `write` writes at once with `fs.writeSync(fd)`; the real stream
 * (`openStream`) is created, and then takes every later write, when:
 * - anything but `write`, `isTTY` and `fd` is used (`once('drain')`, `on`, being handed to
 *   readline or a progress bar), or `columns` at a terminal;
 * - more than {@link SYNC_OUTPUT_LIMIT} bytes would have been written synchronously;
 * - `writeSync` fails: EAGAIN (a non-blocking pipe that is full; the stream waits for it) or
 *   anything else (EPIPE: the stream reports it as before, and stdout's error handler exits
 *   quietly). What was not written yet goes to the stream.
 * Nothing is written synchronously once the stream exists, so output stays in order. `isTTY`
 * comes from `isatty(fd)`, as the stream's would.
 */
export function fdOutput(fd: 1 | 2, openStream: () => Output, sys: FdSystem = realFdSystem): Output {
  let stream: Output | undefined;
  let tty: boolean | undefined;
  let synced = 0;
  const real = (): Output => (stream ??= openStream());
  const isTTY = (): boolean => (tty ??= stream ? stream.isTTY === true : sys.isatty(fd));
  function write(chunk: string | Uint8Array, encoding?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void): boolean {
    if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    if (stream) return typeof chunk === 'string' ? stream.write(chunk, encoding ?? 'utf8', cb) : stream.write(chunk, cb);
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding ?? 'utf8') : chunk;
    if (synced + bytes.length > SYNC_OUTPUT_LIMIT) return real().write(bytes, cb);
    let done = 0;
    try {
      while (done < bytes.length) done += sys.writeSync(fd, bytes, done, bytes.length - done);
    } catch {
      return real().write(bytes.subarray(done), cb);
    }
    synced += bytes.length;
    if (cb) process.nextTick(cb, null);
    return true;
  }
  const own: Record<PropertyKey, unknown> = {
    write,
    fd,
    get isTTY() {
      return isTTY();
    },
    get columns() {
      return isTTY() ? real().columns : undefined;
    },
  };
  // Every other member is the real stream's, bound to it (created on first use).
  return new Proxy(own, {
    get: (target, key) => {
      if (key in target) return target[key];
      const s = real();
      const v: unknown = Reflect.get(s, key, s);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(s) : v;
    },
    set: (target, key, value) => (key in target ? false : Reflect.set(real(), key, value)),
    has: (target, key) => key in target || key in real(),
    getPrototypeOf: () => Object.getPrototypeOf(real()) as object | null,
  }) as unknown as Output;
}
