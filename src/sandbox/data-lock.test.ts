import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProcessProbe } from '../store/process-lock.js';
import { lockDataFile } from './data-lock.js';

const now = () => new Date('2026-01-02T03:04:05Z');
/** A probe of this host where only `live` pids run, with their start stamps. */
const probe = (pid: number, live: Record<number, string>): ProcessProbe => ({ pid, host: 'here', alive: (p) => p in live, startOf: (p) => live[p] ?? null });
let dir: string;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the --data file lock', () => {
  it('refuses a second sandbox while the first lives, naming it; takes over when it is gone or its pid names another process', async () => {
    dir = await mkdtemp(join(tmpdir(), 'chatid-datalock-'));
    const data = join(dir, 'state.json');
    const first = await lockDataFile(data, { now, probe: probe(100, { 100: 'boot+5' }) });
    const err = await lockDataFile(data, { now, probe: probe(200, { 100: 'boot+5', 200: 'boot+9' }) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_SANDBOX_DATA_IN_USE', exitCode: 2, details: { lock: `${data}.lock`, holder: { pid: 100, host: 'here' } } });
    expect((err as Error).message).toContain(`pid 100, serving ${data} since 2026-01-02T03:04:05.000Z`);
    // Pid 100 now names another process (started later): the lock is the dead sandbox's.
    const next = await lockDataFile(data, { now, probe: probe(200, { 100: 'boot+77', 200: 'boot+9' }) });
    expect(JSON.parse(await readFile(next.path, 'utf8'))).toMatchObject({ pid: 200 });
    expect(await first.holds()).toBe(false);
    await first.release(); // not its lock any more: left alone
    expect(await next.holds()).toBe(true);
    await next.release();
    await expect(readFile(`${data}.lock`, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a lock it cannot create is a bad --data path (exit 2, ERR_SANDBOX_DATA_LOCK), in words', async () => {
    dir = await mkdtemp(join(tmpdir(), 'chatid-datalock-'));
    await writeFile(join(dir, 'file'), '');
    const err = await lockDataFile(join(dir, 'file', 'state.json'), { now, probe: probe(1, {}) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_SANDBOX_DATA_LOCK', exitCode: 2, message: expect.stringContaining('a part of the path is a file, not a directory'), hint: expect.stringContaining('--data') });
  });
});
