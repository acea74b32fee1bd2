import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BatchWriter, readBatch, readBatchChunks, type BatchRowError, unusedColumnsWarning } from './batch.js';

async function all(input: string | string[], o: Parameters<typeof readBatch>[1] = {}) {
  const chunks = Array.isArray(input) ? input : [input];
  const out = [];
  for await (const r of readBatch(Readable.from(chunks.map((c) => Buffer.from(c))), o)) out.push(r);
  return out;
}

describe('readBatch: plain ids', () => {
  it('reads LF and CRLF lines, a BOM and a last line without newline', async () => {
    expect(await all('\uFEFFa\r\nb\nc')).toEqual([
      { line: 1, userId: 'a' },
      { line: 2, userId: 'b' },
      { line: 3, userId: 'c' },
    ]);
  });
  it('lines ending in a lone CR (classic Mac) are refused up front, not read as one id', async () => {
    for (const input of ['a\rb\rc\r', 'user_id,name\ra,x\r', ['a\rb', '\rc\n']]) {
      await expect(all(input), JSON.stringify(input)).rejects.toMatchObject({ code: 'ERR_BATCH_CR_LINE_ENDS' });
    }
    expect((await all('a\r\nb\r\n')).map((r) => r.userId)).toEqual(['a', 'b']);
  });
  it('onJsonUnsafe: told once, before the first row holding a C1 control or U+2028/9 is handed out; never for ASCII', async () => {
    for (const [chunks, firstUnsafe] of [
      [['a\nb\n', 'c\u0085d\n', 'e\u2028f\n'], 'c\u0085d'],
      [['user_id\nx\n', 'y', '\u009fz\n'], 'y\u009fz'],
      [['user_id,name\nu1,n\n', 'u2,"\u2029"\n'], 'u2'],
    ] as const) {
      const events: string[] = [];
      for await (const rows of readBatchChunks(Readable.from([...chunks]), { chunkSize: 1, onJsonUnsafe: () => events.push('unsafe') })) events.push(...rows.map((r) => r.userId));
      expect(events.indexOf('unsafe'), JSON.stringify(chunks)).toBeLessThan(events.indexOf(firstUnsafe));
      expect(events.filter((e) => e === 'unsafe')).toHaveLength(1);
    }
    let told = false;
    for await (const _ of readBatchChunks(Readable.from(['a\n', 'ü😀\u00a0b\n']), { onJsonUnsafe: () => (told = true) })) void _;
    expect(told).toBe(false);
  });
  it('an input of one id (or one CSV header) without a line end is that row, not an empty input', async () => {
    expect(await all('u1')).toEqual([{ line: 1, userId: 'u1' }]);
    expect(await all('\uFEFFu1')).toEqual([{ line: 1, userId: 'u1' }]);
    expect(await all(['u', '1'])).toEqual([{ line: 1, userId: 'u1' }]);
    await expect(all('user_id')).rejects.toMatchObject({ code: 'ERR_BATCH_EMPTY' });
    await expect(all('\uFEFF')).rejects.toMatchObject({ code: 'ERR_BATCH_EMPTY' });
  });
  it('joins lines split across chunks, including split UTF-8 characters', async () => {
    const bytes = Buffer.from('usér_1\nuser_2\n');
    const parts = [bytes.subarray(0, 3), bytes.subarray(3, 9), bytes.subarray(9)].map((b) => b.toString('latin1'));
    const r = [];
    for await (const x of readBatch(Readable.from([bytes.subarray(0, 3), bytes.subarray(3, 9), bytes.subarray(9)]))) r.push(x.userId);
    expect(parts.length).toBe(3);
    expect(r).toEqual(['usér_1', 'user_2']);
  });
  it('blank lines that end the input are no rows, in any chunking; blank lines before an id stay errors', async () => {
    const cases: Array<[string, string[]]> = [
      ['a\nb\n\n', ['a', 'b']],
      ['a\r\nb\r\n\r\n\r\n', ['a', 'b']],
      ['a\nb\n\n\n\n', ['a', 'b']],
      ['user_id,email\nu1,x@y.z\n\n\n', ['u1']],
      ['user_id\r\nu1\r\n\r\n', ['u1']],
      ['user_id,name\nu1,"two\n\nlines"\n\n', ['u1']],
    ];
    for (const [text, ids] of cases) {
      for (let cut = 1; cut < text.length; cut++) {
        const r = await all([text.slice(0, cut), text.slice(cut)]);
        expect(r.map((x) => x.userId), `${JSON.stringify(text)} cut at ${cut}`).toEqual(ids);
      }
      expect((await all(text.split(''))).map((x) => x.userId), `${JSON.stringify(text)} by character`).toEqual(ids);
    }
    expect((await all('user_id,name\nu1,"two\n\nlines"\n\n'))[0]?.name).toBe('two\n\nlines');
    for (const text of ['a\n\nb\n', 'a\n\n\nb\n\n']) {
      for (let cut = 1; cut < text.length; cut++) {
        await expect(all([text.slice(0, cut), text.slice(cut)])).rejects.toMatchObject({ details: { line: 2, reason: 'ERR_BATCH_EMPTY_ID' } });
      }
    }
    await expect(all('\n\n')).rejects.toMatchObject({ details: { line: 1, reason: 'ERR_BATCH_EMPTY_ID' } });
  });
  it('ids with commas are plain ids when the first line is no header', async () => {
    expect((await all('a,b\nc\n')).map((r) => r.userId)).toEqual(['a,b', 'c']);
  });
  it('throws on the first bad row with its line number', async () => {
    await expect(all('a\n\nb\n')).rejects.toMatchObject({ code: 'ERR_BATCH_ROW', details: { line: 2, reason: 'ERR_BATCH_EMPTY_ID' } });
    await expect(all('a\n b\n')).rejects.toMatchObject({ code: 'ERR_BATCH_ROW', details: { line: 2, reason: 'ERR_BATCH_ID_WHITESPACE' } });
  });
  it('reports every bad row to onBadRow and keeps going', async () => {
    const bad: BatchRowError[] = [];
    const r = await all(`a\n\n${'x'.repeat(70_000)}\nb \nc\n`, { onBadRow: (e) => bad.push(e) });
    expect(r).toEqual([{ line: 1, userId: 'a' }, { line: 5, userId: 'c' }]);
    expect(bad.map((e) => [e.line, e.code])).toEqual([
      [2, 'ERR_BATCH_EMPTY_ID'],
      [3, 'ERR_BATCH_LINE_TOO_LONG'],
      [4, 'ERR_BATCH_ID_WHITESPACE'],
    ]);
  });
  it('whitespace no one can see (a BOM inside the file, a no-break space) is shown escaped and named', async () => {
    const bad: BatchRowError[] = [];
    await all('a\n\uFEFFb\nc\u00A0\n', { onBadRow: (e) => bad.push(e) });
    expect(bad.map((e) => e.message)).toEqual([
      'user id "\\ufeffb" has leading or trailing whitespace (U+FEFF, a byte-order mark: files joined with cat?).',
      'user id "c\\u00a0" has leading or trailing whitespace.',
    ]);
    const csv: BatchRowError[] = [];
    await all('user_id\nu1\n\uFEFFu2\n', { onBadRow: (e) => csv.push(e) });
    expect(csv.map((e) => e.message)).toEqual(['user id "\\ufeffu2" has leading or trailing whitespace (U+FEFF, a byte-order mark: files joined with cat?).']);
  });

  it('invalid UTF-8 and NUL bytes are bad rows, never altered ids', async () => {
    const bad: BatchRowError[] = [];
    const input = Buffer.concat([Buffer.from('ok\ncaf'), Buffer.from([0xe9]), Buffer.from('\nu\u00001\nz\n')]);
    const r = [];
    for await (const x of readBatch(Readable.from([input]), { onBadRow: (e) => bad.push(e) })) r.push(x.userId);
    expect(r).toEqual(['ok', 'z']);
    expect(bad.map((e) => [e.line, e.code])).toEqual([
      [2, 'ERR_BATCH_NOT_UTF8'],
      [3, 'ERR_BATCH_NUL_BYTE'],
    ]);
  });
  it('ids holding a control character (TAB: a pasted TSV row; CR, ESC, DEL) are bad rows, plain or CSV', async () => {
    const bad: BatchRowError[] = [];
    const r = await all(['ok\nu1\tAda\tada@x.y\nx', '\u001b[0m\nmid\rcr\nd\u007f\nu2\t\nz\r\n'], { onBadRow: (e) => bad.push(e) });
    expect(r.map((x) => x.userId)).toEqual(['ok', 'z']);
    expect(bad.map((e) => [e.line, e.code])).toEqual([
      [2, 'ERR_BATCH_ID_CONTROL'],
      [3, 'ERR_BATCH_ID_CONTROL'],
      [4, 'ERR_BATCH_ID_CONTROL'],
      [5, 'ERR_BATCH_ID_CONTROL'],
      [6, 'ERR_BATCH_ID_CONTROL'],
    ]);
    expect(bad[0]!.message).toBe('user id "u1\\tAda\\tada@x.y" holds a TAB (character 3): a tab-separated row? Give one id per line (e.g. `cut -f1 users.tsv`) or a CSV with a user_id column.');
    expect(bad[1]!.message).toBe('user id "x\\u001b[0m" holds the control character U+001B (character 2), which no user id has. Remove it from the input.');
    expect(bad[2]!.message).toContain('holds a carriage return (CR) (character 4)');
    await expect(all('a\nb\tc\n')).rejects.toMatchObject({ code: 'ERR_BATCH_ROW', details: { line: 2, reason: 'ERR_BATCH_ID_CONTROL' } });
    const csv: BatchRowError[] = [];
    const c = await all('user_id,name\n"u1\tx",Ada\n"u2\nx",Bob\nu3,"Tab\there"\n', { onBadRow: (e) => csv.push(e) });
    expect(csv.map((e) => [e.line, e.code])).toEqual([
      [2, 'ERR_BATCH_ID_CONTROL'],
      [4, 'ERR_BATCH_ID_CONTROL'],
    ]);
    // Only the id is held to it: a name may hold what the vendor takes.
    expect(c).toEqual([{ line: 5, userId: 'u3', name: 'Tab\there' }]);
  });
  it('an empty input is an error', async () => {
    await expect(all('')).rejects.toMatchObject({ code: 'ERR_BATCH_EMPTY' });
  });
  it('yields arrays of chunkSize', async () => {
    const sizes = [];
    for await (const rows of readBatchChunks(Readable.from([Buffer.from('a\nb\nc\nd\ne\n')]), { chunkSize: 2 })) sizes.push(rows.length);
    expect(sizes).toEqual([2, 2, 1]);
  });
  it('stops with CancelledError when aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    const input = Readable.from([Buffer.from('a\nb\nc\n')]);
    await expect(async () => {
      for await (const _ of readBatchChunks(input, { chunkSize: 1, signal: ac.signal })) void _;
    }).rejects.toMatchObject({ code: 'ERR_CANCELLED' });
  });
});

