/**
 * The contacts sync pipeline (../shared/spec/cli.md §8), free of commander and rendering:
 *
 *   lock      take `<checkpoint>.lock` (checkpoint.ts): one run per checkpoint; held to the end
 *   scan      (scan.ts) read the file once: header, file-level errors, row count, id hashes,
 *             SHA-256; the parsed rows go to a private temporary spill (spill.ts), so the CSV
 *             is parsed once (without one, the sync pass parses the file again); a large
 *             file is read by two threads at once
 *   dedupe    (only if ids repeat) a second read for the exact last row of each repeated id
 *   schema    fetch the vendor's attribute schema once; warn about unknown attributes
 *   sync      read the rows again; rows → batches of `batchSize` rows of this shard; each batch is
 *             coerced, validated and delivered by one of `concurrency` workers; the reader
 *             waits for a free worker (back-pressure), so memory is bounded by
 *             concurrency × batchSize rows whatever the file size
 *   commit    per acknowledged batch, in one queue: report lines appended, then the
 *             checkpoint's next state (done batches, counts, report length) appended and
 *             fdatasync'ed (checkpoint.ts: the last whole line is the checkpoint)
 *
 * Batches are fixed blocks of the shard's rows (not of valid rows), so they are the same on
 * every run of the same file, which is what lets --resume skip exactly the acknowledged ones.
 */
import { CancelledError, CliError, UsageError } from '../cli/errors.js';
import type { ContactInput, ContactsApi, CustomAttribute } from '../vendors/types.js';
import type { ProcessProbe } from '../store/process-lock.js';
import { type Checkpoint, CHECKPOINT_VERSION, checkpointWriter, DoneSet, loadCheckpoint, lockCheckpoint, removeCheckpoint, type SyncCounts } from './checkpoint.js';
import { RowCode, schemaOf, toContact } from './coerce.js';
import { deliverBatch } from './deliver.js';
import { openReport, type ReportEntry, type ReportFile, reportLine, reportTargetProblem } from './report.js';
import { type RowRef, type Scan, scan, type ScanOptions, shardRows } from './scan.js';
import { fits } from './scan-part.js';

export const MAX_BATCH_SIZE = 1000;
/** Rejections kept in the summary (all of them go to --report). */
export const SAMPLE_SIZE = 20;

export interface EngineOptions extends ScanOptions {
  batchSize: number;
  concurrency: number;
  dryRun: boolean;
  reportPath: string | undefined;
  /** undefined: no checkpoint (dry runs). Held under its lock for the whole run (checkpoint.ts). */
  checkpointPath: string | undefined;
  /** Tells whether the holder of a checkpoint's lock still runs (default: the OS's answer). */
  probe?: ProcessProbe;
  /** --break-lock: take the checkpoint's lock over even from a holder that looks alive. */
  breakLock?: boolean;
  /** Set by runEngine from the lock: throws when another run took the checkpoint over. */
  lockCheck?: () => Promise<void>;
  resume: boolean;
  target: Checkpoint['target'];
  /** The vendor client, created only once the file passed the scan. */
  connect(): Promise<ContactsApi>;
  now(): Date;
  warn(message: string): void;
  info(message: string): void;
  /** Rows accounted for so far, out of `total` rows in this shard. */
  progress?(done: number, total: number): void;
  /** Called once the scan knows the total (to start a progress bar). */
  started?(total: number): void;
}

export interface RejectionSample {
  row: number;
  line: number;
  externalId: string;
  code: string;
  message: string;
}

export interface EngineResult extends SyncCounts {
  dryRun: boolean;
  resumed: boolean;
  /** Batches skipped because an earlier run acknowledged them. */
  skippedBatches: number;
  /** Rows of the file that belong to other shards (not counted in `read`). */
  otherShards: number;
  /** Blank lines in the file (nothing between two line ends): skipped, not rows, so not in `read`. */
  blankLines: number;
  report: string | null;
  checkpoint: string | null;
  ignoredColumns: string[];
  unknownAttributes: string[];
  rejections: RejectionSample[];
}

interface Batch {
  index: number;
  rows: number;
  duplicates: number;
  entries: ReportEntry[];
  contacts: ContactInput[];
  refs: RowRef[];
}

