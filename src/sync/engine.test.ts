// runEngine on in-memory files with a fake vendor: what is read, counted and rejected.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VendorError } from '../cli/errors.js';
import { engineOptions, recordingApi } from '../../test/helpers/engine.js';
import { type EngineOptions, type EngineResult, runEngine, unknownAttributeWarnings } from './engine.js';

async function run(csv: string, o: Partial<EngineOptions> = {}): Promise<EngineResult & { stored: string[] }> {
  const api = recordingApi();
  const r = await runEngine(engineOptions(csv, api, o));
  return { ...r, stored: api.stored.map((c) => c.external_id) };
}

const counts = (r: EngineResult) => ({ read: r.read, synced: r.synced, rejected: r.rejected, duplicates: r.duplicates, blankLines: r.blankLines });

describe('a one-column file', () => {
  it('reads a row holding "" as a row with an empty id, rejected ID_MISSING (never dropped)', async () => {
    for (const csv of ['external_id\nu1\n""\nu2\n', 'external_id\r\nu1\r\n""\r\nu2', 'external_id\nu1\nu2\n""']) {
      const r = await run(csv);
      expect(counts(r), JSON.stringify(csv)).toEqual({ read: 3, synced: 2, rejected: 1, duplicates: 0, blankLines: 0 });
      expect(r.rejections, JSON.stringify(csv)).toEqual([{ row: csv.endsWith('""') ? 3 : 2, line: csv.endsWith('""') ? 4 : 3, externalId: '', code: 'ID_MISSING', message: 'The external id is empty.' }]);
      expect(r.stored.sort()).toEqual(['u1', 'u2']);
    }
  });
  it('skips blank lines (nothing between two line ends), and counts them', async () => {
    const r = await run('external_id\n\nu1\n\n\r\nu2\n\n');
    expect(counts(r)).toEqual({ read: 2, synced: 2, rejected: 0, duplicates: 0, blankLines: 4 });
    expect(r.stored.sort()).toEqual(['u1', 'u2']);
  });
  it('counts a "" row of a wider file as a ragged row, not a blank line', async () => {
    const r = await run('external_id,name\nu1,Ann\n""\n\nu2,Bob\n');
    expect(counts(r)).toEqual({ read: 3, synced: 2, rejected: 1, duplicates: 0, blankLines: 1 });
    expect(r.rejections.map((x) => [x.row, x.line, x.code])).toEqual([[2, 3, 'ROW_RAGGED']]);
    expect(r.rejections[0]!.message).toBe('The row has 1 cell; the header has 2.');
  });
});

