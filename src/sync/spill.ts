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

export class Spill {
  readonly #fd: number;
  readonly #limit: number;
  /** The file and its directory, when they could not be removed at creation. */
  readonly #file: string | undefined;
  readonly #folder: string | undefined;
  /** Start and length of each frame, in order. */
  readonly #at: number[] = [];
  readonly #len: number[] = [];
  #size = 0;
  #closed = false;

  private constructor(fd: number, fileLeft: string | undefined, folderLeft: string | undefined, limit: number) {
    this.#fd = fd;
    this.#file = fileLeft;
    this.#folder = folderLeft;
    this.#limit = limit;
  }

  /**
   * A new, empty spill in a private directory under `dir`, holding at most `maxBytes` and half
   * the space free there; throws if it cannot be made.
   */
  static async create(dir: string, maxBytes = MAX_SPILL_BYTES): Promise<Spill> {
    const fs = await statfs(dir);
    const limit = Math.min(maxBytes, Math.floor((fs.bavail * fs.bsize) / 2));
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

  /** Bytes written so far. */
  get size(): number {
    return this.#size;
  }

  /** Append one frame (throws on a write error: the caller drops the spill). */
  add(frame: SpillFrame): void {
    if (frame.rows.length === 0) return;
    const bytes = Buffer.from(JSON.stringify([frame.rows, frame.lines, frame.cells]), 'utf8');
    if (this.#size + bytes.length > this.#limit) {
      throw new Error(`it would grow past ${this.#limit} bytes, its cap in that directory`);
    }
    let off = 0;
    while (off < bytes.length) off += writeSync(this.#fd, bytes, off, bytes.length - off, this.#size + off);
    this.#at.push(this.#size);
    this.#len.push(bytes.length);
    this.#size += bytes.length;
  }

  /** The frames, in the order they were added; may be read more than once. */
  async *frames(): AsyncGenerator<SpillFrame> {
    const { read } = await import('node:fs');
    const readAt = (buf: Buffer, len: number, pos: number): Promise<number> =>
      new Promise((resolve, reject) => read(this.#fd, buf, 0, len, pos, (err, n) => (err ? reject(err) : resolve(n))));
    let buf = Buffer.allocUnsafe(1 << 17);
    for (let i = 0; i < this.#at.length; i++) {
      const len = this.#len[i]!;
      if (buf.length < len) buf = Buffer.allocUnsafe(len);
      let got = 0;
      while (got < len) {
        const n = await readAt(buf.subarray(got), len - got, this.#at[i]! + got);
        if (n === 0) throw new Error(`the temporary copy of the rows ended early (frame ${i + 1} of ${this.#at.length})`);
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
