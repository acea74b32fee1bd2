/**
 * The rows the scan read, kept for the sync pass so the CSV is parsed once, not twice.
 *
 * The sync reads its rows twice by design (engine.ts: everything about the file is known
 * before the first write, and a repeated id resolves to its last row), and csv-parse was half
 * of the client's CPU doing the same parsing twice. The scan now writes the records it parsed
 * to a private temporary file as JSON frames (one per chunk of records), and the sync pass
 * reads the frames back: JSON.parse of a frame is about a tenth of csv-parse's cost for the
 * same rows. Memory stays flat: one frame at a time each way.
 *
 * The file holds contact data, so it is created 0600 in a fresh 0700 directory and unlinked as
 * soon as it is open: from then on a crash or a kill leaves nothing behind. A read-back that
 * fails (the disk under TMPDIR) stops the sync with ERR_SYNC_SPILL_READ; the checkpoint stays. Where an open file cannot be
 * unlinked (Windows) it is removed at close(). It grows to about 1.4 times the CSV, so it is
 * capped: at most MAX_SPILL_BYTES, and at most half the space free in the temp directory when
 * it starts (which may be a tmpfs, i.e. memory). If the spill cannot be created or written, or
 * would pass its cap, the caller reads the CSV again instead: slower, same result.
 */
