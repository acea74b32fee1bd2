/**
 * The worker thread of the parallel scan (scan.ts): reads the second part of a large CSV while
 * the main thread reads the first, writing its rows into the spill the main thread made for it.
 * Built on its own as dist/scan-worker.js (scripts/build.mjs). Rows and lines are numbered
 * from 1 within the part; the main thread moves them once the first part is read. Any failure
 * is only reported: the main thread then reads the part itself, so an error in it is reported
 * the usual way, with the file's own line numbers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BlankLineSeen, fileChunks } from './csv-reader.js';
import { type Layout, scanPart } from './scan-part.js';
import type { Shard } from './shard.js';
import { type SpillIndex, SpillWriter } from './spill.js';

/**
 * Changed whenever ScanWorkerData or ScanWorkerResult change: a worker file from another build
 * (dist/ rebuilt while a sync starts) then fails instead of reading something else.
 */
export const SCAN_WORKER_PROTOCOL = 2;

export interface ScanWorkerData {
  protocol: number;
  /** The CSV, opened once by the main thread (read at positions; the same file it hashes). */
  fd: number;
  /** The part is the bytes from `start` to `end`. */
  start: number;
  end: number;
  fast: boolean;
  layout: Layout;
  shard: Shard | undefined;
  maxRecordBytes: number | undefined;
  /** The spill to write into (its fd is the process's, so it outlives this thread). */
  spill: { fd: number; limit: number } | undefined;
}

export type ScanWorkerResult =
  | {
      ok: true;
      protocol: number;
      /** Bytes of the part read: the main thread checks it read the same. */
      bytes: number;
      dataRows: number;
      rows: number;
      otherShards: number;
      blankLines: number;
      hashes: Float64Array;
      spill: SpillIndex | undefined;
      spillError: string | undefined;
    }
  | { ok: false; error: string; blankLine?: boolean };

async function run(d: ScanWorkerData): Promise<ScanWorkerResult> {
  if (d.protocol !== SCAN_WORKER_PROTOCOL) return { ok: false, error: `the worker speaks protocol ${SCAN_WORKER_PROTOCOL}, not ${String(d.protocol)}` };
  const writer = d.spill ? new SpillWriter(d.spill.fd, d.spill.limit) : undefined;
  let spillError: string | undefined;
  const part = await scanPart(fileChunks(d.fd, 1 << 16, { start: d.start, end: d.end }), {
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
    protocol: SCAN_WORKER_PROTOCOL,
    bytes: part.end.byte - d.start,
    dataRows: part.dataRows,
    rows: part.rows,
    otherShards: part.otherShards,
    blankLines: part.blankLines,
    // The collector's own buffer, handed over (its length is the count): no copy.
    hashes: part.hashes.values,
    spill: writer && spillError === undefined ? writer.index : undefined,
    spillError,
  };
}

if (parentPort) {
  const port = parentPort;
  run(workerData as ScanWorkerData).then(
    (r) => port.postMessage(r, r.ok ? [r.hashes.buffer as ArrayBuffer] : []),
    (err: unknown) =>
      port.postMessage({
        ok: false,
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        blankLine: err instanceof BlankLineSeen,
      } satisfies ScanWorkerResult),
  );
}
