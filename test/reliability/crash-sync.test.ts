// Crash safety of contacts sync (issue 6): the real CLI syncs a 3000-row file into a loopback
// sandbox and is SIGKILLed at random points, then resumed, several times over. After every
// kill the checkpoint parses and the report, up to the length the checkpoint acknowledges,
// is whole CSV lines. After the final resume: every valid row is at the vendor, each rejected
// and duplicate row is in the report exactly once, the counts add up to the rows in the file,
// no checkpoint is left behind, and at most one batch per worker was sent again per kill.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/index.js';
import { loadCheckpoint } from '../../src/sync/checkpoint.js';
import { BIN, describeBuilt } from '../corpus/harness.js';

const tmp = mkdtempSync(join(tmpdir(), 'chatid-crash-sync-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ROWS = 4000;
const BATCH = 50;
const WORKERS = 3;

/** Rows with a bad email are rejected; every 211th row repeats an earlier id (a duplicate). */
function buildCsv(): { csv: string; valid: Set<string>; rejected: number; duplicates: number } {
  const lines = ['external_id,name,email'];
  const valid = new Set<string>();
  let rejected = 0;
  let duplicates = 0;
  const rows: Array<{ id: string; bad: boolean }> = [];
  for (let i = 1; i <= ROWS; i++) {
    const id = i % 211 === 0 ? `user_${i - 100}` : `user_${i}`;
    const bad = i % 97 === 0;
    rows.push({ id, bad });
    lines.push(`${id},"Name ${i}, Jr.",${bad ? 'not-an-email' : `u${i}@example.com`}`);
  }
  // The last occurrence of an id wins; earlier ones are duplicates (whatever their validity).
  const last = new Map<string, number>();
  rows.forEach((r, i) => last.set(r.id, i));
  rows.forEach((r, i) => {
    if (last.get(r.id) !== i) duplicates++;
    else if (r.bad) rejected++;
    else valid.add(r.id);
  });
  return { csv: `${lines.join('\n')}\n`, valid, rejected, duplicates };
}

/** Complete CSV lines: an even number of quotes overall and a final line break. */
function isWholeLines(text: string): boolean {
  if (text === '') return true;
  return text.endsWith('\n') && ((text.match(/"/g) ?? []).length % 2 === 0);
}

describeBuilt('crash safety: contacts sync under SIGKILL', () => {
  it('resumes after random kills with nothing lost, each report row once, and bounded re-sends', async () => {
    const { csv, valid, rejected, duplicates } = buildCsv();
    const dir = join(tmp, 'run');
    mkdirSync(dir);
    writeFileSync(join(dir, 'contacts.csv'), csv);
    const sb = await startSandbox({ rateLimit: false, latencyMs: 15 });
    // A temp directory of its own: the rows the scan keeps for the sync pass must not outlive a kill.
    const tmpDir = join(dir, 'tmp');
    mkdirSync(tmpDir);
    const env = { PATH: process.env.PATH ?? '', HOME: dir, TMPDIR: tmpDir, CHATID_CONFIG_DIR: join(dir, 'cfg'), CHATID_PROVIDER: 'chatbase', CHATID_AGENT_ID: sb.agentIds[0]!, CHATID_BASE_URL: sb.url, CHATID_API_KEY: sb.apiKeys[0]! };
    const argv = [BIN, 'contacts', 'sync', 'contacts.csv', '--report', 'report.csv', '--batch-size', String(BATCH), '--concurrency', String(WORKERS), '--resume', '--json'];
    const rand = mulberry32(11);
    let kills = 0;
    let finished: { code: number | null; stdout: string; stderr: string } | undefined;
    try {
      for (let attempt = 0; attempt < 8 && !finished; attempt++) {
        const killThis = attempt < 5;
        const child = spawn(process.execPath, argv, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
        if (killThis) {
          // Kill at a random point once the sync is writing
          // (the first contacts POST of this run), so a kill always lands before the end.
          const posts = () => sb.requests.filter((r) => r.method === 'POST').length;
          const start = posts();
          for (let w = 0; posts() <= start && w < 10_000; w += 5) await delay(5);
          await delay(Math.floor(rand() * 120));
          child.kill('SIGKILL');
        }
        const code = await done;
        if (code === null) {
          kills++;
          expect(readdirSync(tmpDir), `attempt ${attempt}: files left in the temp directory by a killed sync`).toEqual([]);
          expect(stderr, `attempt ${attempt}: output before the kill`).not.toMatch(/^\s+at /m);
          const cpPath = join(dir, 'contacts.csv.chatid-checkpoint.json');
          const cp = await loadCheckpoint(cpPath); // throws on a damaged checkpoint
          if (cp) {
            expect(statSync(cpPath).mode & 0o777).toBe(0o600);
            expect(cp.counts.read, 'checkpoint counts add up').toBe(cp.counts.synced + cp.counts.rejected + cp.counts.duplicates);
            if (cp.report) {
              const report = readFileSync(join(dir, 'report.csv'));
              expect(report.length, 'the report is shorter than the checkpoint says').toBeGreaterThanOrEqual(cp.report.bytes);
              expect(isWholeLines(report.subarray(0, cp.report.bytes).toString('utf8')), `attempt ${attempt}: acknowledged report prefix is not whole lines`).toBe(true);
              expect(statSync(join(dir, 'report.csv')).mode & 0o777).toBe(0o600);
            }
          }
        } else {
          finished = { code, stdout, stderr };
        }
      }
      expect(finished, 'the sync never finished').toBeDefined();
      if (process.env.CRASH_TRACE) console.log(`kills ${kills}, requests ${sb.requests.length}`);
      expect(kills, 'no kill landed while the sync ran').toBeGreaterThanOrEqual(3);
      const f = finished!;
      expect(f.code, f.stdout + f.stderr).toBe(5);
      const summary = JSON.parse(f.stdout);
      expect({ read: summary.read, synced: summary.synced, rejected: summary.rejected, duplicates: summary.duplicates }).toEqual({
        read: ROWS,
        synced: valid.size,
        rejected,
        duplicates,
      });
      // Every valid row is at the vendor, with the value of its last occurrence.
      const stored = sb.state.contacts(sb.agentIds[0]!);
      expect(stored.map((c) => c.external_id).sort()).toEqual([...valid].sort());
      // The report: each rejected and duplicate row once.
      const lines = readFileSync(join(dir, 'report.csv'), 'utf8').trimEnd().split(/\r?\n/).slice(1);
      const keys = lines.map((l) => l.split(',').slice(0, 3).join(','));
      expect(keys.length, 'report rows').toBe(rejected + duplicates);
      expect(new Set(keys).size, 'a report row was written twice').toBe(keys.length);
      // No checkpoint garbage after the end.
      expect(readdirSync(dir).filter((n) => n.includes('checkpoint'))).toEqual([]);
      // Re-sends: at most one batch per worker per kill.
      const sent = sb.requests.filter((r) => r.method === 'POST' && r.status === 200).reduce((n, r) => n + (r.items ?? 0), 0);
      const sentRows = valid.size; // rows the vendor needed
      expect(sent - sentRows, `rows sent again across ${kills} kills`).toBeLessThanOrEqual(kills * WORKERS * BATCH);
      expect(existsSync(join(dir, 'contacts.csv.chatid-checkpoint.json.tmp'))).toBe(false);
    } finally {
      await sb.close();
    }
  }, 60_000);

  it('stops on SIGINT with exit 130 and a usable checkpoint, and --resume finishes the job', async () => {
    const { csv, valid } = buildCsv();
    const dir = join(tmp, 'sigint');
    mkdirSync(dir);
    writeFileSync(join(dir, 'contacts.csv'), csv);
    const sb = await startSandbox({ rateLimit: false, latencyMs: 15 });
    const env = { PATH: process.env.PATH ?? '', HOME: dir, CHATID_CONFIG_DIR: join(dir, 'cfg'), CHATID_PROVIDER: 'chatbase', CHATID_AGENT_ID: sb.agentIds[0]!, CHATID_BASE_URL: sb.url, CHATID_API_KEY: sb.apiKeys[0]! };
    const argv = [BIN, 'contacts', 'sync', 'contacts.csv', '--report', 'report.csv', '--batch-size', String(BATCH), '--concurrency', String(WORKERS), '--json'];
    try {
      const child = spawn(process.execPath, argv, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      // Ctrl-C once a few batches have been answered (and so acknowledged and checkpointed).
      for (let w = 0; sb.requests.filter((r) => r.method === 'POST' && r.status === 200).length < 6 && w < 10_000; w += 5) await delay(5);
      await delay(50);
      child.kill('SIGINT');
      const code = await done;
      expect(code, stdout).toBe(130);
      expect(() => JSON.parse(stdout), `one JSON document after Ctrl-C:\n${stdout}`).not.toThrow();
      expect(JSON.parse(stdout).error?.code).toBe('ERR_CANCELLED');
      const cp = await loadCheckpoint(join(dir, 'contacts.csv.chatid-checkpoint.json'));
      expect(cp, `no checkpoint after Ctrl-C; files: ${readdirSync(dir).join(', ')}\n${stdout}`).toBeDefined();
      const resumed = spawn(process.execPath, [...argv, '--resume'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out2 = '';
      resumed.stdout.setEncoding('utf8').on('data', (d: string) => (out2 += d));
      const code2 = await new Promise<number | null>((resolve) => resumed.on('close', (c) => resolve(c)));
      expect(code2, out2).toBe(5);
      const s = JSON.parse(out2);
      expect([s.read, s.resumed]).toEqual([ROWS, true]);
      expect(sb.state.contacts(sb.agentIds[0]!).length).toBe(valid.size);
    } finally {
      await sb.close();
    }
  }, 60_000);
});