function emptyCounts(): SyncCounts {
  return { read: 0, synced: 0, rejected: 0, duplicates: 0, batches: 0, requests: 0, retries: 0 };
}

/** Run a sync; throws CliError for file-level problems (exit 2) and fatal failures. */
export async function runEngine(o: EngineOptions): Promise<EngineResult> {
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1 || o.batchSize > MAX_BATCH_SIZE) throw new UsageError('ERR_SYNC_BATCH_SIZE', `--batch-size must be 1..${MAX_BATCH_SIZE}.`, { hint: `The vendors take at most ${MAX_BATCH_SIZE} contacts per request; leave --batch-size out for that.` });

  // 0. The checkpoint is a file chatid replaces (rename) and deletes: a device or pipe named
  // by --checkpoint (/dev/null, as root, would be replaced by a file, then deleted; a pipe
  // hung the run in its first read) is refused before its lock is made beside it.
  if (o.checkpointPath && !o.dryRun) {
    const { stat } = await import('node:fs/promises');
    const st = await stat(o.checkpointPath).catch(() => undefined);
    if (st && !st.isFile() && !st.isDirectory()) {
      throw new UsageError('ERR_SYNC_CHECKPOINT_READ', `Cannot use the checkpoint ${o.checkpointPath}: it is not a regular file (a device such as /dev/null, or a pipe), and a checkpoint is a file chatid replaces and deletes.`, {
        hint: 'Pass --checkpoint a file path (it need not exist yet) in a directory you can write to.',
      });
    }
  }
  // Then it is this run's alone, before anything else: a second run of the same file and
  // flags stops here (exit 2) instead of starting over under a live one.
  const lock =
    o.checkpointPath && !o.dryRun
      ? await lockCheckpoint(o.checkpointPath, {
          input: o.inputName,
          now: o.now,
          ...(o.probe ? { probe: o.probe } : {}),
          force: o.breakLock === true,
          onForce: (holder) => o.warn(`--break-lock: took over the checkpoint's lock from ${holder}; if that run still goes, the two write over each other's checkpoint.`),
        })
      : undefined;
  try {
    // 1. Everything about the file is checked before the network is touched.
    const t0 = o.now().getTime();
    const s = await scan(o);
    try {
      return await syncScanned(lock ? { ...o, lockCheck: () => lock.check() } : o, s, t0);
    } finally {
      s.spill?.close();
    }
  } finally {
    await lock?.release().catch(() => undefined);
  }
}

/** The checkpoint, written and removed only while the lock is still this run's. */
interface OwnCheckpoint {
  save(cp: Checkpoint): Promise<void>;
  remove(path: string): Promise<void>;
}

/** Everything after the scan, with the checkpoint's writer (closed however it ends). */
async function syncScanned(o: EngineOptions, s: Scan, t0: number): Promise<EngineResult> {
  const writer = o.checkpointPath && !o.dryRun ? checkpointWriter(o.checkpointPath) : undefined;
  const own: OwnCheckpoint = {
    async save(cp) {
      await o.lockCheck?.();
      await writer?.save(cp);
    },
    async remove(path) {
      await writer?.close();
      await o.lockCheck?.();
      await removeCheckpoint(path);
    },
  };
  try {
    return await syncWith(o, s, t0, own);
  } finally {
    await writer?.close();
  }
}

