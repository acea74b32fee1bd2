/**
 * The checkpoint of contacts sync: which batches the vendor acknowledged, the counts so far
 * and how long the report was at that moment. Written atomically (temp file + rename, 0600)
 * after every acknowledged batch, so a crash or SIGKILL leaves the last good state.
 *
 * One run at a time owns a checkpoint: it holds `<checkpoint>.lock` (created exclusively,
 * naming its process) from before the scan to its end. A second run of the same file refuses
 * instead of starting over under the first one; the lock of a run that died (SIGKILL, power
 * loss) is taken over at once, since its process is gone.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
// Whether another process is alive is a fact of the OS, not an input a test swaps (tests
// inject a ProcessProbe instead); STYLE §3 keeps `process` in the context, and Ctx has no
// process ids, so the real probe reads them here.
import { kill, pid as ownPid } from 'node:process';
import { StoreError, UsageError } from '../cli/errors.js';

/**
 * Bumped whenever the same file would map to different rows or batches: a checkpoint of
 * another version cannot be resumed safely. 2: a one-column file's `""` line became a row.
 */
export const CHECKPOINT_VERSION = 2;

export interface SyncCounts {
  read: number;
  synced: number;
  rejected: number;
  duplicates: number;
  batches: number;
  requests: number;
  retries: number;
}

export interface Checkpoint {
  version: typeof CHECKPOINT_VERSION;
  /** What was being synced: resuming with other input or settings is refused. */
  input: { name: string; bytes: number; sha256: string };
  target: { provider: string; baseUrl: string; agentId: string };
  batchSize: number;
  shard: string | null;
  /** Every batch with a number below this is done. */
  doneBelow: number;
  /** Done batches at or above doneBelow (out-of-order completions). */
  doneAbove: number[];
  counts: SyncCounts;
  report: { path: string; bytes: number } | null;
  updatedAt: string;
}

/** Write `data` to `path` atomically with mode 0600. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  // A name of its own, so two processes never write through the same temp file.
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  // 'wx': always a new file, so its mode is 0600 (a umask can only narrow it); no chmod needed.
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data, 'utf8');
    await fh.datasync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await rename(tmp, path);
}

export async function saveCheckpoint(path: string, cp: Checkpoint): Promise<void> {
  try {
    await writeFileAtomic(path, `${JSON.stringify(cp)}\n`);
  } catch (err) {
    // ENOENT in a directory that is there: the temp file was removed under this run.
    const vanished = (err as NodeJS.ErrnoException).code === 'ENOENT' && (await stat(dirname(path)).then((st) => st.isDirectory(), () => false));
    throw new StoreError('ERR_SYNC_CHECKPOINT_WRITE', `Cannot write the checkpoint ${path}: ${(err as Error).message}.`, {
      hint: vanished ? `Something removed files next to the checkpoint while it was written; keep other programs out of ${dirname(path)} during a sync.` : 'Pass --checkpoint <path> in a writable directory.',
      cause: err,
    });
  }
}

/** The checkpoint at `path`, or undefined when there is none. A damaged file is an error, never ignored. */
export async function loadCheckpoint(path: string): Promise<Checkpoint | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'EISDIR' || code === 'ENOTDIR') {
      throw new UsageError('ERR_SYNC_CHECKPOINT_READ', `Cannot read the checkpoint ${path}: ${pathProblem(err)}.`, {
        cause: err,
        hint: 'Pass --checkpoint a file path (it need not exist yet) in a directory you can write to.',
      });
    }
    throw new StoreError('ERR_SYNC_CHECKPOINT_READ', `Cannot read the checkpoint ${path}: ${(err as Error).message}.`, {
      cause: err,
      hint: 'Make it readable and run again; or delete it to sync from the first row (rows already synced are sent again, which upserts them unchanged).',
    });
  }
  try {
    const cp = JSON.parse(text) as Checkpoint;
    if (typeof cp === 'object' && cp !== null && typeof cp.version === 'number' && cp.version !== CHECKPOINT_VERSION) {
      throw new UsageError('ERR_SYNC_CHECKPOINT_VERSION', `The checkpoint ${path} was written by another version of chatid (format ${cp.version}, this one reads ${CHECKPOINT_VERSION}), which numbers rows differently.`, {
        hint: 'Delete it and run without --resume (rows are upserts: syncing them again is safe).',
      });
    }
    if (cp.version !== CHECKPOINT_VERSION || !Array.isArray(cp.doneAbove) || typeof cp.doneBelow !== 'number' || typeof cp.counts !== 'object') throw new Error('unexpected shape');
    return cp;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError('ERR_SYNC_CHECKPOINT_INVALID', `The checkpoint ${path} is damaged (${(err as Error).message}).`, {
      hint: 'Delete it and run without --resume (rows are upserts: syncing them again is safe).',
      cause: err,
    });
  }
}

