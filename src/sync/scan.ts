/**
 * The scan of contacts sync (engine.ts, step 1): read the file once for its header, file-level
 * errors, row count, id hashes and SHA-256, keeping the parsed rows in a spill (spill.ts) for
 * the sync pass; then, only if ids repeat, a pass over the spill for the last row of each.
 *
 * A large file (a path, at least PARALLEL_MIN_BYTES) is read in two parts at once: the main
 * thread reads the first half, a worker thread (scan-worker.ts) the second, from the first
 * line end after the middle. That cut is a guess: a line end inside a quoted field is not
 * between records. The first part is therefore read as a text that must end between records
 * (csv-reader's `final: false`); if it ends inside quotes, the guess was wrong, and the file is
 * read again in one part. The worker's part is only ever an accelerator: if it fails for any
 * reason, the main thread reads that part itself (so errors are reported as in one part,
 * with the file's line numbers). Both ways give the same rows, numbers and errors
 * (scan.test.ts checks this on generated files).
 */
import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { Worker } from 'node:worker_threads';
import { CancelledError, StoreError, UsageError } from '../cli/errors.js';
import { type ColumnMap, type HeaderProblem, mapHeader } from './columns.js';
import { BlankLineSeen, type ByteSource, fileChunks, readCsvBatches, SplitInQuotes } from './csv-reader.js';
import { DuplicateIndex } from './dedupe.js';
import { fits, inShard, type Layout, type PartOptions, type PartResult, scanPart } from './scan-part.js';
import { SCAN_WORKER_PROTOCOL, type ScanWorkerData, type ScanWorkerResult } from './scan-worker.js';
import type { Shard } from './shard.js';
import { Spill, SpillChain, type SpillFrame } from './spill.js';

/** Files smaller than this are read in one part (a worker costs ~30 ms to start). */
export const PARALLEL_MIN_BYTES = 8 << 20;
/** How far past the middle a line end is looked for. */
const SPLIT_WINDOW = 1 << 20;
const CHUNK = 1 << 16;

export interface ScanOptions {
  /**
   * A fresh byte source of the input, for each pass; `end`: stop at that byte (the sync pass
   * reads what the scan read, even if the file has grown since).
   */
  openInput(end?: number): ByteSource;
  /** The input as a regular file, when it is one: lets the scan read it in two parts at once. */
  inputPath?: string | undefined;
  /** The worker script (dist/scan-worker.js); undefined: the scan reads in one part. */
  scanWorker?: string | undefined;
  /** Files from this size are read in two parts (default PARALLEL_MIN_BYTES; smaller in tests). */
  parallelMinBytes?: number | undefined;
  /** Where the scan keeps the rows it parsed; undefined: the sync pass parses the file again. */
  spillDir?: string | undefined;
  /** The spill's cap (default MAX_SPILL_BYTES; smaller in tests). */
  spillMaxBytes?: number | undefined;
  /** csv-reader's record size limit (default MAX_RECORD_BYTES; smaller in tests). */
  maxRecordBytes?: number | undefined;
  inputName: string;
  shard: Shard | undefined;
  signal: AbortSignal;
  verbose?(message: string): void;
}

export interface Scan {
  header: string[];
  map: ColumnMap;
  rows: number;
  otherShards: number;
  blankLines: number;
  bytes: number;
  sha256: string;
  dupes: DuplicateIndex;
  /** The rows of this shard as the scan parsed them, when they could be kept. */
  spill: SpillChain | undefined;
  /** 2: read by two threads. */
  parts: 1 | 2;
}

export interface RowRef {
  row: number;
  line: number;
  cells: string[];
}

/**
 * The scan reads the file `fast` first (csv-parse without its raw record text, which costs
 * ~15 % of the parsing); a file with a blank line before its end is read again the sure way,
 * since a fast read cannot say where a skipped blank line was (csv-reader.ts).
 */
