/**
 * A lock file that names the process holding it (pid, host, start time), so one process at a
 * time works on a file: contacts sync on a checkpoint (src/sync/checkpoint.ts), the sandbox on
 * its --data file (src/sandbox/data-lock.ts). A second process is refused while the holder
 * lives; a lock whose process is gone (same host, pid dead, a zombie, or reused by another
 * process) is taken over at once, under a second lock `<lock>.break` held by one process at a
 * time, and only if it is still the very file judged dead (same inode, mtime and text). The
 * caller names its errors (LockErrors): the rules are the same for every use.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
// Whether another process is alive is a fact of the OS, not an input a test swaps (tests
// inject a ProcessProbe instead); STYLE §3 keeps `process` in the context, and Ctx has no
// process ids, so the real probe reads them here.
import { kill, pid as ownPid } from 'node:process';
import type { CliError } from '../cli/errors.js';

/** What a lock file says about the process holding it. */
export interface LockOwner {
  pid: number;
  host: string;
  /** A stamp of the process's start (Linux: its start time in /proc), so a reused pid is told apart; null if unknown. */
  start: string | null;
  /** What the holder works on (the file synced, the data file served), for the message a second process shows. */
  input: string;
  since: string;
  token: string;
}

/** How the lock tells a live holder from a dead one; tests pass their own. */
export interface ProcessProbe {
  pid: number;
  host: string;
  /** Whether a process with this id exists on this host. */
  alive(pid: number): boolean;
  /** The start stamp of that process (see LockOwner.start), or null if this OS does not say. */
  startOf(pid: number): string | null;
}

export const realProbe: ProcessProbe = {
  pid: ownPid,
  host: hostname(),
  alive(pid) {
    try {
      kill(pid, 0);
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
    }
    // A killed run its parent has not reaped yet is a zombie: it answers signals but holds nothing.
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    } catch {
      return true; // no /proc (not Linux), or gone just now: the signal said it exists
    }
  },
  startOf(pid) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces and parentheses): state is the
      // 3rd field of the line, starttime the 22nd.
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
    } catch {
      return null;
    }
  },
};

export interface ProcessLock {
  path: string;
  /** Remove the lock if it is still this process's. */
  release(): Promise<void>;
  /** Whether the lock is still this process's (another may have taken it over, judging this one dead). */
  holds(): Promise<boolean>;
}

/** What the caller says when the lock cannot be had; `who` describes the holder (`pid 12 on ci-7, syncing in.csv since …`). */
export interface LockErrors {
  cannotCreate(err: unknown): CliError;
  cannotRead(err: unknown): CliError;
  /** A dead process's lock (or a stale `.break` guard) that this one may not remove. */
  cannotTakeOver(path: string, err: unknown): CliError;
  held(holder: { owner: LockOwner | undefined; who: string; otherHost: boolean }): CliError;
}

/** A lock file younger than this that cannot be parsed is taken for one being written. */
const UNREADABLE_LOCK_GRACE_MS = 10_000;

/**
 * Take the lock at `path` for this process, or throw `errors.held` while a live process holds
 * it. `force` (--break-lock) takes over the lock seen first even from a holder that looks
 * alive, once, telling `onForce` whose it was; `doing` words the holder's work in messages.
 */
export async function takeProcessLock(
  file: string,
  o: { input: string; doing: string; now: () => Date; errors: LockErrors; probe?: ProcessProbe; force?: boolean; onForce?: (holder: string) => void },
): Promise<ProcessLock> {
  const path = resolve(file);
  const probe = o.probe ?? realProbe;
  const me: LockOwner = { pid: probe.pid, host: probe.host, start: probe.startOf(probe.pid), input: o.input, since: o.now().toISOString(), token: randomBytes(8).toString('hex') };
  const text = `${JSON.stringify(me)}\n`;
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      let id: { dev: number; ino: number; mtimeMs: number; ctimeMs: number; size: number };
      try {
        await fh.writeFile(text, 'utf8');
        id = await fh.stat();
      } catch (err) {
        await fh.close().catch(() => undefined);
        await rm(path, { force: true }); // an empty lock would hold others off for nothing
        throw err;
      }
      // The descriptor stays open until release: while it is, no other file on this device can
      // get this inode number, so "the path still names this inode" is exact, and answered by
      // one stat (holds() runs before every checkpoint write of a sync; reading the text back
      // took four calls). A take-over removes the lock and creates a new one ('wx'). Only when
      // the inode is ours but its times or size moved (a chmod, a backup tool's xattr, or a
      // rewrite in place by hand) is the text read back, and it decides, as it always did.
      const ours = async (): Promise<boolean> => {
        const st = await stat(path).catch(() => undefined);
        if (st === undefined || st.ino !== id.ino || st.dev !== id.dev) return false;
        if (st.mtimeMs === id.mtimeMs && st.ctimeMs === id.ctimeMs && st.size === id.size) return true;
        return (await readFile(path, 'utf8').catch(() => undefined)) === text;
      };
      heldHere.add(path);
      return {
        path,
        async release() {
          heldHere.delete(path);
          try {
            // Only our own: a lock that is not (broken by someone who took us for dead) stays.
            if (await ours()) await rm(path, { force: true });
          } finally {
            await fh.close().catch(() => undefined);
          }
        },
        holds: ours,
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw o.errors.cannotCreate(err);
    }
    const held = await readLock(path, o.now().getTime(), o.errors);
    if (held.kind === 'gone') continue; // released meanwhile: try again
    const lives = held.kind === 'live' || (held.kind === 'owner' && holderLives(path, held.owner, probe));
    // A forced take-over breaks the lock seen first, and only that one: a process that takes
    // the path meanwhile is a live one of now, and is refused as usual.
    const forced = o.force === true && attempt === 0 && lives;
    const owner = held.kind === 'owner' ? held.owner : undefined;
    const who = owner ? `pid ${owner.pid}${owner.host !== probe.host ? ` on ${owner.host}` : ''}, ${o.doing} ${owner.input} since ${owner.since}` : 'its lock is being written';
    if ((lives && !forced) || attempt >= 4) throw o.errors.held({ owner, who, otherHost: owner !== undefined && owner.host !== probe.host });
    if (forced) o.onForce?.(who);
    await breakLock(path, held, o.now().getTime(), o.errors);
  }
}

