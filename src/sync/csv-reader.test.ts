import { Readable } from 'node:stream';
import { parse as parseSync } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BlankLineSeen, fileChunks, firstInvalidUtf8, MAX_RECORD_BYTES, readCsvBatches, readCsvRecords } from './csv-reader.js';
import { cutBytes } from '../../test/helpers/cut-bytes.js';

async function all(input: string | Buffer, chunk = 0): Promise<Array<{ cells: string[]; line: number }>> {
  const buf = typeof input === 'string' ? Buffer.from(input) : input;
  const parts: Buffer[] = [];
  if (chunk > 0) for (let i = 0; i < buf.length; i += chunk) parts.push(buf.subarray(i, i + chunk));
  else parts.push(buf);
  const out = [];
  for await (const r of readCsvRecords(Readable.from(parts))) out.push(r);
  return out;
}

describe('readCsvRecords', () => {
  it('reads BOM, CRLF, quoted newlines, commas and quotes, and reports start lines', async () => {
    const r = await all('\ufeffid,name\r\n1,"a\r\nb"\r\n\r\n2,"x, ""y"""\r\n3,z');
    expect(r).toEqual([
      { cells: ['id', 'name'], line: 1 },
      { cells: ['1', 'a\r\nb'], line: 2 },
      { cells: ['2', 'x, "y"'], line: 5 },
      { cells: ['3', 'z'], line: 6 },
    ]);
  });
  it('reads LF files and keeps ragged rows for the caller', async () => {
    expect(await all('id,name\n1\n2,b,c\n')).toEqual([
      { cells: ['id', 'name'], line: 1 },
      { cells: ['1'], line: 2 },
      { cells: ['2', 'b', 'c'], line: 3 },
    ]);
  });
  it('is the same when bytes arrive one at a time (multi-byte characters split)', async () => {
    const text = '\ufeffid,name\n1,"Zoë\n😀"\n2,naïve\n';
    expect(await all(text, 1)).toEqual(await all(text));
    expect((await all(text, 1))[1]!.cells[1]).toBe('Zoë\n😀');
  });
  it('refuses invalid UTF-8 with the line', async () => {
    await expect(all(Buffer.concat([Buffer.from('id,name\n1,a\n2,'), Buffer.from([0xe9]), Buffer.from('t\n')]))).rejects.toMatchObject({
      code: 'ERR_SYNC_NOT_UTF8',
      exitCode: 2,
      message: expect.stringContaining('line 3'),
    });
  });
  it('refuses an unclosed quote', async () => {
    await expect(all('id,name\n1,"abc\n2,d\n')).rejects.toMatchObject({ code: 'ERR_SYNC_CSV_SYNTAX', exitCode: 2 });
  });
  it('names the line where the broken record starts, whole or cut into bytes', async () => {
    const unclosed = 'id,name\r\n1,"a\r\nb"\r\n\r\n3,"abc\n4,d\n';
    const tooLong = `id,name\n1,a\n2,b\n3,"${'x'.repeat(MAX_RECORD_BYTES + 10)}"\n4,d\n`;
    for (const chunk of [0, 1]) {
      await expect(all(unclosed, chunk)).rejects.toMatchObject({ code: 'ERR_SYNC_CSV_SYNTAX', message: expect.stringContaining('near line 5: a quoted field') });
    }
    for (const chunk of [0, 4096]) {
      await expect(all(tooLong, chunk)).rejects.toMatchObject({ code: 'ERR_SYNC_CSV_SYNTAX', message: expect.stringContaining('near line 4: the record starting there is longer'), hint: expect.stringContaining('Fix the quoting') });
    }
    // Too long with no quote open: the error does not blame quoting.
    const unquoted = `id,name\n1,a\n2,${'x'.repeat(MAX_RECORD_BYTES + 10)}\n4,d\n`;
    for (const chunk of [0, 4096]) {
      await expect(all(unquoted, chunk)).rejects.toMatchObject({
        code: 'ERR_SYNC_CSV_SYNTAX',
        message: expect.stringContaining(`near line 3: the record starting there is longer than ${MAX_RECORD_BYTES} bytes, with no quote open`),
        hint: expect.stringContaining('are its line ends intact'),
      });
    }
    await expect(all(tooLong)).rejects.toMatchObject({ message: expect.stringContaining('in a quoted field (a quote left open?)') });
  });
  it('yields nothing for an empty file or a lone BOM', async () => {
    expect(await all('')).toEqual([]);
    expect(await all('\ufeff')).toEqual([]);
  });
});

