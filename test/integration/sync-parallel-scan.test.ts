// The built CLI reads a large CSV in two parts at once (src/sync/scan.ts, dist/scan-worker.js):
// the rows, duplicates and the lines in the report are those of the file, and a kill during
// the scan leaves nothing in the temporary directory.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PARALLEL_MIN_BYTES } from '../../src/sync/scan.js';
import { buildCliBundle, removeCliBundle, runBin } from './store-bundle.js';

let BIN = '';
let dir = '';
let csv = '';
const want = { rows: 0, duplicates: [] as Array<{ row: number; line: number }> };

beforeAll(async () => {
  BIN = await buildCliBundle();
  dir = await mkdtemp(join(tmpdir(), 'chatid-parallel-'));
  // Past the size where the scan splits; a quoted cell of three lines every 997 rows moves the
  // lines away from the rows, and every 1000th row repeats an id from 500 rows before.
  const out: string[] = ['external_id,name,email,note\n'];
  let bytes = out[0]!.length;
  for (let row = 1; bytes < PARALLEL_MIN_BYTES + (1 << 20); row++) {
    const id = row % 1000 === 0 ? `user_${row - 500}` : `user_${row}`;
    const note = row % 997 === 0 ? '"one\ntwo\nthree"' : 'plain';
    const text = `${id},Name ${row},u${row}@example.com,${note}\n`;
    if (row % 1000 === 0) want.duplicates.push({ row: row - 500, line: -1 });
    out.push(text);
    bytes += Buffer.byteLength(text);
    want.rows = row;
  }
  csv = join(dir, 'big.csv');
  await writeFile(csv, out.join(''));
  // The line of each superseded row, from the file as written.
  const lineOf = new Map<number, number>();
  let l = 2;
  for (let row = 1; row <= want.rows; row++) {
    lineOf.set(row, l);
    l += row % 997 === 0 ? 3 : 1;
  }
  for (const d of want.duplicates) d.line = lineOf.get(d.row)!;
}, 120_000);

afterAll(async () => {
  await removeCliBundle(BIN);
  await rm(dir, { recursive: true, force: true });
});

it('syncs a large file read in two parts: rows, duplicates and report lines as in the file', async () => {
  const tmp = await mkdtemp(join(dir, 'tmp-'));
  const r = await runBin(BIN, ['contacts', 'sync', csv, '--dry-run', '--verbose', '--json', '--report', join(dir, 'report.csv')], {
    env: { CHATID_CONFIG_DIR: join(dir, 'config'), TMPDIR: tmp, HOME: dir },
  });
  expect(r.stderr).toContain('in two parts at once');
  const summary = JSON.parse(r.stdout) as { read: number; duplicates: number; rejected: number };
  expect(summary).toMatchObject({ read: want.rows, duplicates: want.duplicates.length, rejected: 0 });
  const report = (await readFile(join(dir, 'report.csv'), 'utf8')).trim().split('\n').slice(1);
  expect(report.map((x) => x.split(',').slice(0, 3).join(','))).toEqual(want.duplicates.map((d) => `${d.row},${d.line},duplicate`));
  expect(await readdir(tmp)).toEqual([]);
}, 120_000);

it('Ctrl-C or a kill at any point of the two-part scan leaves nothing in the temporary directory', async () => {
  // Several points from start-up to the end of the scan (0.2-1.5 s here, with the load):
  // SIGINT goes through the cleanup (worker stopped, spills closed), SIGKILL relies on the
  // spills being unlinked as soon as they are opened.
  for (const signal of ['SIGINT', 'SIGKILL'] as const) {
    for (const ms of [150, 300, 450, 600]) {
      const tmp = await mkdtemp(join(dir, 'tmp-'));
      const child = spawn(process.execPath, [BIN, 'contacts', 'sync', csv, '--dry-run', '--verbose'], {
        env: { ...process.env, CHATID_CONFIG_DIR: join(dir, 'config'), TMPDIR: tmp, HOME: dir, NO_COLOR: '1' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      setTimeout(() => child.kill(signal), ms);
      const [code, sig] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
      const label = `${signal} after ${ms} ms: exit ${code ?? sig}\n${stderr.slice(-400)}`;
      if (signal === 'SIGKILL') expect(sig === 'SIGKILL' || code === 0, label).toBe(true);
      // 130: stopped by its handler; killed by the signal itself: before the handler was set
      // up (start-up takes ~100-150 ms), when nothing had been created yet; 0: it had finished.
      else expect(code === 0 || code === 130 || sig === 'SIGINT', label).toBe(true);
      expect(await readdir(tmp), label).toEqual([]);
    }
  }
}, 120_000);