export async function scan(o: ScanOptions): Promise<Scan> {
  for (const fast of [true, false]) {
    try {
      if (o.scanWorker !== undefined && o.inputPath !== undefined) {
        const two = await scanOpenFile(o, fast, o.inputPath, o.scanWorker);
        if (two) return two;
      }
      return await scanOnePart(o, fast);
    } catch (err) {
      if (fast && err instanceof BlankLineSeen) {
        o.verbose?.(`${o.inputName} has a blank line before its end: reading it again with line tracking`);
        continue;
      }
      throw err;
    }
  }
  throw new Error('unreachable: the second scan is not fast');
}

/**
 * The scan in two parts when the file is large enough and a cut is found; undefined: read it
 * in one part. The file is opened once and read to the size it has now, from both threads, so
 * what is parsed and what is hashed are the same bytes even if it grows meanwhile.
 */
async function scanOpenFile(o: ScanOptions, fast: boolean, path: string, script: string): Promise<Scan | undefined> {
  const { open } = await import('node:fs/promises');
  const fh = await open(path, 'r');
  try {
    const cut = await cutOf(fh, o.parallelMinBytes ?? PARALLEL_MIN_BYTES);
    if (!cut) return undefined;
    try {
      return await scanTwoParts(o, fast, fh.fd, script, cut);
    } catch (err) {
      if (!(err instanceof SplitInQuotes)) throw err;
      o.verbose?.(`${o.inputName}: the line end after its middle is inside a quoted field; reading it in one part`);
      return undefined;
    }
  } finally {
    await fh.close(); // after scanTwoParts stopped its worker, which reads this descriptor
  }
}

/** The byte after the first line end past the middle of a large file (undefined: read in one part). */
async function cutOf(fh: FileHandle, min: number): Promise<{ at: number; size: number } | undefined> {
  const { size } = await fh.stat();
  if (size < min) return undefined;
  const mid = Math.floor(size / 2);
  const buf = Buffer.allocUnsafe(Math.min(SPLIT_WINDOW, size - mid));
  const { bytesRead } = await fh.read(buf, 0, buf.length, mid);
  const k = buf.subarray(0, bytesRead).indexOf(0x0a);
  const at = k < 0 ? -1 : mid + k + 1;
  return at > 0 && at < size ? { at, size } : undefined;
}

/** The header's layout, or the error that says what is wrong with it. */
function layoutOf(o: ScanOptions, header: string[]): { map: ColumnMap; layout: Layout } {
  const m = mapHeader(header);
  if (!m.ok) throw headerError(o, header, m.problem);
  return { map: m.map, layout: { idAt: m.map.externalId, width: header.length } };
}

/** The options of the part that starts with the header; `mapped` sees the header's mapping. */
function headerPart(o: ScanOptions, fast: boolean, final: boolean, tap: (chunk: Buffer) => void, mapped: (l: { map: ColumnMap; layout: Layout }) => void): PartOptions {
  return {
    signal: o.signal,
    fast,
    final,
    tap,
    shard: o.shard,
    maxRecordBytes: o.maxRecordBytes,
    header: (cells) => {
      const l = layoutOf(o, cells);
      mapped(l);
      return l.layout;
    },
  };
}

/** A spill for `share` of the file, or undefined (said under --verbose) when it cannot be made. */
async function newSpill(o: ScanOptions, share: number): Promise<Spill | undefined> {
  if (o.spillDir === undefined) return undefined;
  try {
    return await Spill.create(o.spillDir, o.spillMaxBytes, share);
  } catch (err) {
    noSpill(o, err);
    return undefined;
  }
}

function noSpill(o: ScanOptions, err: unknown): void {
  o.verbose?.(`cannot keep the parsed rows in a temporary file (${(err as Error).message}): the file will be parsed again for the sync`);
}

function hashTap(): { hash: Hash; tap: (chunk: Buffer) => void; bytes: () => number } {
  const hash = createHash('sha256');
  let bytes = 0;
  return {
    hash,
    tap: (chunk) => {
      hash.update(chunk);
      bytes += chunk.length;
    },
    bytes: () => bytes,
  };
}