import { closeSync, openSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { mkdtemp, statfs } from 'node:fs/promises';
import { join } from 'node:path';

/** One chunk of data rows: file row numbers (1 = first row after the header), lines, cells. */
export interface SpillFrame {
  rows: number[];
  lines: number[];
  cells: string[][];
}

/** The most a spill may hold (about 700 000 000 CSV bytes). */
export const MAX_SPILL_BYTES = 1 << 30;

/** Where each frame of a spill's file is. */
export interface SpillIndex {
  at: number[];
  len: number[];
  size: number;
}

/**
 * Appends frames to a spill's file by its descriptor: the Spill's own writer, or the parallel
 * scan's worker thread writing the second part of the file into a spill the main thread made.
 */
export class SpillWriter {
  readonly #fd: number;
  readonly #limit: number;
  readonly #index: SpillIndex = { at: [], len: [], size: 0 };

  constructor(fd: number, limit: number) {
    this.#fd = fd;
    this.#limit = limit;
  }

  /** Append one frame (throws on a write error or past the cap: the caller drops the spill). */
  add(frame: SpillFrame): void {
    if (frame.rows.length === 0) return;
    const bytes = Buffer.from(JSON.stringify([frame.rows, frame.lines, frame.cells]), 'utf8');
    const ix = this.#index;
    if (ix.size + bytes.length > this.#limit) {
      throw new Error(`it would grow past ${this.#limit} bytes, its cap in that directory`);
    }
    let off = 0;
    while (off < bytes.length) off += writeSync(this.#fd, bytes, off, bytes.length - off, ix.size + off);
    ix.at.push(ix.size);
    ix.len.push(bytes.length);
    ix.size += bytes.length;
  }

  /** The frames written so far. */
  get index(): SpillIndex {
    return this.#index;
  }
}

export class Spill {
  readonly #fd: number;
  readonly #limit: number;
  /** The file and its directory, when they could not be removed at creation. */
  readonly #file: string | undefined;
  readonly #folder: string | undefined;
  #writer: SpillWriter;
  /** Frames written by another thread, in place of the writer's. */
  #adopted: SpillIndex | undefined;
  #closed = false;

  private constructor(fd: number, fileLeft: string | undefined, folderLeft: string | undefined, limit: number) {
    this.#fd = fd;
    this.#file = fileLeft;
    this.#folder = folderLeft;
    this.#limit = limit;
    this.#writer = new SpillWriter(fd, limit);
  }

  /**
   * A new, empty spill in a private directory under `dir`, holding at most `maxBytes` and half
   * the space free there (times `share`, when spills are made for parts of one file); throws if
   * it cannot be made.
   */
  static async create(dir: string, maxBytes = MAX_SPILL_BYTES, share = 1): Promise<Spill> {
    const fs = await statfs(dir);
    const limit = Math.floor(Math.min(maxBytes, Math.floor((fs.bavail * fs.bsize) / 2)) * share);
    const home = await mkdtemp(join(dir, 'chatid-sync-'));
    const path = join(home, 'rows.json');
    let fd: number;
    try {
      fd = openSync(path, 'wx+', 0o600);
    } catch (err) {
      rmdirSync(home);
      throw err;
    }
    // Where an open file cannot be unlinked, or its directory not removed at once (Windows),
    // close() tries again.
    let file: string | undefined;
    let folder: string | undefined;
    try {
      unlinkSync(path);
    } catch {
      file = path;
    }
    try {
      rmdirSync(home);
    } catch {
      folder = home;
    }
    return new Spill(fd, file, folder, limit);
  }

  /** The file's descriptor and cap, for a SpillWriter in another thread. */
  get target(): { fd: number; limit: number } {
    return { fd: this.#fd, limit: this.#limit };
  }

  /** Bytes written so far. */
  get size(): number {
    return this.#index.size;
  }

  get #index(): SpillIndex {
    return this.#adopted ?? this.#writer.index;
  }

  /** Append one frame (throws on a write error: the caller drops the spill). */
  add(frame: SpillFrame): void {
    this.#writer.add(frame);
  }

  /** The frames are those another thread wrote into the file (see `target`), not any added here. */
  adopt(index: SpillIndex): void {
    this.#adopted = index;
  }

  /** Forget the frames written so far: the next ones are written from the start of the file. */
  clear(): void {
    this.#adopted = undefined;
    this.#writer = new SpillWriter(this.#fd, this.#limit);
  }

  /** The frames, in the order they were added; may be read more than once. */
  async *frames(): AsyncGenerator<SpillFrame> {
    const { read } = await import('node:fs');
    const readAt = (buf: Buffer, len: number, pos: number): Promise<number> =>
      new Promise((resolve, reject) => read(this.#fd, buf, 0, len, pos, (err, n) => (err ? reject(err) : resolve(n))));
    const { at, len: lens } = this.#index;
    let buf = Buffer.allocUnsafe(1 << 17);
    for (let i = 0; i < at.length; i++) {
      const len = lens[i]!;
      if (buf.length < len) buf = Buffer.allocUnsafe(len);
      let got = 0;
      while (got < len) {
        const n = await readAt(buf.subarray(got), len - got, at[i]! + got);
        if (n === 0) throw new Error(`the temporary copy of the rows ended early (frame ${i + 1} of ${at.length})`);
        got += n;
      }
      const [rows, lines, cells] = JSON.parse(buf.toString('utf8', 0, len)) as [number[], number[], string[][]];
      yield { rows, lines, cells };
    }
  }

  /** Close (and, where it could not be unlinked at once, remove) the file; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
    try {
      if (this.#file) unlinkSync(this.#file);
    } catch {
      // best effort: it is in the temp directory, 0600
    }
    try {
      if (this.#folder) rmdirSync(this.#folder);
    } catch {
      // best effort: 0700
    }
  }
}

/**
 * The spills of the parts of one file, read one after the other: the rows and lines of each
 * part's frames are moved by that part's offsets (a part numbers its rows and lines from 1).
 */
export class SpillChain {
  readonly #parts: { spill: Spill; rows: number; lines: number }[];

  constructor(parts: { spill: Spill; rows: number; lines: number }[]) {
    this.#parts = parts;
  }

  get size(): number {
    return this.#parts.reduce((n, p) => n + p.spill.size, 0);
  }

  async *frames(): AsyncGenerator<SpillFrame> {
    for (const { spill, rows, lines } of this.#parts) {
      for await (const f of spill.frames()) {
        if (rows !== 0) for (let i = 0; i < f.rows.length; i++) f.rows[i] = f.rows[i]! + rows;
        if (lines !== 0) for (let i = 0; i < f.lines.length; i++) f.lines[i] = f.lines[i]! + lines;
        yield f;
      }
    }
  }

  close(): void {
    for (const p of this.#parts) p.spill.close();
  }
}
