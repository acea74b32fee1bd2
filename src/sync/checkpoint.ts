/**
 * The checkpoint of contacts sync: which batches the vendor acknowledged, the counts so far
 * and how long the report was at that moment. Written atomically (temp file + rename, 0600)
 * after every acknowledged batch, so a crash or SIGKILL leaves the last good state.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
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
    throw new StoreError('ERR_SYNC_CHECKPOINT_WRITE', `Cannot write the checkpoint ${path}: ${(err as Error).message}.`, {
      hint: 'Pass --checkpoint <path> in a writable directory.',
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
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
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

/** Remove the checkpoint and any temp file a killed writer left next to it. */
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