async function scanOnePart(o: ScanOptions, fast: boolean): Promise<Scan> {
  let spill = await newSpill(o, 1);
  const sha = hashTap();
  let map: ColumnMap | undefined;
  try {
    const part = await scanPart(o.openInput(), {
      ...headerPart(o, fast, true, sha.tap, (l) => (map = l.map)),
      spill,
      dropSpill: (err) => {
        spill?.close();
        spill = undefined;
        noSpill(o, err);
      },
    });
    const chain = spill ? new SpillChain([{ spill, rows: 0, lines: 0 }]) : undefined;
    return await finish(o, map, part, { sha256: sha.hash.digest('hex'), bytes: sha.bytes(), chain, parts: 1 });
  } catch (err) {
    spill?.close();
    throw err;
  }
}

/** The scan in two parts; undefined: the first half holds no header, read the file in one part. */
async function scanTwoParts(o: ScanOptions, fast: boolean, fd: number, script: string, cut: { at: number; size: number }): Promise<Scan | undefined> {
  const share = cut.at / cut.size;
  const first = await newSpill(o, share);
  const second = first ? await newSpill(o, 1 - share) : undefined;
  // Spills are closed only once the worker is stopped: it writes into the second one's file.
  let keep = first !== undefined && second !== undefined;
  const dropSpills = (err: unknown): void => {
    if (keep) noSpill(o, err);
    keep = false;
  };
  const sha = hashTap();
  let map: ColumnMap | undefined;
  let layout: Layout | undefined;
  let worker: WorkerRun | undefined;
  let done = false;
  try {
    const a = await scanPart(fileChunks(fd, CHUNK, { start: 0, end: cut.at }), {
      ...headerPart(o, fast, false, sha.tap, (l) => {
        map = l.map;
        layout = l.layout;
        const data: ScanWorkerData = {
          protocol: SCAN_WORKER_PROTOCOL,
          fd,
          start: cut.at,
          end: cut.size,
          fast,
          layout: l.layout,
          shard: o.shard,
          maxRecordBytes: o.maxRecordBytes,
          spill: keep ? second?.target : undefined,
        };
        worker = startWorker(script, data, o.signal);
      }),
      spill: keep ? first : undefined,
      dropSpill: dropSpills,
    });
    // No header in the first half (it is all blank lines): read in one part.
    if (!layout || !worker) return undefined;
    // The rest of the file's hash while the worker parses it.
    const hashed = await hashRange(fd, cut, sha.tap, o.signal);
    let r = await (worker as WorkerRun).result;
    if (o.signal.aborted) throw new CancelledError('Interrupted.');
    if (!r.ok && r.blankLine && fast) throw new BlankLineSeen(); // read both parts again the sure way
    // A worker of another build, or a file cut short meanwhile: read the part here instead.
    if (r.ok && r.protocol !== SCAN_WORKER_PROTOCOL) r = { ok: false, error: `it speaks protocol ${String(r.protocol)}, not ${SCAN_WORKER_PROTOCOL}` };
    else if (r.ok && r.bytes !== hashed) r = { ok: false, error: `it read ${r.bytes} bytes of the ${hashed} hashed` };
    let b: Omit<PartResult, 'header' | 'hashes' | 'end'>;
    let moved = { rows: 0, lines: 0 };
    if (r.ok) {
      if (r.spillError !== undefined) dropSpills(new Error(r.spillError));
      else if (keep && r.spill) second!.adopt(r.spill);
      a.hashes.pushAll(r.hashes);
      b = r;
      moved = { rows: a.dataRows, lines: a.end.line - 1 };
    } else {
      o.verbose?.(`the worker reading the second half of ${o.inputName} failed (${r.error}); reading it here`);
      await (worker as WorkerRun).stop();
      second?.clear();
      const part = await scanPart(fileChunks(fd, CHUNK, { start: cut.at, end: cut.size }), {
        signal: o.signal,
        fast,
        final: true,
        from: a.end,
        rowBase: a.dataRows,
        shard: o.shard,
        maxRecordBytes: o.maxRecordBytes,
        layout,
        spill: keep ? second : undefined,
        dropSpill: dropSpills,
      });
      a.hashes.pushAll(part.hashes.values);
      b = part;
    }
    const whole: PartResult = {
      header: a.header,
      dataRows: a.dataRows + b.dataRows,
      rows: a.rows + b.rows,
      otherShards: a.otherShards + b.otherShards,
      blankLines: a.blankLines + b.blankLines,
      hashes: a.hashes,
      end: a.end, // not used past here
    };
    await (worker as WorkerRun).stop();
    const chain = keep
      ? new SpillChain([
          { spill: first!, rows: 0, lines: 0 },
          { spill: second!, ...moved },
        ])
      : undefined;
    const scanned = await finish(o, map, whole, { sha256: sha.hash.digest('hex'), bytes: sha.bytes(), chain, parts: r.ok ? 2 : 1 });
    done = true;
    return scanned;
  } finally {
    await worker?.stop();
    if (!done || !keep) {
      first?.close();
      second?.close();
    }
  }
}

