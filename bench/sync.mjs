// Sync: `chatid contacts sync` of N generated rows into the sandbox on loopback (the sandbox runs
// in its own process, bundled from src/sandbox), against csv-parse alone on the same file; the
// chatid process's peak RSS; then, with 50 ms server latency and the vendor's rate limit on
// (100 requests / 10 s sliding window), the request rate achieved against that limit and the
// number of 429s, counted at the server.
import { fork } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { CLI, childEnv, fmtInt, log, median, NODE, ROOT, runProcess, tempDir } from './lib/util.mjs';

const LIMIT = 100;
const WINDOW_MS = 10_000;
const LATENCY_MS = 50;

function writeCsv(path, n) {
  const fd = openSync(path, 'w');
  let chunk = 'external_id,name,email,phonenumber\n';
  for (let i = 1; i <= n; i++) {
    const id = String(i).padStart(7, '0');
    chunk += `user_${id},User ${id},user${id}@example.com,+1555${id}\n`;
    if (chunk.length > 1 << 20) {
      writeSync(fd, chunk);
      chunk = '';
    }
  }
  writeSync(fd, chunk);
  closeSync(fd);
}

async function bundleSandbox(dir) {
  const outfile = join(dir, 'sandbox.mjs');
  await build({
    entryPoints: [join(ROOT, 'src', 'sandbox', 'index.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  return outfile;
}

/** Start the sandbox in a child; resolves with {url, agentId, apiKey, stats(), close()}. */
function startSandboxChild(bundle, options) {
  const child = fork(join(ROOT, 'bench', 'sandbox-child.mjs'), [bundle, JSON.stringify(options)], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: childEnv(),
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`sandbox exited ${code} before it was ready`)));
    child.once('message', (m) => {
      child.removeAllListeners('exit');
      resolve({
        ...m,
        stats: () =>
          new Promise((res) => {
            child.once('message', (x) => res(x.stats));
            child.send({ cmd: 'stats' });
          }),
        close: () =>
          new Promise((res) => {
            child.once('exit', res);
            child.send({ cmd: 'close' });
          }),
      });
    });
  });
}

function syncEnv(sb, dir) {
  return childEnv({
    extra: {
      CHATID_PROVIDER: 'chatbase',
      CHATID_BASE_URL: sb.url,
      CHATID_API_KEY: sb.apiKey,
      CHATID_AGENT_ID: sb.agentId,
      CHATID_CONFIG_DIR: join(dir, 'config'),
    },
  });
}

function parseSummary(stdout) {
  try {
    return JSON.parse(stdout);
  } catch {
    return undefined;
  }
}

