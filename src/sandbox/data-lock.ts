/**
 * One sandbox per --data file. Two sandboxes on one file (the second started with another
 * --port, as the port-in-use hint suggests) would each save their own state over the other's,
 * losing whatever the other was sent. `<file>.lock` names the holder; a lock left by a sandbox
 * that is gone (same host, process dead) is taken over.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { kill, pid as ownPid } from 'node:process';
import { UsageError } from '../cli/errors.js';

export interface DataLock {
  readonly path: string;
  /** Remove the lock if it is still this sandbox's. */
  release(): Promise<void>;
}

interface Holder {
  pid?: unknown;
  host?: unknown;
  since?: unknown;
}

function processAlive(pid: number): boolean {
  try {
    kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Locks this process holds: a lock naming our own pid that is not here is a previous incarnation's (a container restarted after kill -9 runs as pid 1 again). */
const heldHere = new Set<string>();

export async function lockDataFile(file: string, o: { now: () => Date; pid?: number; host?: string; alive?: (pid: number) => boolean }): Promise<DataLock> {
  const path = `${file}.lock`;
  const host = o.host ?? hostname();
  const me = o.pid ?? ownPid;
  const alive = (pid: number): boolean => (pid === me ? heldHere.has(path) : (o.alive ?? processAlive)(pid));
  const text = `${JSON.stringify({ pid: me, host, since: o.now().toISOString() })}\n`;
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      try {
        await fh.writeFile(text, 'utf8');
      } finally {
        await fh.close();
      }
      heldHere.add(path);
      return {
        path,
        async release() {
          heldHere.delete(path);
          if ((await readFile(path, 'utf8').catch(() => undefined)) === text) await rm(path, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const held = await readFile(path, 'utf8').catch(() => undefined);
    if (held === undefined && attempt < 3) continue; // released meanwhile
    let owner: Holder = {};
    try {
      owner = JSON.parse(held ?? '') as Holder;
    } catch {
      // not a lock this code wrote: refused below, with the way out
    }
    const pid = typeof owner.pid === 'number' && Number.isInteger(owner.pid) && owner.pid > 0 ? owner.pid : undefined;
    if (pid !== undefined && owner.host === host && !alive(pid) && attempt < 3) {
      // The sandbox that held it is gone: take it over (only the lock judged dead).
      if ((await readFile(path, 'utf8').catch(() => undefined)) === held) await rm(path, { force: true });
      continue;
    }
    const who = pid !== undefined ? `process ${pid}${typeof owner.host === 'string' && owner.host !== host ? ` on host ${owner.host}` : ''}${typeof owner.since === 'string' ? `, since ${owner.since}` : ''}` : `see ${path}`;
    throw new UsageError('ERR_SANDBOX_DATA_IN_USE', `${file} is in use by another sandbox (${who}); two sandboxes saving one file would lose each other's changes.`, {
      hint: `Stop the other sandbox first, or give this one its own file (--data other.json). If no sandbox uses it, delete ${path}.`,
    });
  }
}
