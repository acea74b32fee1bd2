import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readCsvRecords } from './csv-reader.js';

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
