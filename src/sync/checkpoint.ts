/**
 * The checkpoint of contacts sync: which batches the vendor acknowledged, the counts so far
 * and how long the report was at that moment, one JSON line per state. The first line is
 * written atomically (temp file + rename, 0600); each later state is appended to the same
 * file and fdatasync'ed (CheckpointWriter), after every acknowledged batch, and the last whole
 * line is the checkpoint. A crash or SIGKILL leaves the last good state: an append cut short
 * is a last line without its newline, which is ignored. (One write and one fdatasync per
 * batch: a new file and a rename each time took ~3× the CPU and the time, on every worker's
 * way to its next batch.) Every COMPACT_EVERY states the file starts again from one line.
 *
 * One run at a time owns a checkpoint: it holds `<checkpoint>.lock` (created exclusively,
 * naming its process) from before the scan to its end. A second run of the same file refuses
 * instead of starting over under the first one; the lock of a run that died (SIGKILL, power
 * loss) is taken over at once, since its process is gone.
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { StoreError, UsageError } from '../cli/errors.js';
import { BAD_PATH_CODES, type LockErrors, pathProblem, type ProcessProbe, takeProcessLock } from '../store/process-lock.js';

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
  await (await writeAtomicKeepOpen(path, data)).close();
}

/**
 * writeFileAtomic, handing back the descriptor it wrote through (positioned at the end): what
 * is appended through it lands in the file now at `path`, and never in a file another process
 * put there since (which reopening the path could not promise).
 */
async function writeAtomicKeepOpen(path: string, data: string): Promise<FileHandle> {
  // A name of its own, so two processes never write through the same temp file.
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  // 'wx': always a new file, so its mode is 0600 (a umask can only narrow it); no chmod needed.
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data, 'utf8');
    await fh.datasync();
    await rename(tmp, path);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
  return fh;
}

/** States appended to one checkpoint file before it starts again from one line (~300 KB). */
export const COMPACT_EVERY = 1000;

/** Saves the states of one run's checkpoint (see the top of this file); close() when done. */
export interface CheckpointWriter {
  save(cp: Checkpoint): Promise<void>;
  close(): Promise<void>;
}