/**
 * Remove the checkpoint and any temp file a killed writer left next to it. Only called by the
 * run holding the checkpoint's lock: the temp files beside it are then its own (all written
 * by now) or those of runs that died, never those of a live run.
 */
export async function removeCheckpoint(path: string): Promise<void> {
  await rm(path, { force: true });
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const n of names) {
    if (n.startsWith(prefix) && /^[0-9a-f]{12}\.tmp$/.test(n.slice(prefix.length))) await rm(join(dir, n), { force: true });
  }
}

/** Tracks done batch numbers compactly: a watermark plus the few finished out of order. */
export class DoneSet {
  below: number;
  private readonly above: Set<number>;
  constructor(below = 0, above: readonly number[] = []) {
    this.below = below;
    this.above = new Set(above);
    this.advance();
  }
  has(n: number): boolean {
    return n < this.below || this.above.has(n);
  }
  add(n: number): void {
    if (n >= this.below) this.above.add(n);
    this.advance();
  }
  list(): number[] {
    return [...this.above].sort((a, b) => a - b);
  }
  private advance(): void {
    while (this.above.delete(this.below)) this.below++;
  }
}

/** What a checkpoint's lock file says about the run holding it. */
export interface LockOwner {
  pid: number;
  host: string;
  /** A stamp of the process's start (Linux: its start time in /proc), so a reused pid is told apart; null if unknown. */
  start: string | null;
  /** The input being synced, for the message a second run shows. */
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

export interface CheckpointLock {
  path: string;
  /** Remove the lock if it is still this run's. */
  release(): Promise<void>;
  /**
   * Throw unless the lock is still this run's (ERR_SYNC_CHECKPOINT_LOCK_LOST): called before
   * each checkpoint write and before the checkpoint is removed, so a run whose lock another
   * took over stops instead of writing over that run's checkpoint.
   */
  check(): Promise<void>;
}

/** A lock file younger than this that cannot be parsed is taken for one being written. */
const UNREADABLE_LOCK_GRACE_MS = 10_000;

export function lockPathOf(checkpointPath: string): string {
  return `${checkpointPath}.lock`;
}

/**
 * Take the lock of `checkpointPath` for this run, or refuse (exit 2) when a live run holds
 * it. A lock whose process is gone (same host, pid dead or reused) is taken over under a
 * second lock, `<lock>.break`, held by one run at a time: the dead lock is removed only if it
 * is still the very file judged dead (same inode, mtime and text), and the run then creates
 * its own like any other (`wx`).
 */
export async function lockCheckpoint(
  checkpointPath: string,
  o: { input: string; now: () => Date; probe?: ProcessProbe; /** --break-lock: take it over even from a holder that looks alive, once. */ force?: boolean; onForce?: (holder: string) => void },
): Promise<CheckpointLock> {
  const probe = o.probe ?? realProbe;
  const path = lockPathOf(checkpointPath);
  const me: LockOwner = { pid: probe.pid, host: probe.host, start: probe.startOf(probe.pid), input: o.input, since: o.now().toISOString(), token: randomBytes(8).toString('hex') };
  const text = `${JSON.stringify(me)}\n`;
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      try {
        await fh.writeFile(text, 'utf8');
      } catch (err) {
        await fh.close().catch(() => undefined);
        await rm(path, { force: true }); // an empty lock would hold others off for nothing
        throw err;
      }
      await fh.close();
      return {
        path,
        async release() {
          // Only our own: a lock that is not (broken by someone who took us for dead) stays.
          if ((await readFile(path, 'utf8').catch(() => undefined)) === text) await rm(path, { force: true });
        },
        async check() {
          if ((await readFile(path, 'utf8').catch(() => undefined)) === text) return;
          throw new StoreError('ERR_SYNC_CHECKPOINT_LOCK_LOST', `The lock ${path} of this contacts sync was taken over by another run, which took this one for dead; this run stops so as not to write over its checkpoint.`, {
            hint: 'Let the other run finish, then run `chatid contacts sync … --resume` to send whatever is still missing.',
          });
        },
      };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') {
        // A path that cannot hold the lock is a bad --checkpoint (exit 2, as for --report);
        // a disk that fails or fills up is a failure (exit 1).
        const Err = code !== undefined && BAD_PATH_CODES.has(code) ? UsageError : StoreError;
        throw new Err('ERR_SYNC_CHECKPOINT_WRITE', `Cannot create the checkpoint's lock ${path}: ${pathProblem(err)}. No contact was sent.`, {
          hint: 'Pass --checkpoint <path> in a directory that exists and that you can write to.',
          cause: err,
        });
      }
    }
    const held = await readLock(path, o.now().getTime());
    if (held.kind === 'gone') continue; // released meanwhile: try again
    const lives = held.kind === 'live' || (held.kind === 'owner' && holderLives(held.owner, probe));
    // --break-lock breaks the lock seen first, and only that one: a run that takes the path
    // meanwhile is a live run of now, and is refused as usual.
    const forced = o.force === true && attempt === 0 && lives;
    if ((lives && !forced) || attempt >= 4) throw lockedError(checkpointPath, path, held, probe);
    if (forced) o.onForce?.(holderText(held, probe));
    await breakLock(path, held, o.now().getTime());
  }
}