describe('line numbers', () => {
  it.each([
    ['id,name\r\n1,"a\r\nb"\r\n\r\n2,"x"\r\n3,z'],
    ['id,name\n1,"a\nb"\n\n2,"x"\n3,z'],
    ['id,name\r1,"a\rb"\r\r2,"x"\r3,z'],
    ['\n\nid,name\n1,"a\r\nb"\n\n2,"x"\n3,z\n'],
  ])('counts physical lines in %j', async (text) => {
    const lead = text.startsWith('\n\n') ? 2 : 0;
    expect((await all(text)).map((r) => r.line)).toEqual([1, 2, 5, 6].map((n) => n + lead));
  });
});

/**
 * The reference: the simplest correct reading, the whole file at once — strict TextDecoder
 * (which drops one BOM), then csv-parse's sync API with the reader's options. `raw` tells a blank line (raw is a
 * lone line end) from a record holding one empty quoted cell.
 */
function reference(bytes: Buffer, maxRecordBytes: number): { records: Array<{ cells: string[]; line: number }>; blank: number } | { error: string } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { error: 'ERR_SYNC_NOT_UTF8' };
  }
  let parsed: Array<{ record: string[]; raw: string }>;
  try {
    parsed = parseSync(Buffer.from(text, 'utf8'), { bom: true, relax_column_count: true, relax_quotes: true, max_record_size: maxRecordBytes, record_delimiter: ['\r\n', '\n', '\r'], raw: true }) as unknown as typeof parsed;
  } catch (err) {
    return { error: (err as { code: string }).code };
  }
  const records: Array<{ cells: string[]; line: number }> = [];
  let blank = 0;
  let line = 1;
  for (const { record, raw } of parsed) {
    const start = line;
    line += 1 + (record.join('\u0001').match(/\r\n|\r|\n/g)?.length ?? 0);
    if (/^[\r\n]*$/.test(raw)) {
      if (records.length > 0) blank++;
      continue;
    }
    records.push({ cells: record, line: start });
  }
  return { records, blank };
}

async function read(
  bytes: Buffer,
  cuts: number[],
  maxRecordBytes: number,
  fast = false,
): Promise<{ records: Array<{ cells: string[]; line: number }>; blank: number } | { error: string } | { blankLineSeen: true }> {
  // The reader (our wrapper around csv-parse) on the bytes cut at the given points.
  const chunks = cutBytes(bytes, cuts);
  const stats = { blankLines: 0 };
  try {
    const records = [];
    for await (const batch of readCsvBatches(Readable.from(chunks), { stats, maxRecordBytes, fast })) records.push(...batch);
    return { records, blank: stats.blankLines };
  } catch (err) {
    if (err instanceof BlankLineSeen) return { blankLineSeen: true };
    return { error: (err as { code: string }).code };
  }
}

/** Whether csv-parse, reading the whole text with `raw`, meets a blank line anywhere (before the header too). */
function hasBlankLine(bytes: Buffer): boolean {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return false;
  }
  try {
    const recs = parseSync(text, { bom: true, relax_column_count: true, relax_quotes: true, record_delimiter: ['\r\n', '\n', '\r'], raw: true }) as unknown as Array<{ record: string[]; raw: string }>;
    return recs.some((r) => r.record.length === 1 && r.record[0] === '' && /^[\r\n]+$/.test(r.raw));
  } catch {
    return true; // an error: a blank line before it may be what a fast read meets first
  }
}