/** Errors that say the path itself is unusable, not that the disk failed. */
export const BAD_PATH_CODES = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'EROFS', 'ENAMETOOLONG']);

/** Why a path could not be used, in words (the errno text for anything unusual). */
export function pathProblem(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return 'no such directory, or one that cannot hold files';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a directory';
    case 'EISDIR':
      return 'it is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    default:
      return e.message;
  }
}

/** A lock file as read: its text, and which file it was (a new lock at the same path is another). */
interface Seen {
  text: string;
  ino: number;
  mtimeMs: number;
}

type Held = { kind: 'gone' } | ({ kind: 'live' } & Seen) | ({ kind: 'dead' } & Seen) | ({ kind: 'owner'; owner: LockOwner } & Seen);

/** The lock's text and identity, read through one descriptor (so both are of the same file); undefined if there is none. */
async function look(path: string): Promise<Seen | undefined> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const st = await fh.stat();
    return { text: await fh.readFile('utf8'), ino: st.ino, mtimeMs: st.mtimeMs };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

async function readLock(path: string, nowMs: number, errors: LockErrors): Promise<Held> {
  let seen: Seen | undefined;
  try {
    seen = await look(path);
  } catch (err) {
    throw errors.cannotRead(err);
  }
  if (!seen) return { kind: 'gone' };
  try {
    const owner = JSON.parse(seen.text) as LockOwner;
    if (Number.isInteger(owner.pid) && owner.pid > 0 && typeof owner.host === 'string') return { kind: 'owner', owner, ...seen };
  } catch {
    // below
  }
  // Not a lock this code wrote whole: one being written right now, or debris of a crash.
  return nowMs - seen.mtimeMs < UNREADABLE_LOCK_GRACE_MS ? { kind: 'live', ...seen } : { kind: 'dead', ...seen };
}

/** Lock files this process holds now. */
const heldHere = new Set<string>();

function holderLives(path: string, owner: LockOwner, probe: ProcessProbe): boolean {
  if (owner.host !== probe.host) return true; // another machine (a shared disk): cannot tell, so assume it runs
  // Our own pid in a lock this process does not hold: a previous incarnation's (a container
  // restarted after a kill runs as pid 1 again, with the same host name).
  if (owner.pid === probe.pid) return heldHere.has(path);
  if (!probe.alive(owner.pid)) return false;
  const start = probe.startOf(owner.pid);
  return !(owner.start && start && owner.start !== start); // the pid now names another process
}

async function breakLock(path: string, seen: Seen, nowMs: number, errors: LockErrors): Promise<void> {
  const guard = `${path}.break`;
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(guard, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw errors.cannotTakeOver(guard, err);
    // Another run is taking it over right now (for milliseconds), or was killed doing so: a
    // guard older than that is debris. Either way, look at the lock again from the top.
    const st = await stat(guard).catch(() => undefined);
    if (st && nowMs - st.mtimeMs > UNREADABLE_LOCK_GRACE_MS) await rm(guard, { force: true }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 20));
    return;
  }
  try {
    await fh.close();
    // Under the guard no other run removes the lock; but one may have been removed and a new
    // one created (wx) since it was judged dead, empty for an instant while its run writes it.
    // So it is still the dead run's only if it is the same file with the same text: a dead
    // lock's text is an old run's (with its token) or, when unreadable, at least the grace
    // period old, which a lock created since is not.
    const current = await look(path).catch(() => undefined);
    if (current && current.text === seen.text && current.ino === seen.ino && current.mtimeMs === seen.mtimeMs) {
      await rm(path, { force: true }).catch((err: unknown) => {
        throw errors.cannotTakeOver(path, err);
      });
    }
  } finally {
    await rm(guard, { force: true }).catch(() => undefined);
  }
}