/** Feed the bytes from `cut.at` to `cut.size` to `tap`; returns how many there were. */
async function hashRange(fd: number, cut: { at: number; size: number }, tap: (chunk: Buffer) => void, signal: AbortSignal): Promise<number> {
  let n = 0;
  for await (const chunk of fileChunks(fd, 1 << 20, { start: cut.at, end: cut.size })) {
    if (signal.aborted) throw new CancelledError('Interrupted.');
    tap(chunk);
    n += chunk.length;
  }
  return n;
}

interface WorkerRun {
  result: Promise<ScanWorkerResult>;
  stop(): Promise<void>;
}

/**
 * Start the worker; its result is a failure (never a rejection) if it cannot start, dies or is
 * stopped (an abort stops it at once).
 */
function startWorker(script: string, data: ScanWorkerData, signal: AbortSignal): WorkerRun {
  let worker: Worker | undefined;
  let stopped = false;
  const stop = async (): Promise<void> => {
    stopped = true;
    signal.removeEventListener('abort', onAbort);
    await worker?.terminate();
  };
  const onAbort = (): void => void stop();
  signal.addEventListener('abort', onAbort, { once: true });
  const result = (async (): Promise<ScanWorkerResult> => {
    try {
      const { Worker } = await import('node:worker_threads');
      if (stopped) return { ok: false, error: 'stopped' };
      const w = new Worker(script, { workerData: data, stdout: true, stderr: true });
      worker = w;
      return await new Promise<ScanWorkerResult>((resolve) => {
        w.once('message', (m: ScanWorkerResult) => resolve(m));
        w.once('error', (err) => resolve({ ok: false, error: err.message }));
        w.once('exit', (code) => resolve({ ok: false, error: `it exited with code ${code}` }));
      });
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  })();
  return { result, stop };
}

/** After the read: the second pass for repeated ids, if any. */
async function finish(
  o: ScanOptions,
  map: ColumnMap | undefined,
  part: PartResult,
  f: { sha256: string; bytes: number; chain: SpillChain | undefined; parts: 1 | 2 },
): Promise<Scan> {
  const header = part.header;
  if (!header || !map) {
    throw new UsageError('ERR_SYNC_EMPTY_FILE', `${o.inputName} is empty: there is no header row.`, {
      hint: 'A contacts CSV starts with a header such as external_id,name,email (see examples/contacts.csv).',
    });
  }
  const dupes = new DuplicateIndex(part.hashes.repeated());
  if (dupes.needsSecondScan) {
    const width = header.length;
    const idAt = map.externalId;
    for await (const chunk of shardRows(o, f.chain, idAt, f.bytes)) {
      for (const r of chunk) {
        const id = r.cells[idAt] ?? '';
        if (id !== '' && fits(r.cells, width) && dupes.isCandidate(id)) dupes.see(id, r.row);
      }
    }
  }
  return { header, map, rows: part.rows, otherShards: part.otherShards, blankLines: part.blankLines, bytes: f.bytes, sha256: f.sha256, dupes, spill: f.chain, parts: f.parts };
}

/**
 * The data rows of one read of the file, a chunk's worth at a time, numbered as data rows
 * (row 1 = first record after the header). The header comes first, in its own batch.
 */
async function* dataRows(o: ScanOptions, source: ByteSource): AsyncGenerator<{ header: string[] | undefined; rows: RowRef[] }> {
  let header: string[] | undefined;
  let row = 0;
  const make = (cells: string[], line: number): RowRef => ({ row: 0, line, cells });
  for await (const recs of readCsvBatches(source, { signal: o.signal, make, maxRecordBytes: o.maxRecordBytes })) {
    let rows = recs;
    if (!header) {
      header = recs[0]!.cells;
      yield { header, rows: [] };
      rows = recs.slice(1);
    }
    for (const r of rows) r.row = ++row;
    if (rows.length) yield { header, rows };
  }
}

/**
 * The data rows of this shard, a chunk at a time: from the spill when there is one, else
 * parsed from the file again.
 */
export async function* shardRows(o: ScanOptions, spill: SpillChain | undefined, idAt: number, bytes?: number): AsyncGenerator<RowRef[]> {
  if (spill) {
    const frames = spill.frames();
    for (;;) {
      // Ctrl-C stops here as it stops a read of the file (the CSV reader checks the signal per chunk).
      if (o.signal.aborted) throw new CancelledError('Interrupted.');
      let next: IteratorResult<SpillFrame>;
      try {
        next = await frames.next();
      } catch (err) {
        throw new StoreError('ERR_SYNC_SPILL_READ', `Cannot read back the rows kept in the temporary directory: ${(err as Error).message}.`, {
          hint: 'Check the space and health of the temporary directory (TMPDIR), then run the same command again (rows are upserts: re-sending them is safe).',
          cause: err,
        });
      }
      if (next.done) return;
      const f = next.value;
      const refs = new Array<RowRef>(f.rows.length);
      for (let i = 0; i < refs.length; i++) refs[i] = { row: f.rows[i]!, line: f.lines[i]!, cells: f.cells[i]! };
      yield refs;
    }
  }
  for await (const chunk of dataRows(o, o.openInput(bytes))) {
    const rows = o.shard ? chunk.rows.filter((r) => inShard(r.cells[idAt] ?? '', o.shard)) : chunk.rows;
    if (rows.length) yield rows;
  }
}

/** A path as one shell word. */
function shellWord(s: string): string {
  return /^[\w./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The header cannot be mapped: say why, and what the file looks like when that helps. */
function headerError(o: ScanOptions, header: string[], problem: HeaderProblem): UsageError {
  // One column holding the separators of another dialect: a file Excel saved with ";" (in
  // locales where the comma is the decimal mark), or a TSV. Every row would fail the same way.
  const sep = header.length === 1 ? ([';', '\t'] as const).find((c) => header[0]!.includes(c)) : undefined;
  if (sep) {
    const what = sep === ';' ? 'semicolon' : 'tab';
    return new UsageError(problem.code, `${o.inputName} looks ${what}-separated: its header is one column, "${header[0]}". contacts sync reads comma-separated CSV.`, {
      hint: `Save it as "CSV UTF-8 (comma delimited)", or convert it (quoted cells stay intact): python3 -c 'import csv,sys; csv.writer(sys.stdout).writerows(csv.reader(sys.stdin, delimiter="${sep === ';' ? ';' : '\\t'}"))' < ${o.inputName === 'stdin' ? 'in.csv' : shellWord(o.inputName)} > comma.csv`,
    });
  }
  if (problem.code === 'ERR_SYNC_NO_ID_COLUMN') {
    return new UsageError(problem.code, `${o.inputName}: ${problem.message}`, {
      hint: `Name the column holding your user ids external_id (or user_id, id). The header read was: ${header.join(',')}`,
    });
  }
  return new UsageError(problem.code, `${o.inputName}: ${problem.message}`, { hint: 'Fix the header row of the CSV and run again.' });
}