export function checkpointWriter(path: string, o: { compactEvery?: number } = {}): CheckpointWriter {
  const compactEvery = o.compactEvery ?? COMPACT_EVERY;
  let fh: FileHandle | undefined;
  let lines = 0;
  const drop = async (): Promise<void> => {
    const old = fh;
    fh = undefined;
    await old?.close().catch(() => undefined);
  };
  return {
    async save(cp) {
      const line = `${JSON.stringify(cp)}\n`;
      try {
        if (fh && lines < compactEvery) {
          await fh.writeFile(line, 'utf8'); // from the descriptor's position: the end
          await fh.datasync();
          lines++;
          return;
        }
        await drop(); // closed before the rename over it (which Windows may refuse while it is open)
        fh = await writeAtomicKeepOpen(path, line);
        lines = 1;
      } catch (err) {
        // The file may now end in part of a line: the next state starts a new file.
        await drop();
        // ENOENT in a directory that is there: the temp file was removed under this run.
        const vanished = (err as NodeJS.ErrnoException).code === 'ENOENT' && (await stat(dirname(path)).then((st) => st.isDirectory(), () => false));
        throw new StoreError('ERR_SYNC_CHECKPOINT_WRITE', `Cannot write the checkpoint ${path}: ${(err as Error).message}.`, {
          hint: vanished ? `Something removed files next to the checkpoint while it was written; keep other programs out of ${dirname(path)} during a sync.` : 'Pass --checkpoint <path> in a writable directory.',
          cause: err,
        });
      }
    },
    close: drop,
  };
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
    // The last whole line (see the top of this file); text after the last newline is an append
    // a crash cut short, unless it is all there is (a checkpoint of one line without its newline).
    const lines = text.split('\n');
    const tail = lines.pop() as string;
    const whole = lines.map((l, i) => ({ l, n: i + 1 })).filter(({ l }) => l.trim() !== '');
    if (whole.length === 0) whole.push({ l: tail, n: 1 });
    for (const { l, n } of whole.slice(0, -1)) {
      try {
        JSON.parse(l);
      } catch (err) {
        throw new Error(`line ${n}: ${(err as Error).message}`);
      }
    }
    const cp = JSON.parse(whole[whole.length - 1]!.l) as Checkpoint;
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

export function lockPathOf(checkpointPath: string): string {
  return `${checkpointPath}.lock`;
}

/**
 * Take the lock of `checkpointPath` for this run (src/store/process-lock.ts: a dead run's is
 * taken over), or refuse (exit 2) when a live run holds it.
 */
export async function lockCheckpoint(
  checkpointPath: string,
  o: { input: string; now: () => Date; probe?: ProcessProbe; /** --break-lock: take it over even from a holder that looks alive, once. */ force?: boolean; onForce?: (holder: string) => void },
): Promise<CheckpointLock> {
  const path = lockPathOf(checkpointPath);
  const lock = await takeProcessLock(path, { ...o, doing: 'syncing', errors: checkpointLockErrors(checkpointPath, path) });
  return {
    path,
    release: () => lock.release(),
    async check() {
      if (await lock.holds()) return;
      throw new StoreError('ERR_SYNC_CHECKPOINT_LOCK_LOST', `The lock ${path} of this contacts sync was taken over by another run, which took this one for dead; this run stops so as not to write over its checkpoint.`, {
        hint: 'Let the other run finish, then run `chatid contacts sync … --resume` to send whatever is still missing.',
      });
    },
  };
}

function checkpointLockErrors(checkpointPath: string, path: string): LockErrors {
  return {
    cannotCreate(err) {
      // A path that cannot hold the lock is a bad --checkpoint (exit 2, as for --report);
      // a disk that fails or fills up is a failure (exit 1).
      const code = (err as NodeJS.ErrnoException).code;
      const Err = code !== undefined && BAD_PATH_CODES.has(code) ? UsageError : StoreError;
      return new Err('ERR_SYNC_CHECKPOINT_WRITE', `Cannot create the checkpoint's lock ${path}: ${pathProblem(err)}. No contact was sent.`, {
        hint: 'Pass --checkpoint <path> in a directory that exists and that you can write to.',
        cause: err,
      });
    },
    cannotRead(err) {
      return new StoreError('ERR_SYNC_CHECKPOINT_READ', `Cannot read the checkpoint's lock ${path}: ${(err as Error).message}.`, {
        hint: 'Make it readable; if no contacts sync of this file is running, delete it.',
        cause: err,
      });
    },
    // A lock file this run may not touch (another user's, in a sticky /tmp): named, with what to do.
    cannotTakeOver(file, err) {
      return new StoreError('ERR_SYNC_CHECKPOINT_WRITE', `Cannot take over the checkpoint's lock ${file}: ${(err as Error).message}. No contact was sent.`, {
        hint: `The run that left it is gone; delete ${file} as its owner (or root), or pass --checkpoint <path> elsewhere.`,
        cause: err,
      });
    },
    held({ owner, who, otherHost }) {
      return new UsageError('ERR_SYNC_CHECKPOINT_LOCKED', `Another contacts sync is using the checkpoint ${checkpointPath} (${who}); this run would overwrite it. No contact was sent.`, {
        hint: `Wait for that run to finish (it removes the checkpoint when done), or give this one its own --checkpoint <path> (parallel jobs: --shard i/n, which keeps one checkpoint per shard).${
          // A dead run on this host is detected and its lock taken over; elsewhere it cannot be told.
          !owner ? ` If no other sync is starting, run again with --break-lock.` : otherHost ? ` If it no longer runs on ${owner.host} (a replaced container or CI pod has a new host name), run again with --break-lock (and --resume to continue it).` : ''
        }`,
        details: { lock: path, ...(owner ? { holder: { pid: owner.pid, host: owner.host, input: owner.input, since: owner.since } } : {}) },
      });
    },
  };
}