describe('readBatch: CSV', () => {
  it('finds the id, email and name columns by header', async () => {
    expect(await all('email,User_ID,name,plan\r\na@x.io,u1,"Doe, Jane",pro\r\n,u2,,free\r\n')).toEqual([
      { line: 2, userId: 'u1', email: 'a@x.io', name: 'Doe, Jane' },
      { line: 3, userId: 'u2' },
    ]);
  });
  it('names the columns the caller does not read, once, as written in the header', async () => {
    const told: Array<[string[], string]> = [];
    const onUnusedColumns = (names: string[], id: string): number => told.push([names, id]);
    await all('email,User_ID,name,plan,"Phone",id\na@x.io,u1,Ann,pro,1,9\nb@x.io,u2,Bo,free,2,8\n', { uses: [], onUnusedColumns });
    await all('email,User_ID,name,plan\na@x.io,u1,Ann,pro\n', { uses: ['email'], onUnusedColumns });
    await all('user_id,email,name\nu1,a@x.io,Ann\n', { uses: ['email', 'name'], onUnusedColumns });
    await all('u1\nu2\n', { uses: [], onUnusedColumns }); // plain ids: no header, no columns
    expect(told).toEqual([
      [['email', 'name', 'plan', 'Phone', 'id'], 'User_ID'],
      [['name', 'plan'], 'User_ID'],
    ]);
    expect(unusedColumnsWarning('hash --batch', ['plan', 'Phone'], 'user_id', [])).toBe('hash --batch does not read the columns "plan", "Phone": it uses the user_id column only.');
    expect(unusedColumnsWarning('token sign --batch', ['plan'], 'id', ['email', 'name'])).toBe('token sign --batch does not read the column "plan": it uses id, email and name.');
  });
  it('prefers user_id over id, and accepts external_id', async () => {
    expect((await all('id,user_id\n1,u1\n')).map((r) => r.userId)).toEqual(['u1']);
    expect((await all('external_id\nx1\n')).map((r) => r.userId)).toEqual(['x1']);
    // A one-column export that quotes every cell: the header is no id, and "a,b" is one cell.
    expect((await all('"user_id"\n"a,b"\n"c"\n')).map((r) => r.userId)).toEqual(['a,b', 'c']);
    expect((await all('"ID"\r\n"x1"\r\n')).map((r) => r.userId)).toEqual(['x1']);
  });
  it('quoted newlines: the line number is where the record ends', async () => {
    expect(await all('user_id,name\nu1,"a\nb"\nu2,c\n')).toEqual([
      { line: 3, userId: 'u1', name: 'a\nb' },
      { line: 4, userId: 'u2', name: 'c' },
    ]);
  });
  it('bad CSV rows are reported with line numbers', async () => {
    const bad: BatchRowError[] = [];
    const r = await all('user_id,email\nu1,a\nu2\n,b\nu3,"x"y"\nu4,d\n', { onBadRow: (e) => bad.push(e) });
    expect(r.map((x) => x.userId)).toEqual(['u1', 'u4']);
    expect(bad.map((e) => [e.line, e.code])).toEqual([
      [3, 'ERR_BATCH_CSV_ROW'],
      [4, 'ERR_BATCH_EMPTY_ID'],
      [5, 'ERR_BATCH_CSV_ROW'],
    ]);
  });
  it('throws on a bad CSV row without onBadRow', async () => {
    await expect(all('user_id,email\nu1\n')).rejects.toMatchObject({ code: 'ERR_BATCH_ROW', details: { line: 2 } });
  });
  it('handles many chunks', async () => {
    const lines = ['user_id,email'];
    for (let i = 0; i < 5000; i++) lines.push(`u${i},u${i}@x.io`);
    const text = `${lines.join('\n')}\n`;
    const parts = [];
    for (let i = 0; i < text.length; i += 777) parts.push(text.slice(i, i + 777));
    const r = await all(parts);
    expect(r.length).toBe(5000);
    expect(r[4999]).toEqual({ line: 5001, userId: 'u4999', email: 'u4999@x.io' });
  });
});

describe('BatchWriter', () => {
  it('gathers writes into chunks and waits for drain', async () => {
    const writes: string[] = [];
    const out = new Writable({
      highWaterMark: 8,
      write(chunk, _e, cb) {
        writes.push(String(chunk));
        setImmediate(cb);
      },
    });
    const w = new BatchWriter(out, 10);
    let waited = 0;
    for (let i = 0; i < 10; i++) {
      const p = w.write(`row${i}\n`);
      if (p) {
        waited++;
        await p;
      }
    }
    await w.end();
    expect(writes.join('')).toBe(Array.from({ length: 10 }, (_, i) => `row${i}\n`).join(''));
    expect(writes.length).toBeLessThan(10);
    expect(waited).toBeGreaterThan(0);
    expect(w.count).toBe(10);
  });
});