/** Errors that say the path itself is unusable, not that the disk failed. */
const BAD_PATH_CODES = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'EROFS', 'ENAMETOOLONG']);

/** Why a path could not be used, in words (the errno text for anything unusual). */
function pathProblem(err: unknown): string {
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

async function readLock(path: string, nowMs: number): Promise<Held> {
  let seen: Seen | undefined;
  try {
    seen = await look(path);
  } catch (err) {
    throw new StoreError('ERR_SYNC_CHECKPOINT_READ', `Cannot read the checkpoint's lock ${path}: ${(err as Error).message}.`, {
      hint: 'Make it readable; if no contacts sync of this file is running, delete it.',
      cause: err,
    });
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

function holderLives(owner: LockOwner, probe: ProcessProbe): boolean {
  if (owner.host !== probe.host) return true; // another machine (a shared disk): cannot tell, so assume it runs
  if (!probe.alive(owner.pid)) return false;
  const start = probe.startOf(owner.pid);
  return !(owner.start && start && owner.start !== start); // the pid now names another process
}

async function breakLock(path: string, seen: Seen, nowMs: number): Promise<void> {
  const guard = `${path}.break`;
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(guard, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw lockFileError(guard, err);
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
        throw lockFileError(path, err);
      });
    }
  } finally {
    await rm(guard, { force: true }).catch(() => undefined);
  }
}

/** A lock file this run may not touch (another user's, in a sticky /tmp): named, with what to do. */
function lockFileError(path: string, err: unknown): StoreError {
  return new StoreError('ERR_SYNC_CHECKPOINT_WRITE', `Cannot take over the checkpoint's lock ${path}: ${(err as Error).message}. No contact was sent.`, {
    hint: `The run that left it is gone; delete ${path} as its owner (or root), or pass --checkpoint <path> elsewhere.`,
    cause: err,
  });
}

/** Who holds a lock, for messages: `pid 123 on ci-7, syncing in.csv since …`. */
function holderText(held: Held, probe: ProcessProbe): string {
  const owner = held.kind === 'owner' ? held.owner : undefined;
  return owner ? `pid ${owner.pid}${owner.host !== probe.host ? ` on ${owner.host}` : ''}, syncing ${owner.input} since ${owner.since}` : 'its lock is being written';
}

function lockedError(checkpointPath: string, path: string, held: Held, probe: ProcessProbe): UsageError {
  const owner = held.kind === 'owner' ? held.owner : undefined;
  const who = holderText(held, probe);
  return new UsageError('ERR_SYNC_CHECKPOINT_LOCKED', `Another contacts sync is using the checkpoint ${checkpointPath} (${who}); this run would overwrite it. No contact was sent.`, {
    hint: `Wait for that run to finish (it removes the checkpoint when done), or give this one its own --checkpoint <path> (parallel jobs: --shard i/n, which keeps one checkpoint per shard).${
      // A dead run on this host is detected and its lock taken over; elsewhere it cannot be told.
      !owner ? ` If no other sync is starting, run again with --break-lock.` : owner.host !== probe.host ? ` If it no longer runs on ${owner.host} (a replaced container or CI pod has a new host name), run again with --break-lock (and --resume to continue it).` : ''
    }`,
    details: { lock: path, ...(owner ? { holder: { pid: owner.pid, host: owner.host, input: owner.input, since: owner.since } } : {}) },
  });
}
