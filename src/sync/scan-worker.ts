/**
 * The worker thread of the parallel scan (scan.ts): reads the second part of a large CSV while
 * the main thread reads the first, writing its rows into the spill the main thread made for it.
 * Built on its own as dist/scan-worker.js (scripts/build.mjs). Rows and lines are numbered
 * from 1 within the part; the main thread moves them once the first part is read. Any failure
 * is only reported: the main thread then reads the part itself, so an error in it is reported
 * the usual way, with the file's own line numbers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { fileChunks } from './csv-reader.js';
import { type Layout, scanPart } from './scan-part.js';
import type { Shard } from './shard.js';
import { type SpillIndex, SpillWriter } from './spill.js';

export interface ScanWorkerData {
  path: string;
  /** The part starts here and runs to the end of the file (as the main thread's hash of it). */
  start: number;
  fast: boolean;
  layout: Layout;
  shard: Shard | undefined;
  maxRecordBytes: number | undefined;
  /** The spill to write into (its fd is the process's, so it outlives this thread). */
  spill: { fd: number; limit: number } | undefined;
}

export type ScanWorkerResult =
  | { ok: true; dataRows: number; rows: number; otherShards: number; blankLines: number; lines: number; hashes: Float64Array; spill: SpillIndex | undefined; spillError: string | undefined }
  | { ok: false; error: string };

async function run(d: ScanWorkerData): Promise<ScanWorkerResult> {
  const writer = d.spill ? new SpillWriter(d.spill.fd, d.spill.limit) : undefined;
  let spillError: string | undefined;
  const part = await scanPart(fileChunks(d.path, 1 << 16, { start: d.start, end: Number.POSITIVE_INFINITY }), {
    fast: d.fast,
    final: true,
    from: { byte: d.start, line: 1, lfLine: 1 },
    shard: d.shard,
    maxRecordBytes: d.maxRecordBytes,
    layout: d.layout,
    spill: writer,
    dropSpill: (err) => {
      spillError = (err as Error).message;
    },
  });
  return {
    ok: true,
    dataRows: part.dataRows,
    rows: part.rows,
    otherShards: part.otherShards,
    blankLines: part.blankLines,
    lines: part.end.line - 1,
    hashes: part.hashes.values.slice(),
    spill: writer && spillError === undefined ? writer.index : undefined,
    spillError,
  };
}

if (parentPort) {
  const port = parentPort;
  run(workerData as ScanWorkerData).then(
    (r) => port.postMessage(r, r.ok ? [r.hashes.buffer as ArrayBuffer] : []),
    (err: unknown) => port.postMessage({ ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) } satisfies ScanWorkerResult),
  );
}