/** Resume bookkeeping, local files, schema, the sync itself. */
async function syncWith(o: EngineOptions, s: Scan, t0: number, own: OwnCheckpoint): Promise<EngineResult> {
  o.verbose?.(
    `scanned ${o.inputName}: ${s.bytes} bytes${s.parts === 2 ? ' in two parts at once' : ''}${s.spill ? ` (rows kept in a ${s.spill.size}-byte temporary spill)` : ''}, ${s.rows} rows${s.blankLines ? ` (and ${s.blankLines} blank lines, skipped)` : ''}${o.shard ? ` in this shard (${s.otherShards} in others)` : ''}, ${s.map.attributes.length} attribute columns, sha256 ${s.sha256.slice(0, 12)}…, ${o.now().getTime() - t0} ms`,
  );

  // 2. Resume bookkeeping.
  let base = emptyCounts();
  let done = new DoneSet();
  let resumed = false;
  let reportBytes: number | undefined;
  let reportPath = o.reportPath;
  const shardText = o.shard ? `${o.shard.index + 1}/${o.shard.count}` : null;
  if (o.checkpointPath) {
    const cp = await loadCheckpoint(o.checkpointPath);
    if (cp && o.resume) {
      const mismatch =
        cp.input.sha256 !== s.sha256 || cp.input.bytes !== s.bytes
          ? o.inputName === 'stdin'
            ? `the CSV on stdin is not the one that run read (${s.bytes !== cp.input.bytes ? `${s.bytes} bytes now, ${cp.input.bytes} then` : 'the same size, other bytes'}); pipe in the same data`
            : 'the input file changed'
          : cp.batchSize !== o.batchSize
            ? `--batch-size was ${cp.batchSize}`
            : cp.shard !== shardText
              ? `--shard was ${cp.shard ?? '(none)'}`
              : cp.target.baseUrl !== o.target.baseUrl || cp.target.agentId !== o.target.agentId || cp.target.provider !== o.target.provider
                ? `the target was ${cp.target.provider} ${cp.target.baseUrl} agent ${cp.target.agentId}`
                : o.reportPath !== undefined && cp.report !== null && cp.report.path !== o.reportPath
                  ? `--report was ${cp.report.path}`
                  : o.reportPath !== undefined && cp.report === null
                    ? 'it ran without --report, so the report would miss the rows it already rejected'
                    : undefined;
      if (mismatch) {
        throw new UsageError('ERR_SYNC_RESUME_MISMATCH', `Cannot resume from ${o.checkpointPath}: ${mismatch}.`, {
          hint: 'Resume with the same file and flags, or run without --resume to start over (rows are upserts: re-sending them is safe).',
        });
      }
      base = { ...cp.counts };
      done = new DoneSet(cp.doneBelow, cp.doneAbove);
      resumed = true;
      if (cp.report) {
        reportPath ??= cp.report.path;
        reportBytes = cp.report.bytes;
      }
      o.info(`Resuming: ${cp.counts.read} rows already done (${cp.counts.synced} synced) according to ${o.checkpointPath}.`);
    } else if (cp && !o.resume) {
      o.warn(`${o.checkpointPath} holds the checkpoint of an interrupted run; starting over (pass --resume to continue it instead).`);
      // Gone now, not at the first commit: a kill before then must not leave it pointing at a report this run truncates.
      await own.remove(o.checkpointPath);
    } else if (!cp && o.resume) {
      o.info(`No checkpoint at ${o.checkpointPath}: starting from the beginning.`);
    }
  }

  // Local files next, still before any vendor write: a report or checkpoint path that cannot
  // be written fails now, not after the first batch went out.
  let report: ReportFile | undefined;
  if (reportPath) {
    const problem = await reportTargetProblem(reportPath);
    if (problem !== undefined) {
      throw new UsageError('ERR_SYNC_REPORT_WRITE', `Cannot write the report ${reportPath}: ${problem}. No contact was sent.`, {
        hint: 'Pass --report a path such as rejected.csv (a new file, or one chatid may overwrite).',
      });
    }
    try {
      report = await openReport(reportPath, s.header, reportBytes);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = e.code === 'ENOENT' ? 'no such directory, or one that cannot hold files' : e.code === 'EISDIR' ? 'it is a directory' : e.code === 'EACCES' ? 'permission denied' : e.message;
      throw new UsageError('ERR_SYNC_REPORT_WRITE', `Cannot write the report ${reportPath}: ${why}. No contact was sent.`, {
        hint: 'Pass --report a file path in a directory that exists and that you can write to.',
        cause: err,
      });
    }
    if (reportBytes !== undefined && report.restarted) {
      o.warn(`${reportPath} is missing or shorter than the checkpoint says; it was started again and lacks the rows rejected before the interruption.`);
    }
  }
  const snapshot = (counts: SyncCounts): Checkpoint => ({
    version: CHECKPOINT_VERSION,
    input: { name: o.inputName, bytes: s.bytes, sha256: s.sha256 },
    target: o.target,
    batchSize: o.batchSize,
    shard: shardText,
    doneBelow: done.below,
    doneAbove: done.list(),
    // A copy: the checkpoint is written a moment later, and the counts must stay those of
    // the done set above, whatever batches are recorded meanwhile.
    counts: { ...counts },
    report: report ? { path: report.path, bytes: report.bytes } : null,
    updatedAt: o.now().toISOString(),
  });
  try {
    if (o.checkpointPath && !o.dryRun) await own.save(snapshot(base));
  } catch (err) {
    await report?.close();
    throw err;
  }

  // 3. The schema, once; warnings before any write.
  // A dry run of a file without attribute columns needs no vendor at all (a CI lint step
  // without credentials); everything else talks to it.
  let api: ContactsApi;
  let attributes: CustomAttribute[];
  try {
    api = o.dryRun && s.map.attributes.length === 0 ? offline() : await o.connect();
    attributes = s.map.attributes.length ? await api.listAttributes({ signal: o.signal }) : [];
  } catch (err) {
    // Nothing was sent: close the report, and drop a checkpoint this run created.
    await report?.close();
    if (o.checkpointPath && !o.dryRun && !resumed) await own.remove(o.checkpointPath).catch(() => undefined);
    throw err;
  }
  const stats0 = { requests: 0, retries: 0 }; // the schema fetch counts too
  const schema = schemaOf(attributes);
  if (s.map.attributes.length) o.verbose?.(`vendor schema: ${attributes.map((a) => `${a.name}:${a.type}${a.archived ? ' (archived)' : ''}`).join(', ') || '(no attributes)'}`);
  const unknownAttributes = s.map.attributes.filter((a) => !schema.has(a.name)).map((a) => a.name);
  const ignoredColumns = s.map.ignored.map((c) => c.header);
  if (ignoredColumns.length) {
    o.warn(`Column${ignoredColumns.length > 1 ? 's' : ''} ${ignoredColumns.map((c) => `"${c}"`).join(', ')} ${ignoredColumns.length > 1 ? 'are' : 'is'} not a contact field and will not be sent. Rename to attr.<name> to sync as a custom attribute.`);
  }
  for (const w of unknownAttributeWarnings(unknownAttributes, attributes)) o.warn(w);
  for (const a of s.map.attributes) {
    if (schema.get(a.name)?.archived) o.warn(`Attribute "${a.name}" is archived: rows that set it to anything but null will be rejected.`);
  }

  // 4. Sync.
  const counts = { ...base };
  const rejections: RejectionSample[] = [];
  o.started?.(s.rows);
  o.progress?.(counts.read, s.rows);

  const controller = new AbortController();
  let fatal: unknown;
  const stop = (err: unknown): void => {
    fatal ??= err;
    controller.abort(err);
  };
  const onOuterAbort = (): void => stop(new CancelledError('Interrupted.', { hint: resumeHint(o) }));
  if (o.signal.aborted) onOuterAbort();
  o.signal.addEventListener('abort', onOuterAbort, { once: true });

  let commitChain: Promise<void> = Promise.resolve();
  let skippedBatches = 0;

  const sample = (e: ReportEntry, id: string): void => {
    if (e.status === 'rejected' && rejections.length < SAMPLE_SIZE) rejections.push({ row: e.row, line: e.line, externalId: id, code: e.code, message: e.message });
  };

  // Commit, in two steps. `record` runs in one queue, in the order batches are acknowledged:
  // report lines appended, counts and the done set updated. `persist` then makes that durable:
  // report synced, checkpoint written. Writes are coalesced: acknowledgements that arrive while
  // a checkpoint is being written share the next write instead of queueing one fsync each.
  // Each worker still waits until its batch is in a written checkpoint before it takes the
  // next batch, so a kill re-sends at most the one batch per worker that was in flight.
  let recorded = 0; // batches recorded so far
  let persisted = 0; // batches covered by the last checkpoint written
  let writing: Promise<void> | undefined;
  const record = async (b: Batch, stored: number, refused: ReportEntry[]): Promise<number> => {
    const entries = refused.length ? [...b.entries, ...refused].sort((x, y) => x.row - y.row) : b.entries;
    if (report && entries.length) await report.append(entries.map(reportLine).join(''));
    for (const e of entries) sample(e, e.cells[s.map.externalId] ?? '');
    counts.read += b.rows;
    counts.synced += stored;
    counts.duplicates += b.duplicates;
    counts.rejected += entries.length - b.duplicates;
    if (b.contacts.length) counts.batches++;
    counts.requests = base.requests + (api.stats.requests - stats0.requests);
    counts.retries = base.retries + (api.stats.retries - stats0.retries);
    done.add(b.index);
    o.progress?.(counts.read, s.rows);
    return ++recorded;
  };
  const persist = async (upTo: number): Promise<void> => {
    if (!o.checkpointPath || o.dryRun) return;
    while (persisted < upTo) {
      if (writing) {
        await writing; // it may not cover `upTo`: look again once it is done
        continue;
      }
      // The snapshot is taken now, before the report is synced: it names no byte the sync misses.
      const cp = snapshot(counts);
      const covers = recorded;
      writing = (async () => {
        await report?.sync();
        await own.save(cp);
      })();
      try {
        await writing;
        persisted = Math.max(persisted, covers);
      } finally {
        writing = undefined;
      }
    }
  };

  const work = async (b: Batch): Promise<void> => {
    let storedCount = b.contacts.length;
    const refused: ReportEntry[] = [];
    if (!o.dryRun && b.contacts.length) {
      const r = await deliverBatch(api, b.contacts, controller.signal);
      storedCount = r.stored.length;
      for (const [i, why] of r.refused) {
        const ref = b.refs[i]!;
        refused.push({ row: ref.row, line: ref.line, status: 'rejected', code: why.code, message: why.message, cells: ref.cells });
      }
    }
    if (fatal) return; // never commit after a stop: the checkpoint must only hold what is sure
    const next = commitChain.then(() => record(b, storedCount, refused));
    commitChain = next.then(
      () => undefined,
      () => undefined,
    );
    await persist(await next);
  };

  const inflight = new Set<Promise<void>>();
  const dispatch = async (b: Batch): Promise<void> => {
    if (done.has(b.index)) {
      skippedBatches++;
      return;
    }
    while (inflight.size >= o.concurrency) await Promise.race(inflight);
    if (fatal) return;
    const p: Promise<void> = work(b)
      .catch(stop)
      .finally(() => inflight.delete(p));
    inflight.add(p);
  };

  try {
    let shardIdx = 0;
    let batch: Batch | undefined;
    const idAt = s.map.externalId;
    const width = s.header.length;
    const entry = (r: RowRef, status: ReportEntry['status'], code: string, message: string): ReportEntry => ({ row: r.row, line: r.line, status, code, message, cells: r.cells });
    read: for await (const chunk of shardRows(o, s.spill, idAt, s.bytes)) {
      for (const r of chunk) {
        if (fatal) break read;
        const id = r.cells[idAt] ?? '';
        const index = Math.floor(shardIdx++ / o.batchSize);
        if (batch && batch.index !== index) {
          await dispatch(batch);
          batch = undefined;
        }
        batch ??= { index, rows: 0, duplicates: 0, entries: [], contacts: [], refs: [] };
        batch.rows++;
        if (done.has(index)) continue; // acknowledged by an earlier run: only counted, never re-read
        if (!fits(r.cells, width)) {
          batch.entries.push(entry(r, 'rejected', RowCode.ragged, `The row has ${r.cells.length} cell${r.cells.length === 1 ? '' : 's'}; the header has ${width}.`));
          continue;
        }
        const later = id === '' ? undefined : s.dupes.supersededBy(id, r.row);
        if (later !== undefined) {
          batch.duplicates++;
          batch.entries.push(entry(r, 'duplicate', RowCode.duplicate, `External id "${id}" appears again on row ${later}, which wins.`));
          continue;
        }
        const c = toContact(r.cells, s.map, schema);
        if (!c.ok) {
          batch.entries.push(entry(r, 'rejected', c.code, c.message));
          continue;
        }
        batch.contacts.push(c.contact);
        batch.refs.push(r);
      }
    }
    if (batch && !fatal) await dispatch(batch);
    await Promise.allSettled([...inflight]);
    await commitChain;
  } catch (err) {
    stop(err);
    await Promise.allSettled([...inflight]);
  } finally {
    o.signal.removeEventListener('abort', onOuterAbort);
    await report?.close();
  }

  if (fatal) {
    const err = fatal instanceof CliError ? fatal : undefined;
    // A fresh run that got no batch acknowledged leaves no checkpoint behind (a wrong key
    // should not litter the directory); otherwise the checkpoint stays for --resume.
    const nothingDone = !resumed && done.below === 0 && done.list().length === 0;
    const keeps = Boolean(o.checkpointPath) && !o.dryRun && !nothingDone;
    if (o.checkpointPath && !o.dryRun && nothingDone) await own.remove(o.checkpointPath).catch(() => undefined);
    if (err && !(err instanceof UsageError)) {
      // Say how far it got (also under --json: the error document carries the counts).
      const progress = { read: counts.read, synced: counts.synced, rejected: counts.rejected, duplicates: counts.duplicates, total: s.rows };
      const extra = keeps ? `${counts.read} of ${s.rows} rows were done and checkpointed in ${o.checkpointPath}; run the same command with --resume to continue.` : undefined;
      let hint = extra && !err.hint?.includes('--resume') ? (err.hint ? `${err.hint} ${extra}` : extra) : err.hint;
      if (err instanceof CancelledError && !keeps) hint = 'No batch was acknowledged yet; run the command again.';
      throw Object.assign(err, { hint, details: { ...err.details, progress } });
    }
    throw fatal;
  }

  if (o.checkpointPath && !o.dryRun) await own.remove(o.checkpointPath);
  counts.requests = base.requests + (api.stats.requests - stats0.requests);
  counts.retries = base.retries + (api.stats.retries - stats0.retries);
  return {
    ...counts,
    dryRun: o.dryRun,
    resumed,
    skippedBatches,
    otherShards: s.otherShards,
    blankLines: s.blankLines,
    report: report?.path ?? null,
    checkpoint: o.checkpointPath && !o.dryRun ? o.checkpointPath : null,
    ignoredColumns,
    unknownAttributes,
    rejections,
  };
}

