// `npm run bench`: builds, then measures chatid against its floors and peers in the same run and
// prints ONE table (Markdown) with the machine's description. See docs/performance.md.
//
// Environment:
//   BENCH_QUICK=1            shorter run: 100 000 rows instead of 1 000 000, fewer repetitions
//   BENCH_ONLY=startup,batch,sync   run some sections only
//   BENCH_ROWS=n             rows for the batch and sync figures (default 1 000 000)
//   BENCH_STARTUP_RUNS=n     runs per start-up command (default 15)
//   BENCH_RUNS=n             runs per throughput figure (default 3)
//   BENCH_PEER_RUNS=n        processes per peer for one-process-per-id figures (default 200)
//   BENCH_PEERS_DIR=dir      where bench/install-peers.sh put npm peers (default ~/.cache/chatid-bench-peers)
//   BENCH_RATE_SECONDS=n     length of the rate-limited sync (default 40)
//   BENCH_JSON=file          also write the rows as JSON
import { writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { benchBatch } from './batch.mjs';
import { envInt, loadNow, log, machineDescription } from './lib/util.mjs';
import { benchStartup } from './startup.mjs';
import { benchSync } from './sync.mjs';

// Ctrl-C: still run the 'exit' handlers that remove temp dirs and the CLI snapshot.
process.on('SIGINT', () => process.exit(130));

const quick = process.env.BENCH_QUICK === '1';
const only = new Set((process.env.BENCH_ONLY ?? 'startup,batch,sync').split(',').map((s) => s.trim()));
const cfg = {
  rows: envInt('BENCH_ROWS', quick ? 100_000 : 1_000_000),
  startupRuns: envInt('BENCH_STARTUP_RUNS', quick ? 7 : 15),
  runs: envInt('BENCH_RUNS', quick ? 1 : 3),
  peerRuns: envInt('BENCH_PEER_RUNS', quick ? 40 : 200),
  rateSeconds: envInt('BENCH_RATE_SECONDS', quick ? 25 : 40),
  peerDir: process.env.BENCH_PEERS_DIR ?? join(homedir(), '.cache', 'chatid-bench-peers'),
};

const machine = machineDescription();
const started = Date.now();
const loads = [];
const rows = [];
const notes = [];
const sections = [
  ['startup', () => benchStartup({ runs: cfg.startupRuns, peerDir: cfg.peerDir })],
  ['batch', () => benchBatch(cfg)],
  ['sync', () => benchSync(cfg)],
];
for (const [name, fn] of sections) {
  if (!only.has(name)) continue;
  loads.push(loadNow());
  try {
    const r = await fn();
    rows.push(...r.rows);
    notes.push(...r.notes);
  } catch (err) {
    notes.push(`${name}: failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  }
}
loads.push(loadNow());

const out = [];
out.push(`chatid benchmark — ${new Date(started).toISOString()}, ${((Date.now() - started) / 1000).toFixed(0)} s`);
out.push('');
out.push(`- CPU: ${machine.cpu}`);
out.push(`- Memory: ${machine.memory}`);
out.push(`- OS: ${machine.os}; Node ${machine.node}`);
out.push(`- ${machine.ca}; start-up rows say which way each was measured`);
if (machine.nodeOptions) out.push(`- ${machine.nodeOptions}`);
out.push(`- ${machine.load}; 1-min load average per section: ${loads.map((l) => l.toFixed(2)).join(', ')}`);
out.push(
  `- Settings: ${cfg.rows.toLocaleString('en-US')} rows; medians of ${cfg.startupRuns} start-up runs and ${cfg.runs} throughput runs; ` +
    `peers one process per id × ${cfg.peerRuns}${quick ? ' (BENCH_QUICK)' : ''}`,
);
out.push('');
const header = ['Section', 'Measure', 'chatid', 'Baseline (same run)', 'Ratio', 'Target', 'Result'];
out.push(`| ${header.join(' | ')} |`);
out.push(`|${header.map(() => '---').join('|')}|`);
for (const r of rows) {
  out.push(`| ${[r.section, r.measure, r.value, r.baseline, r.ratio, r.target, r.result].map((c) => String(c ?? '').replace(/\|/g, '\\|')).join(' | ')} |`);
}
if (notes.length) {
  out.push('');
  for (const n of notes) out.push(`- ${n}`);
}
process.stdout.write(`${out.join('\n')}\n`);
if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify({ machine, cfg, loads, rows, notes }, null, 2));
