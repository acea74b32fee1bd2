// The scan's spill: frames round-trip exactly, nothing is left on disk, and a sync that reads
// its rows from the spill gives the same result as one that parses the file twice.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { engineOptions, recordingApi } from '../../test/helpers/engine.js';
import { type EngineOptions, runEngine } from './engine.js';
import { Spill, type SpillFrame } from './spill.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chatid-spill-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function framesOf(s: Spill): Promise<SpillFrame[]> {
  const out: SpillFrame[] = [];
  for await (const f of s.frames()) out.push(f);
  return out;
}

describe('Spill', () => {
  it('gives back the frames it was given, in order, as often as asked', async () => {
    const s = await Spill.create(dir);
    const frames: SpillFrame[] = [
      { rows: [1, 2], lines: [2, 3], cells: [['u1', 'Ann, "A"', ''], ['u2', 'line\nbreak\r\n', 'é😀\u0000']] },
      { rows: [5], lines: [9], cells: [['x'.repeat(300_000)]] }, // larger than the read buffer
      { rows: [6], lines: [10], cells: [['\ufeff', '\\', '</script>']] },
    ];
    for (const f of frames) s.add(f);
    s.add({ rows: [], lines: [], cells: [] }); // an empty frame is not stored
    expect(await framesOf(s)).toEqual(frames);
    expect(await framesOf(s)).toEqual(frames);
    s.close();
    s.close(); // idempotent
  });

  it('is unlinked as soon as it is open: nothing of it is left on disk, even before close()', async () => {
    const s = await Spill.create(dir);
    s.add({ rows: [1], lines: [2], cells: [['secret@example.com']] });
    expect(readdirSync(dir)).toEqual([]);
    s.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a frame that would take it past its cap, keeping what it holds', async () => {
    const s = await Spill.create(dir, 100);
    const small: SpillFrame = { rows: [1], lines: [2], cells: [['u1', 'Ann']] };
    s.add(small);
    expect(() => s.add({ rows: [2], lines: [3], cells: [['u2', 'x'.repeat(100)]] })).toThrow(/would grow past 100 bytes/);
    expect(await framesOf(s)).toEqual([small]);
    s.close();
  });

  it('cannot be created in a directory that does not exist (the caller then parses twice)', async () => {
    await expect(Spill.create(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

async function sync(csv: string, o: Partial<EngineOptions>) {
  const api = recordingApi();
  const verbose: string[] = [];
  const report = join(dir, `report-${Math.random().toString(36).slice(2)}.csv`);
  const r = await runEngine(engineOptions(csv, api, { batchSize: 3, reportPath: report, verbose: (m) => verbose.push(m), ...o }));
  const { report: _path, ...rest } = r;
  return { result: rest, stored: api.stored.map((c) => JSON.stringify(c)).sort(), report: existsSync(report) ? readFileSync(report, 'utf8') : '', verbose };
}

describe('a sync reading its rows from the spill', () => {
  const cell = fc.array(fc.constantFrom('a', 'b', 'u1', 'u2', ' ', ',', '"', '\n', '\r\n', 'é', '😀', '@', 'x@y.io'), { maxLength: 4 }).map((a) => a.join(''));
  const quote = (c: string): string => (/[",\r\n]/.test(c) || c === '' ? `"${c.replace(/"/g, '""')}"` : c);
  const row = fc.array(cell, { minLength: 0, maxLength: 4 });
  const file = fc.record({
    rows: fc.array(row, { maxLength: 25 }),
    eol: fc.constantFrom('\n', '\r\n'),
    blank: fc.array(fc.nat({ max: 25 }), { maxLength: 3 }),
    shard: fc.option(fc.constantFrom('1/2', '2/2', '2/3'), { nil: undefined }),
  });

  it('syncs, rejects, reports and counts exactly as a sync that parses the file twice', async () => {
    await fc.assert(
      fc.asyncProperty(file, async ({ rows, eol, blank, shard }) => {
        const lines = rows.map((r) => r.map(quote).join(','));
        for (const at of blank) lines.splice(Math.min(at, lines.length), 0, '');
        const csv = ['external_id,name,email', ...lines].join(eol) + eol;
        const sh = shard ? { index: Number(shard[0]) - 1, count: Number(shard[2]) } : undefined;
        const spilled = await sync(csv, { spillDir: dir, shard: sh });
        const twice = await sync(csv, { shard: sh });
        expect(spilled.verbose.some((m) => m.includes('temporary spill'))).toBe(true);
        expect(spilled.result).toEqual(twice.result);
        expect(spilled.stored).toEqual(twice.stored);
        expect(spilled.report).toEqual(twice.report);
        expect(readdirSync(dir).filter((f) => f.startsWith('chatid-sync-'))).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });

  it('falls back to parsing the file again when the spill cannot be made, with the same result', async () => {
    const csv = 'external_id,name\nu1,Ann\nu2,"B, b"\nu1,Ann again\n,no id\n';
    const fallback = await sync(csv, { spillDir: join(dir, 'missing') });
    const spilled = await sync(csv, { spillDir: dir });
    expect(fallback.verbose.find((m) => m.startsWith('cannot keep the parsed rows'))).toMatch(/ENOENT.*parsed again/);
    expect(fallback.result).toEqual(spilled.result);
    expect(fallback.result).toMatchObject({ read: 4, synced: 2, rejected: 1, duplicates: 1 });
    expect(fallback.stored).toEqual(spilled.stored);
    expect(fallback.report).toEqual(spilled.report);
  });

  it('parses the file again when the spill would pass its cap, with the same result', async () => {
    const csv = `external_id,name\n${Array.from({ length: 50 }, (_, i) => `u${i % 40},Name ${i}`).join('\n')}\n`;
    const capped = await sync(csv, { spillDir: dir, spillMaxBytes: 200 });
    const spilled = await sync(csv, { spillDir: dir });
    expect(capped.verbose.find((m) => m.startsWith('cannot keep the parsed rows'))).toMatch(/would grow past 200 bytes.*parsed again/);
    expect(capped.result).toEqual(spilled.result);
    expect(capped.result).toMatchObject({ read: 50, synced: 40, duplicates: 10 });
    expect(capped.stored).toEqual(spilled.stored);
    expect(capped.report).toEqual(spilled.report);
    expect(readdirSync(dir).filter((f) => f.startsWith('chatid-sync-'))).toEqual([]);
  });

  it('stops at Ctrl-C while the duplicate pass reads the spill, before touching the checkpoint or the report', async () => {
    const csv = 'external_id,name\nu1,Ann\nu2,Bo\nu1,Ann again\n';
    const controller = new AbortController();
    // The file's last chunk is parsed, then Ctrl-C as the reader asks for more: the scan's
    // CSV read is over, the duplicate pass is next.
    const input = {
      destroy: () => undefined,
      async *[Symbol.asyncIterator]() {
        yield Buffer.from(csv, 'utf8');
        controller.abort();
      },
    };
    const checkpointPath = join(dir, 'in.csv.chatid-checkpoint.json');
    writeFileSync(checkpointPath, 'an earlier run\'s checkpoint');
    const err = await sync(csv, { spillDir: dir, checkpointPath, openInput: () => input, signal: controller.signal }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_CANCELLED' });
    expect(readFileSync(checkpointPath, 'utf8')).toBe("an earlier run's checkpoint");
    expect(readdirSync(dir).filter((f) => f.startsWith('chatid-sync-') || f.startsWith('report-'))).toEqual([]);
  });

  it('leaves nothing behind when the scan fails on a broken file', async () => {
    await expect(sync('external_id,name\nu1,"never closed\n', { spillDir: dir })).rejects.toMatchObject({ code: 'ERR_SYNC_CSV_SYNTAX' });
    expect(readdirSync(dir).filter((f) => f.startsWith('chatid-sync-'))).toEqual([]);
  });
});
