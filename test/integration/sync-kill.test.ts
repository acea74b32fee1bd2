// The KILL test (issue 4): the built CLI is SIGKILLed at several points of a sync into a
// sandbox running in this process, then resumed with --resume. The end state must be the
// complete one, the report must hold each rejected row once, and at most one batch per
// worker may be sent twice per kill (measured in the sandbox's request log).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SANDBOX_DEMO_ATTRIBUTES } from '../../src/commands/contacts/sync.js';
import { SANDBOX_API_KEY, startSandbox } from '../../src/sandbox/index.js';
import { expectedOutcome, faultRows, toCsv } from '../fixtures/sync/rows.js';
import { buildCliBundle, removeCliBundle } from './store-bundle.js';

let BIN = '';

// The CLI as it ships (scripts/build.mjs: bin.js, the CommonJS cli.js with its code cache,
// dist/vendor/), built into a private directory: dist/ is shared by everyone running
// `npm run build` here (the build deletes it first).
beforeAll(async () => {
  BIN = await buildCliBundle();
  expect(existsSync(BIN)).toBe(true);
}, 60_000);
// The one test awaits every process it starts (killed or not) before it ends.
afterAll(() => removeCliBundle(BIN));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

it('SIGKILL at several points, then --resume: complete state, report once, ≤ 1 batch per worker re-sent per kill', async () => {
  const BATCH = 100;
  const WORKERS = 3;
  // Called (synchronously, in the server) as each write is answered: the kill lands at an
  // exact point of the run whatever the machine's load.
  let onWrite: (() => void) | undefined;
  const sb = await startSandbox({ port: 0, rateLimit: false, latencyMs: 15, attributes: SANDBOX_DEMO_ATTRIBUTES, log: (line) => void (line.startsWith('POST') && onWrite?.()) });
  const dir = await mkdtemp(join(tmpdir(), 'chatid-kill-'));
  try {
    const rows = faultRows(4_000);
    await writeFile(join(dir, 'in.csv'), toCsv(rows));
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      CHATID_CONFIG_DIR: join(dir, 'config'),
      CHATID_PROVIDER: 'chatbase',
      CHATID_BASE_URL: sb.url,
      CHATID_API_KEY: SANDBOX_API_KEY,
      CHATID_AGENT_ID: sb.agentIds[0]!,
    };
    const args = ['contacts', 'sync', 'in.csv', '--batch-size', String(BATCH), '--concurrency', String(WORKERS), '--rate-limit', '1000/1s', '--report', 'rejected.csv', '--json'];
    const posts = (): number => sb.requests.filter((q) => q.method === 'POST').length;

    /** Run the CLI; SIGKILL it once the sandbox has seen `killAfter` more writes. */
    const run = (extra: string[], killAfter?: number): Promise<Run> =>
      new Promise((resolve, reject) => {
        const start = posts();
        const child = spawn(process.execPath, [BIN, ...args, ...extra], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        if (killAfter !== undefined) {
          onWrite = () => {
            if (posts() - start >= killAfter) {
              child.kill('SIGKILL');
              onWrite = undefined;
            }
          };
        }
        child.on('error', reject);
        child.on('close', (code, signal) => {
          onWrite = undefined;
          resolve({ code, signal, stdout, stderr });
        });
      });

    const killPoints = [1, 6, 13];
    let kills = 0;
    for (const [i, k] of killPoints.entries()) {
      const r = await run(i === 0 ? [] : ['--resume'], k);
      expect(r.signal, r.stderr).toBe('SIGKILL');
      kills++;
    }
    const final = await run(['--resume']);
    expect(final.code, final.stderr).toBe(5);
    const j = JSON.parse(final.stdout);

    const want = expectedOutcome(rows);
    const valid = want.synced;
    expect(j).toMatchObject({ read: 4_000, synced: valid.length, rejected: want.rejected.length, duplicates: want.duplicates, resumed: true });

    // Nothing left behind: the checkpoint and any temp file a kill interrupted are gone.
    expect((await readdir(dir)).filter((n) => n.includes('checkpoint'))).toEqual([]);

    // Complete, exact state at the server.
    const stored = sb.state.contacts(sb.agentIds[0]!);
    expect(stored.length).toBe(valid.length);
    const byId = new Map(stored.map((c) => [c.external_id, c]));
    for (const w of valid) expect(byId.get(w.id)?.email).toBe(w.email);

    // The report: each rejected or duplicate row exactly once, across four processes.
    const lines = (await readFile(join(dir, 'rejected.csv'), 'utf8')).split('\r\n').filter(Boolean);
    expect(lines[0]!.startsWith('row,line,status,code,message')).toBe(true);
    const rowNums = lines.slice(1).map((l) => Number(l.split(',')[0]));
    expect(rowNums.length).toBe(j.rejected + j.duplicates);
    expect(new Set(rowNums).size).toBe(rowNums.length);

    // Re-sent work, measured at the server. Batches are fixed blocks of rows, and each ends in
    // exactly one accepted (200) write (a batch with a refused row first gets a 409, then its
    // other rows go again), so without kills there would be exactly ceil(4000 / BATCH) of them.
    const batches = Math.ceil(rows.length / BATCH);
    const accepted = sb.requests.filter((q) => q.method === 'POST' && q.status === 200);
    const resent = accepted.length - batches;
    const resentRows = accepted.reduce((n, q) => n + (q.items ?? 0), 0) - valid.length;
    console.log(`kill test: ${kills} kills, ${accepted.length} accepted writes for ${batches} batches (${resent} batches / ${resentRows} rows re-sent; bound ${kills * WORKERS} batches)`);
    expect(resent).toBeGreaterThanOrEqual(0);
    expect(resent).toBeLessThanOrEqual(kills * WORKERS);
    expect(resentRows).toBeLessThanOrEqual(kills * WORKERS * BATCH);
    expect(sb.requests.filter((q) => q.method === 'POST' && q.status !== 200).every((q) => q.status === 409)).toBe(true);
  } finally {
    await sb.close();
    await rm(dir, { recursive: true, force: true });
  }
}, 60_000);
