/**
 * The scan of one part of a contacts CSV: the rows of this shard counted, their id hashes
 * collected (dedupe.ts) and the parsed rows written to a spill (spill.ts). The whole file is one
 * part; a large file read by the parallel scan (scan.ts) is two, the second one read by a
 * worker thread (scan-worker.ts), which is why this file imports nothing of the engine's.
 */
import { type ByteSource, type CsvReadStats, readCsvBatches, type TextPosition } from './csv-reader.js';
import { HashCollector, idHash } from './dedupe.js';
import { type Shard, shardOf } from './shard.js';
import type { SpillFrame } from './spill.js';

/** Where the id is and how many cells a row has: what the scan needs of the header. */
export interface Layout {
  idAt: number;
  width: number;
}

export interface PartOptions {
  signal?: AbortSignal | undefined;
  /** csv-reader's `fast` read (BlankLineSeen: read again without it). */
  fast: boolean;
  /** False: the part ends before the file does, where a record ends (csv-reader's `final`). */
  final: boolean;
  /** Where the part starts, when it is not the start of the file (csv-reader's `from`). */
  from?: TextPosition | undefined;
  /** Data rows of the file before this part: the part's rows are numbered after them. */
  rowBase?: number | undefined;
  /** Sees every raw chunk (the SHA-256 of the file). */
  tap?: ((chunk: Buffer) => void) | undefined;
  shard: Shard | undefined;
  maxRecordBytes?: number | undefined;
  /** The first part reads the header: this maps it (or throws) and gives the layout. */
  header?: ((cells: string[]) => Layout) | undefined;
  /** Later parts: the layout the first part's header gave. */
  layout?: Layout | undefined;
  /** Where the parsed rows go; undefined: nowhere (the sync pass parses the file again). */
  spill?: { add(frame: SpillFrame): void } | undefined;
  /** A write to the spill failed: no more are made. */
  dropSpill?: ((err: unknown) => void) | undefined;
}

export interface PartResult {
  /** The header row (first part only; undefined for an empty file). */
  header: string[] | undefined;
  /** Data rows of the part, all shards. */
  dataRows: number;
  /** Data rows of this shard. */
  rows: number;
  otherShards: number;
  blankLines: number;
  hashes: HashCollector;
  /** Where the text after the part starts. */
  end: TextPosition;
}

/**
 * Whether a row has the header's shape. Extra cells that are all empty (the trailing commas
 * some spreadsheets write) are accepted and ignored; anything else is a ragged row.
 */
export function fits(cells: readonly string[], width: number): boolean {
  if (cells.length === width) return true;
  if (cells.length < width) return false;
  for (let i = width; i < cells.length; i++) if (cells[i] !== '') return false;
  return true;
}

export function inShard(id: string, shard: Shard | undefined): boolean {
  return !shard || shardOf(id, shard.count) === shard.index;
}

export async function scanPart(source: ByteSource, p: PartOptions): Promise<PartResult> {
  const stats: CsvReadStats = { blankLines: 0 };
  let header: string[] | undefined;
  let layout = p.layout;
  const hashes = new HashCollector();
  let rows = 0;
  let dataRow = p.rowBase ?? 0;
  let otherShards = 0;
  let spill = p.spill;
  // Only cells and their lines are needed here: no row objects.
  let lines: number[] = [];
  const cellsOnly = (cells: string[], line: number): string[] => {
    lines.push(line);
    return cells;
  };
  const read = { signal: p.signal, stats, tap: p.tap, make: cellsOnly, fast: p.fast, from: p.from, final: p.final, maxRecordBytes: p.maxRecordBytes };
  for await (const recs of readCsvBatches(source, read)) {
    const recLines = lines;
    lines = [];
    let k = 0;
    if (!layout) {
      if (!p.header) throw new Error('scanPart: a part after the first needs the layout');
      header = recs[0]!;
      layout = p.header(header);
      k = 1;
    }
    const { idAt, width } = layout;
    const frame = spill ? { rows: [] as number[], lines: [] as number[], cells: [] as string[][] } : undefined;
    for (; k < recs.length; k++) {
      const cells = recs[k]!;
      const id = cells[idAt] ?? '';
      dataRow++;
      if (p.shard && !inShard(id, p.shard)) {
        otherShards++;
        continue;
      }
      rows++;
      if (id !== '' && fits(cells, width)) hashes.push(idHash(id));
      if (frame) {
        frame.rows.push(dataRow);
        frame.lines.push(recLines[k]!);
        frame.cells.push(cells);
      }
    }
    if (spill && frame) {
      try {
        spill.add(frame);
      } catch (err) {
        spill = undefined;
        p.dropSpill?.(err);
      }
    }
  }
  return { header, dataRows: dataRow - (p.rowBase ?? 0), rows, otherShards, blankLines: stats.blankLines, hashes, end: stats.end! };
}