export async function benchSync({ rows: n, runs, rateSeconds }) {
  const rows = [];
  const notes = [];
  const dir = tempDir('chatid-bench-sync-');
  const csv = join(dir, 'contacts.csv');
  log(`sync: writing a CSV of ${fmtInt(n)} rows`);
  writeCsv(csv, n);
  let bundle;
  try {
    bundle = await bundleSandbox(dir);
  } catch (err) {
    notes.push(`sync skipped: the sandbox does not build yet (${String(err.message).split('\n')[0]}).`);
    return { rows, notes };
  }
  const section = `Sync (${fmtInt(n)} rows, sandbox on loopback)`;

  // 1. Throughput: no server rate limit or latency, and the client's own limit lifted.
  let sb = await startSandboxChild(bundle, { rateLimit: false });
  const env = syncEnv(sb, dir);
  const args = [CLI, 'contacts', 'sync', csv, '--json', '--rate-limit', '1000000/1s'];
  const probe = await runProcess(NODE, [CLI, 'contacts', 'sync', '--help'], { env });
  if (probe.code !== 0) {
    notes.push(`chatid contacts sync skipped: ${probe.stderr.split('\n').find(Boolean)?.slice(0, 200) ?? `exit ${probe.code}`}`);
    await sb.close();
    return { rows, notes };
  }
  const chatidMs = [];
  const floorMs = [];
  const rss = [];
  let summary;
  log(`sync: contacts sync vs csv-parse alone, ${runs} runs each`);
  for (let r = 0; r < runs; r++) {
    const f = await runProcess(NODE, [join(ROOT, 'bench', 'floors', 'csv-parse.mjs'), csv], { env, stdout: 'pipe' });
    if (f.code !== 0 || Number(f.stdout) !== n) throw new Error(`csv-parse floor failed: ${f.stderr || f.stdout}`);
    floorMs.push(f.ms);
    const x = await runProcess(NODE, args, { env, stdout: 'pipe', rss: true, cwd: dir });
    summary = parseSummary(x.stdout);
    if (x.code !== 0 || !summary) throw new Error(`chatid contacts sync exited ${x.code}: ${x.stderr.slice(0, 400)}`);
    if (summary.synced !== n) notes.push(`contacts sync run ${r + 1}: synced ${summary.synced} of ${n} (${JSON.stringify(summary)}).`);
    chatidMs.push(x.ms);
    if (x.rssMb !== undefined) rss.push(x.rssMb);
  }
  await sb.stats(); // drop the log
  await sb.close();
  const secs = (ms) => ms.map((x) => (x / 1000).toFixed(2)).join(', ');
  notes.push(`contacts sync, each run (s): ${secs(chatidMs)} (the first inserts ${fmtInt(n)} contacts into the sandbox, the others update them); csv-parse alone (s): ${secs(floorMs)}.`);
  const rate = n / (median(chatidMs) / 1000);
  const floorRate = n / (median(floorMs) / 1000);
  const share = rate / floorRate;
  rows.push({
    section,
    measure: 'chatid contacts sync (no server limit, --rate-limit lifted)',
    value: `${fmtInt(rate)} rows/s`,
    baseline: `${fmtInt(floorRate)} rows/s (csv-parse alone, same file)`,
    ratio: `${(share * 100).toFixed(0)}%`,
    target: '≥ 60%',
    result: share >= 0.6 ? 'PASS' : 'MISS',
  });
  if (rss.length) {
    const peak = Math.max(...rss);
    rows.push({
      section,
      measure: 'peak RSS of the chatid process (VmHWM, worst run)',
      value: `${peak.toFixed(0)} MB`,
      baseline: `batches of ${summary?.batches ? Math.round(n / summary.batches) : '?'} rows`,
      ratio: '',
      target: '≤ 200 MB',
      result: peak <= 200 ? 'PASS' : 'MISS',
    });
  } else {
    notes.push('peak RSS not measured: neither GNU time nor /proc is available.');
  }

  // 2. Against the vendor's limit: 50 ms latency, 100 requests / 10 s at the server, client defaults.
  sb = await startSandboxChild(bundle, { latencyMs: LATENCY_MS, rateLimit: { limit: LIMIT, windowMs: WINDOW_MS } });
  log(`sync: ${rateSeconds} s against the rate limit (${LIMIT}/${WINDOW_MS / 1000} s, ${LATENCY_MS} ms latency)`);
  const limited = await runProcess(NODE, [CLI, 'contacts', 'sync', csv, '--json'], {
    env: syncEnv(sb, dir),
    stdout: 'pipe',
    cwd: dir,
    onSpawn: (child) => setTimeout(() => child.kill('SIGINT'), rateSeconds * 1000).unref(),
  });
  const { statuses, writes } = await sb.stats();
  await sb.close();
  const accepted = writes.filter((w) => w[1] >= 200 && w[1] < 300);
  const tooMany = statuses[429] ?? 0;
  const total = Object.values(statuses).reduce((a, b) => a + b, 0);
  if (accepted.length < 2) {
    notes.push(`rate-limited sync: only ${accepted.length} accepted writes (exit ${limited.code}: ${limited.stderr.slice(0, 200)}).`);
    return { rows, notes };
  }
  // At most LIMIT accepted requests fit in any WINDOW_MS: count whole windows from the first write.
  const first = accepted[0][0];
  const windows = Math.max(1, Math.floor((accepted[accepted.length - 1][0] - first) / WINDOW_MS));
  const inWindows = accepted.filter((w) => w[0] < first + windows * WINDOW_MS).length;
  const allowed = windows * LIMIT;
  const achieved = inWindows / allowed;
  rows.push({
    section: `Sync against the limit (${LATENCY_MS} ms latency, ${LIMIT} req / ${WINDOW_MS / 1000} s, client defaults)`,
    measure: `achieved request rate over ${windows} whole windows`,
    value: `${((inWindows / (windows * WINDOW_MS)) * 1000).toFixed(2)} req/s`,
    baseline: `${((LIMIT / WINDOW_MS) * 1000).toFixed(2)} req/s allowed`,
    ratio: `${(achieved * 100).toFixed(1)}%`,
    target: '≥ 90%',
    result: achieved >= 0.9 ? 'PASS' : 'MISS',
  });
  const storm = tooMany > Math.max(3, total * 0.02);
  rows.push({
    section: `Sync against the limit (${LATENCY_MS} ms latency, ${LIMIT} req / ${WINDOW_MS / 1000} s, client defaults)`,
    measure: `429 responses (of ${total} requests in ${rateSeconds} s)`,
    value: String(tooMany),
    baseline: `${fmtInt(accepted.reduce((a, w) => a + w[2], 0))} rows accepted`,
    ratio: '',
    target: 'no 429 storm (≤ 2% of requests)',
    result: storm ? 'MISS' : 'PASS',
  });
  return { rows, notes };
}