describe('the reader reads what csv-parse reads from the whole file', () => {
  // Few distinct characters, so quotes, delimiters and line ends meet in every combination.
  const piece = fc.constantFrom('a', 'b', ' ', ',', ',', '"', '"', '""', '\n', '\r', '\r\n', '\u0000', 'é', '😀', '\ufeff');
  const text = fc.array(piece, { maxLength: 40 }).map((a) => a.join(''));
  const cuts = fc.array(fc.nat(), { maxLength: 6 });

  it('same records, lines, blank lines and errors, however the bytes are cut', async () => {
    await fc.assert(
      fc.asyncProperty(text, cuts, fc.constantFrom(MAX_RECORD_BYTES, 6, 12), async (t, cut, max) => {
        const bytes = Buffer.from(t, 'utf8');
        const want = reference(bytes, max);
        const got = await read(bytes, cut, max);
        const label = JSON.stringify({ t, cut, max });
        if ('error' in want) {
          expect(got, label).toEqual({ error: 'ERR_SYNC_CSV_SYNTAX' });
        } else {
          expect(got, label).toEqual(want);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('a fast read (no raw text) reads the same, or says it met a blank line it cannot place, and only then', async () => {
    await fc.assert(
      fc.asyncProperty(text, cuts, fc.constantFrom(MAX_RECORD_BYTES, 6, 12), async (t, cut, max) => {
        const bytes = Buffer.from(t, 'utf8');
        const want = await read(bytes, cut, max);
        const got = await read(bytes, cut, max, true);
        const label = JSON.stringify({ t, cut, max });
        if ('blankLineSeen' in got) expect(hasBlankLine(bytes), label).toBe(true);
        else expect(got, label).toEqual(want);
      }),
      { numRuns: 4000 },
    );
    // And the common case does take the fast way: no blank line before the last record, however it ends.
    for (const t of ['id,name\nu1,Ann\n', 'id,name\r\nu1,"A\r\nB"\r\n', 'id\n""\nu2', 'id,name\nu1,Ann\nu2,Bo\n\n\n', 'id,name\nu1,Ann\n\n', 'id,name\r\nu1,Ann\r\n\r\n']) {
      expect(await read(Buffer.from(t), [3], MAX_RECORD_BYTES, true), JSON.stringify(t)).toEqual(await read(Buffer.from(t), [3], MAX_RECORD_BYTES));
    }
  });

  it('reads invalid UTF-8 as an error wherever it is cut, and valid UTF-8 the same whole or cut', async () => {
    const byte = fc.oneof(fc.constantFrom(0x61, 0x2c, 0x0a, 0x22), fc.integer({ min: 0x80, max: 0xff }));
    await fc.assert(
      fc.asyncProperty(fc.array(byte, { maxLength: 16 }), cuts, async (arr, cut) => {
        const bytes = Buffer.from(arr);
        const want = reference(bytes, MAX_RECORD_BYTES);
        const got = await read(bytes, cut, MAX_RECORD_BYTES);
        const label = JSON.stringify({ arr, cut });
        if ('error' in want) expect(got, label).toEqual({ error: want.error === 'ERR_SYNC_NOT_UTF8' ? 'ERR_SYNC_NOT_UTF8' : 'ERR_SYNC_CSV_SYNTAX' });
        else expect(got, label).toEqual(want);
      }),
      { numRuns: 3000 },
    );
  });

  it('finds the first invalid byte as a strict decoder does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (b) => {
        const at = firstInvalidUtf8(b);
        let valid: boolean;
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(b);
          valid = true;
        } catch {
          valid = false;
        }
        expect(at === -1, JSON.stringify([...b])).toBe(valid);
        if (at >= 0) {
          // Everything before it decodes; the sequence starting there does not.
          expect(() => new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(0, at))).not.toThrow();
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('fileChunks', () => {
  it('reads a file through two buffers used in turn, and the reader gets the same records as from a stream', async () => {
    const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'chatid-chunks-'));
    try {
      const text = `\ufeffid,name\n${Array.from({ length: 300 }, (_, i) => `u${i},"Zoë ${i}\n😀, ""q"""`).join('\r\n')}\n""\n\n`;
      const path = join(dir, 'in.csv');
      await writeFile(path, text);
      // 7-byte chunks: every multi-byte character and quote pair gets cut somewhere.
      const chunks: Buffer[] = [];
      for await (const c of fileChunks(path, 7)) chunks.push(Buffer.from(c));
      expect(Buffer.concat(chunks).toString('utf8')).toBe(text);
      const viaFile: unknown[] = [];
      const viaStream: unknown[] = [];
      for await (const r of readCsvRecords(fileChunks(path, 7))) viaFile.push(r);
      for await (const r of readCsvRecords(Readable.from([Buffer.from(text)]))) viaStream.push(r);
      expect(viaFile).toEqual(viaStream);
      expect(viaFile).toHaveLength(302);
      // An abort stops the reading with CancelledError.
      const ac = new AbortController();
      const seen: unknown[] = [];
      const run = (async () => {
        for await (const r of readCsvRecords(fileChunks(path, 7), ac.signal)) {
          seen.push(r);
          if (seen.length === 3) ac.abort();
        }
      })();
      await expect(run).rejects.toMatchObject({ code: 'ERR_CANCELLED' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