/**
 * The warnings for attribute columns the schema lacks (their values are not sent). A column
 * whose name differs from a schema attribute only by case (or - for _) names that attribute:
 * creating another one, as the general advice says, would split the data in two.
 * @example unknownAttributeWarnings(['Plan'], [{ name: 'plan', type: 'text' }]) // ['Attribute "Plan" is not in the vendor's schema, which has "plan" …']
 */
export function unknownAttributeWarnings(unknown: readonly string[], schema: readonly CustomAttribute[]): string[] {
  const fold = (name: string): string => name.toLowerCase().replace(/-/g, '_');
  const byFold = new Map(schema.map((a) => [fold(a.name), a.name]));
  const out: string[] = [];
  const missing: string[] = [];
  for (const name of unknown) {
    const near = byFold.get(fold(name));
    if (near === undefined) missing.push(name);
    else out.push(`Attribute "${name}" is not in the vendor's schema, which has "${near}" (names are case-sensitive), and will not be sent. Rename the column to attr.${near} and sync again.`);
  }
  if (missing.length) {
    const many = missing.length > 1;
    out.unshift(
      `Attribute${many ? 's' : ''} ${missing.map((a) => `"${a}"`).join(', ')} ${many ? 'are' : 'is'} not in the vendor's schema and will not be sent (vendors drop unknown attributes silently). ${
        many ? `Create each with \`chatid attributes create --name <name> --type text|number|boolean|date\`` : `Create it with \`chatid attributes create --name ${missing[0]} --type text|number|boolean|date\``
      } and sync again.`,
    );
  }
  return out;
}

function offline(): ContactsApi {
  const refuse = (): never => {
    throw new Error('a dry run without attribute columns never calls the vendor');
  };
  return { stats: { requests: 0, retries: 0, waitedMs: 0 }, upsertContacts: refuse, listAttributes: refuse };
}

function resumeHint(o: EngineOptions): string {
  return o.checkpointPath && !o.dryRun ? `Run the same command with --resume to continue from ${o.checkpointPath}.` : 'Run the command again.';
}