describe('a file with another delimiter', () => {
  it.each([
    ['external_id;email;name\nu1;a@b.co;Ann\n', 'semicolon', 'delimiter=";"'],
    ['"external_id;email";name\n', 'semicolon', 'delimiter=";"'],
    ['external_id\temail\nu1\ta@b.co\n', 'tab', 'delimiter="\\t"'],
  ])('%j is refused before any write, naming the delimiter and how to convert', async (csv, what, delimiter) => {
    const api = recordingApi();
    const err = await run(csv, { connect: async () => api }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_SYNC_NO_ID_COLUMN', exitCode: 2 });
    const e = err as { message: string; hint: string };
    expect(e.message).toContain(`looks ${what}-separated`);
    expect(e.hint).toContain('comma delimited');
    expect(e.hint).toContain(delimiter);
    expect(api.stored).toEqual([]);
  });
  it('keeps the plain hint for a comma header without an id column', async () => {
    const err = await run('name,email\nAnn,a@b.co\n').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_SYNC_NO_ID_COLUMN', hint: expect.stringContaining('external_id (or user_id, id)') });
    expect((err as Error).message).not.toContain('separated');
  });
});

describe('checkpoints', () => {
  it('every checkpoint written counts exactly the batches it marks done, however acks interleave with writes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chatid-engine-cp-'));
    const path = join(dir, 'cp.json');
    const seen: Array<{ doneBelow: number; doneAbove: number[]; counts: { read: number; synced: number } }> = [];
    const look = (): void => {
      // The last whole line is the checkpoint (checkpoint.ts): later states are appended.
      if (existsSync(path)) seen.push(JSON.parse(readFileSync(path, 'utf8').split('\n').slice(0, -1).pop() as string));
    };
    let n = 0;
    const api = recordingApi(async () => {
      look();
      // Acks arrive at uneven times, so some land while a checkpoint is being written.
      await new Promise((r) => setTimeout(r, (n++ * 7) % 5));
      look();
    });
    try {
      const rows = Array.from({ length: 120 }, (_, i) => `u${i}`).join('\n');
      const r = await run(`external_id\n${rows}\n`, { checkpointPath: path, reportPath: join(dir, 'report.csv'), concurrency: 4, connect: async () => api });
      expect(r.read).toBe(120);
      expect(seen.length).toBeGreaterThan(10);
      for (const cp of seen) {
        const done = cp.doneBelow + cp.doneAbove.length;
        expect(cp.counts.read, JSON.stringify(cp)).toBe(2 * done);
        expect(cp.counts.synced, JSON.stringify(cp)).toBe(2 * done);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  it('closes every file it opened in the checkpoint directory: after a sync, a failure, and a lost lock', async (t) => {
    if (!existsSync('/proc/self/fd')) return t.skip(); // Linux: the descriptors are listed there
    const dir = await mkdtemp(join(tmpdir(), 'chatid-engine-fds-'));
    const path = join(dir, 'cp.json');
    const openHere = (): string[] =>
      readdirSync('/proc/self/fd').flatMap((fd) => {
        try {
          const target = readlinkSync(`/proc/self/fd/${fd}`);
          return target.startsWith(dir) ? [target] : [];
        } catch {
          return []; // closed meanwhile
        }
      });
    const rows = `external_id\n${Array.from({ length: 20 }, (_, i) => `u${i}`).join('\n')}\n`;
    const failing = (n: number, fail: () => void) => {
      let calls = 0;
      return recordingApi(() => {
        if (++calls === n) fail();
      });
    };
    try {
      await run(rows, { checkpointPath: path });
      expect(openHere()).toEqual([]);
      const vendorDown = failing(3, () => {
        throw new VendorError('ERR_VENDOR_SERVER', 'down');
      });
      await expect(runEngine(engineOptions(rows, vendorDown, { checkpointPath: path }))).rejects.toMatchObject({ code: 'ERR_VENDOR_SERVER' });
      expect(existsSync(path)).toBe(true); // kept for --resume
      expect(openHere()).toEqual([]);
      const takenOver = failing(3, () => {
        rmSync(`${path}.lock`);
        writeFileSync(`${path}.lock`, '{"pid":4242,"host":"elsewhere","start":null,"input":"in.csv","since":"2026-01-01T00:00:00.000Z","token":"theirs"}');
      });
      await expect(runEngine(engineOptions(rows, takenOver, { checkpointPath: path, resume: true }))).rejects.toMatchObject({ code: 'ERR_SYNC_CHECKPOINT_LOCK_LOST' });
      expect(openHere()).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  it('stops with ERR_SYNC_CHECKPOINT_LOCK_LOST, writing no checkpoint, once another run took its lock over', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chatid-engine-lost-'));
    const path = join(dir, 'cp.json');
    let calls = 0;
    const api = recordingApi(() => {
      if (++calls === 3) {
        // Another run took this one for dead and took the lock (and the checkpoint) over.
        rmSync(`${path}.lock`);
        writeFileSync(`${path}.lock`, '{"pid":4242,"host":"elsewhere","start":null,"input":"in.csv","since":"2026-01-01T00:00:00.000Z","token":"theirs"}');
        writeFileSync(path, 'THEIRS');
      }
    });
    try {
      const rows = Array.from({ length: 20 }, (_, i) => `u${i}`).join('\n');
      const err = await run(`external_id\n${rows}\n`, { checkpointPath: path, batchSize: 2, concurrency: 1, connect: async () => api }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ERR_SYNC_CHECKPOINT_LOCK_LOST' });
      expect(readFileSync(path, 'utf8')).toBe('THEIRS'); // neither overwritten by a checkpoint nor removed at the end
      expect(calls).toBe(3); // no batch is sent after the loss is seen
      expect(readFileSync(`${path}.lock`, 'utf8')).toContain('"theirs"'); // and their lock is left alone
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a file that grows during the sync', () => {
  it('syncs the rows the scan read, with or without a spill (the checkpoint names exactly those bytes)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chatid-engine-grow-'));
    try {
      const { appendFileSync, writeFileSync } = await import('node:fs');
      const { fileChunks } = await import('./csv-reader.js');
      for (const spillDir of [undefined, dir]) {
        const path = join(dir, `in-${spillDir ? 'spill' : 'reread'}.csv`);
        writeFileSync(path, 'external_id,name\nu1,Ann\nu2,Bob\n');
        const api = recordingApi();
        const r = await runEngine(
          engineOptions('', api, {
            openInput: (end) => fileChunks(path, 7, { start: 0, end: end ?? Number.POSITIVE_INFINITY }),
            spillDir,
            // Between the scan and the sync pass: another process appends a row.
            connect: async () => {
              appendFileSync(path, 'u3,Late\n');
              return api;
            },
          }),
        );
        expect(counts(r), String(spillDir)).toEqual({ read: 2, synced: 2, rejected: 0, duplicates: 0, blankLines: 0 });
        expect(api.stored.map((c) => c.external_id)).toEqual(['u1', 'u2']);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('unknownAttributeWarnings', () => {
  const schema = [
    { name: 'plan', type: 'text' as const },
    { name: 'signup_date', type: 'date' as const },
  ];
  it('a column that differs from a schema attribute only by case or - for _ names it, rather than advising to create a second one', () => {
    const w = unknownAttributeWarnings(['Plan', 'signup-date'], schema);
    expect(w).toEqual([
      'Attribute "Plan" is not in the vendor\'s schema, which has "plan" (names are case-sensitive), and will not be sent. Rename the column to attr.plan and sync again.',
      'Attribute "signup-date" is not in the vendor\'s schema, which has "signup_date" (names are case-sensitive), and will not be sent. Rename the column to attr.signup_date and sync again.',
    ]);
    expect(w.join('\n')).not.toContain('attributes create');
  });
  it('several missing attributes: the create advice is not written for the first one only', () => {
    const w = unknownAttributeWarnings(['color', 'size', 'PLAN'], schema);
    expect(w).toHaveLength(2);
    expect(w[0]).toBe(
      'Attributes "color", "size" are not in the vendor\'s schema and will not be sent (vendors drop unknown attributes silently). Create each with `chatid attributes create --name <name> --type text|number|boolean|date` and sync again.',
    );
    expect(w[1]).toMatch(/^Attribute "PLAN" is not in the vendor's schema, which has "plan"/);
  });
  it('one missing attribute: the command names it', () => {
    expect(unknownAttributeWarnings(['color'], schema)).toEqual([
      'Attribute "color" is not in the vendor\'s schema and will not be sent (vendors drop unknown attributes silently). Create it with `chatid attributes create --name color --type text|number|boolean|date` and sync again.',
    ]);
    expect(unknownAttributeWarnings([], schema)).toEqual([]);
  });
});

describe('a --checkpoint that is no regular file', () => {
  it('is refused (exit 2) before its lock is made or anything is read or sent; the pipe stays as it was', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chatid-cp-fifo-'));
    try {
      const fifo = join(dir, 'cp');
      execFileSync('mkfifo', ['-m', '644', fifo]);
      const api = recordingApi();
      await expect(runEngine(engineOptions('external_id\nu1\n', api, { checkpointPath: fifo }))).rejects.toMatchObject({
        code: 'ERR_SYNC_CHECKPOINT_READ',
        exitCode: 2,
        message: expect.stringContaining('it is not a regular file'),
      });
      expect(api.stored).toEqual([]);
      expect(readdirSync(dir)).toEqual(['cp']); // no cp.lock beside it
      expect(lstatSync(fifo).isFIFO()).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
