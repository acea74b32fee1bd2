/**
 * The rejected-rows report of contacts sync: a CSV a person opens in a spreadsheet, so every
 * cell is formula-safe, and a file other users cannot read (0600), since it holds customer
 * data. Appends are counted in bytes so a resumed run can cut off what an interrupted run
 * wrote after its last checkpoint (no duplicate lines).
 */
import { open, type FileHandle } from 'node:fs/promises';

/** Columns the report puts before the row's original cells. */
export const REPORT_COLUMNS = ['row', 'line', 'status', 'code', 'message'] as const;

export interface ReportEntry {
  /** Data row number, 1-based (row 1 is the first row after the header). */
  row: number;
  /** Physical line where the row starts in the file. */
  line: number;
  status: 'rejected' | 'duplicate';
  code: string;
  message: string;
  cells: readonly string[];
}

/**
 * A cell a spreadsheet will not run: one starting with = + - @ TAB or CR gets a leading `'`
 * (OWASP "CSV injection").
 * @example formulaSafe('=HYPERLINK("x")') // "'=HYPERLINK(\"x\")"
 */
export function formulaSafe(cell: string): string {
  return /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
}

/**
 * One RFC 4180 field: quoted when it holds a comma, quote, CR or LF (or leading/trailing space).
 * @example csvField('a "b", c') // '"a ""b"", c"'
 */
export function csvField(cell: string): string {
  return /[",\r\n]|^\s|\s$/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

/** One CSV line (CRLF-terminated, as RFC 4180 and Excel expect), every cell formula-safe. */
export function csvLine(cells: readonly string[]): string {
  return `${cells.map((c) => csvField(formulaSafe(c))).join(',')}\r\n`;
}

export function reportHeader(header: readonly string[]): string {
  return csvLine([...REPORT_COLUMNS, ...header]);
}

export function reportLine(e: ReportEntry): string {
  return csvLine([String(e.row), String(e.line), e.status, e.code, e.message, ...e.cells]);
}

/** An open report file. `bytes` is its length after the last append. */
export interface ReportFile {
  readonly path: string;
  readonly bytes: number;
  /** True when resuming found the file missing or cut short and started it again. */
  readonly restarted: boolean;
  append(text: string): Promise<void>;
  /** Flush to disk (before the checkpoint that names this length is written). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Why `path` cannot take the report, or undefined when it can (it does not exist yet, or is a
 * regular file of its own). Checked before the file is opened, since opening truncates it and
 * sets its mode to 0600: a device (--report /dev/null, /dev/stdout at a terminal) or a pipe
 * would have its permissions changed (chmod 0600 of /dev/null breaks it for every other
 * user), and the report's in-place writes fail on a pipe (ESPIPE) or, on the file that is also
 * this process's stdout or stderr (/dev/stdout redirected to a file), overwrite the output.
 * `outputs` are the descriptors whose files the report must not be (default: 1 and 2).
 */
export async function reportTargetProblem(path: string, outputs: readonly number[] = [1, 2]): Promise<string | undefined> {
  const { stat } = await import('node:fs/promises');
  const { fstatSync } = await import('node:fs');
  const st = await stat(path).catch(() => undefined);
  if (st === undefined) return undefined; // a new file (or a directory that cannot hold it: open says which)
  if (st.isDirectory()) return undefined; // open's EISDIR names it
  if (!st.isFile()) return 'it is not a regular file (a device such as /dev/null or a terminal, or a pipe), and the report is a file rewritten in place (for --resume) with mode 0600; give it a file path, then read that file';
  for (const fd of outputs) {
    try {
      const o = fstatSync(fd);
      if (o.dev === st.dev && o.ino === st.ino) return `it is the file this command's ${fd === 2 ? 'stderr' : 'stdout'} goes to, and the report would be written over that output; give it a file of its own`;
    } catch {
      // That descriptor is closed: nothing to overwrite.
    }
  }
  return undefined;
}

/**
 * Open the report: fresh (truncated, header written) or, when resuming, cut back to
 * `resumeBytes` (what the last checkpoint acknowledged) and appended to. Mode 0600 always,
 * also when the file existed with a wider mode.
 */
export async function openReport(path: string, header: readonly string[], resumeBytes?: number): Promise<ReportFile> {
  let fh: FileHandle;
  let bytes: number;
  let restarted = false;
  if (resumeBytes !== undefined) {
    fh = await open(path, 'r+', 0o600).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
      return open(path, 'w+', 0o600);
    });
    await fh.chmod(0o600);
    const size = (await fh.stat()).size;
    if (size < resumeBytes || resumeBytes === 0) {
      // The report was removed or shortened by hand: start it again (the checkpoint's counts stay).
      restarted = resumeBytes > 0;
      await fh.truncate(0);
      const h = Buffer.from(reportHeader(header));
      await fh.write(h, 0, h.length, 0);
      bytes = h.length;
    } else {
      await fh.truncate(resumeBytes);
      bytes = resumeBytes;
    }
  } else {
    fh = await open(path, 'w', 0o600);
    await fh.chmod(0o600);
    const h = Buffer.from(reportHeader(header));
    await fh.write(h, 0, h.length, 0);
    bytes = h.length;
  }
  return {
    path,
    get bytes() {
      return bytes;
    },
    restarted,
    async append(text) {
      if (text === '') return;
      const b = Buffer.from(text, 'utf8');
      await fh.write(b, 0, b.length, bytes);
      bytes += b.length;
    },
    async sync() {
      await fh.datasync();
    },
    async close() {
      await fh.close();
    },
  };
}
