// Start-up: whole `chatid` processes against `node -e 0`, run interleaved (round robin) so that
// load from other processes on the machine falls on every command alike. Medians.
import { createHmac } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { CLI, childEnv, log, median, NODE, tempDir, timeProcess, which } from './lib/util.mjs';

export const SECRET = 'bench-secret-0123456789abcdef-0123456789abcdef';
const USER = 'user_123';

/** An HS256 Chatbase token for `token verify`, made by hand so it does not depend on `token sign`. */
export function handToken(secret = SECRET, nowSec = Math.floor(Date.now() / 1000)) {
  const b64u = (s) => Buffer.from(s).toString('base64url');
  const head = b64u(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64u(JSON.stringify({ user_id: USER, iat: nowSec, exp: nowSec + 3600 }));
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

/** A config dir holding one active profile with the secret, for `hash` from the store. */
function profileDir(root) {
  const dir = join(root, 'profile-config');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ activeProfile: 'bench', profiles: { bench: { provider: 'chatbase', secret: SECRET } } }), { mode: 0o600 });
  chmodSync(file, 0o600);
  return dir;
}

/**
 * @returns {Promise<{rows: object[], notes: string[]}>}
 */
export async function benchStartup({ runs, peerDir }) {
  const root = tempDir('chatid-bench-startup-');
  const emptyConfig = join(root, 'empty-config');
  mkdirSync(emptyConfig, { mode: 0o700 });
  const storeConfig = profileDir(root);
  const token = handToken();
  const secretEnv = { CHATID_SECRET: SECRET, CHATID_PROVIDER: 'chatbase', CHATID_CONFIG_DIR: emptyConfig };
  const notes = [];

  /** chatid commands: [label, args, extra env, target ratio] */
  const commands = [
    ['chatid --version', ['--version'], {}, 1.3],
    ['chatid --help', ['--help'], {}, undefined],
    [`chatid hash ${USER} (secret from env)`, ['hash', USER], secretEnv, 1.6],
    [`chatid hash ${USER} (secret from a profile)`, ['hash', USER], { CHATID_CONFIG_DIR: storeConfig }, undefined],
    [`chatid token sign --user-id ${USER}`, ['token', 'sign', '--user-id', USER], secretEnv, 1.6],
    ['chatid token verify <jwt>', ['token', 'verify', token], secretEnv, 1.6],
  ];

  const keyFile = join(root, 'hmac.key');
  writeFileSync(keyFile, SECRET);
  const claimsFile = join(root, 'claims.json');
  writeFileSync(claimsFile, JSON.stringify({ user_id: USER }));
  /** peers: [label, cmd, args, input, compareWith] */
  const peers = [];
  const openssl = which('openssl');
  if (openssl) peers.push([`peer: openssl dgst -sha256 -hmac (Debian ${opensslVersion(openssl)})`, openssl, ['dgst', '-sha256', '-hmac', SECRET], USER, 2]);
  else notes.push('peer openssl dgst skipped: openssl is not on PATH.');
  const jwt = which('jwt');
  if (jwt) {
    peers.push(['peer: jwt -sign (Debian golang-jwt 4.x CLI)', jwt, ['-alg', 'HS256', '-key', keyFile, '-sign', claimsFile], undefined, 4]);
    peers.push(['peer: jwt -verify (Debian golang-jwt 4.x CLI)', jwt, ['-alg', 'HS256', '-key', keyFile, '-verify', '-'], token, 5]);
  } else {
    notes.push('peer jwt (golang-jwt) skipped: not installed (Debian: apt-get install jwt).');
  }
  const jwtgen = peerDir ? join(peerDir, 'node_modules', '.bin', 'jwtgen') : undefined;
  if (jwtgen && existsSync(jwtgen)) {
    peers.push(['peer: jwtgen -a HS256 (npm, Node)', jwtgen, ['-a', 'HS256', '-s', SECRET, '-c', `user_id=${USER}`, '-e', '3600'], undefined, 4]);
  } else {
    notes.push(`peer jwtgen skipped: not installed in ${peerDir ?? '(BENCH_PEERS_DIR unset)'} (bench/install-peers.sh installs it).`);
  }

  // Commands not built yet are skipped, with the reason printed.
  const probeEnv = childEnv();
  const live = [];
  for (const c of commands) {
    try {
      timeProcess(NODE, [CLI, ...c[1]], { env: { ...probeEnv, ...c[2] } });
      live.push(c);
    } catch (err) {
      notes.push(`${c[0]} skipped: ${err.reason ?? firstLine(err.message)}`);
    }
  }
  const livePeers = [];
  for (const p of peers) {
    try {
      timeProcess(p[1], p[2], { env: probeEnv, input: p[3] });
      livePeers.push(p);
    } catch (err) {
      notes.push(`${p[0]} skipped: ${err.reason ?? firstLine(err.message)}`);
    }
  }

  for (const [label, args, extra] of live) {
    const l = loadedBy(args, { ...probeEnv, ...extra });
    if (!l) {
      notes.push('start-up paths not listed: strace is not installed.');
      break;
    }
    notes.push(`${label} loads ${l.dist} file${l.dist === 1 ? "" : "s"} of dist/ (${l.kb.toFixed(0)} KB); heavy packages: ${l.heavy.length ? l.heavy.join(', ') : 'none'}.`);
  }

  const rows = [];
  for (const ca of [false, true]) {
    const caLabel = ca ? 'NODE_EXTRA_CA_CERTS set' : 'NODE_EXTRA_CA_CERTS unset';
    const caExtra = {};
    if (ca && !process.env.NODE_EXTRA_CA_CERTS) {
      const bundle = '/etc/ssl/certs/ca-certificates.crt';
      if (!existsSync(bundle)) {
        notes.push('start-up with NODE_EXTRA_CA_CERTS skipped: not set here and no system CA bundle to point it at.');
        continue;
      }
      caExtra.NODE_EXTRA_CA_CERTS = bundle;
    }
    const base = childEnv({ ca, extra: caExtra });
    // Peers do not read Node's CA variable (jwtgen does, but it is informational): measure them once.
    const jobs = [
      { label: 'node -e 0', cmd: NODE, args: ['-e', '0'], env: base },
      ...live.map(([label, args, extra, target]) => ({ label, cmd: NODE, args: [CLI, ...args], env: { ...base, ...extra }, target })),
      ...(ca ? [] : livePeers.map(([label, cmd, args, input, cmpIdx]) => ({ label, cmd, args, input, env: base, peer: true, cmpIdx }))),
    ];
    log(`start-up (${caLabel}): ${jobs.length} commands × ${runs} runs, interleaved`);
    const times = jobs.map(() => []);
    for (let r = -2; r < runs; r++) {
      jobs.forEach((j, i) => {
        const { ms } = timeProcess(j.cmd, j.args, { env: j.env, input: j.input });
        if (r >= 0) times[i].push(ms);
      });
    }
    const med = times.map(median);
    const nodeMs = med[0];
    const byLabel = new Map(jobs.map((j, i) => [j.label, med[i]]));
    jobs.forEach((j, i) => {
      if (i === 0) return;
      if (j.peer) {
        const cmp = commands[j.cmpIdx];
        const chatidMs = cmp ? byLabel.get(cmp[0]) : undefined;
        rows.push({
          section: `Start-up (${caLabel})`,
          measure: j.label,
          value: `${med[i].toFixed(1)} ms`,
          baseline: chatidMs === undefined ? '—' : `${chatidMs.toFixed(1)} ms (${cmp[0].replace(/ \(.*/, '')})`,
          ratio: `${(med[i] / nodeMs).toFixed(2)}× node -e 0`,
          target: '',
          result: 'info',
        });
        return;
      }
      const ratio = med[i] / nodeMs;
      rows.push({
        section: `Start-up (${caLabel})`,
        measure: j.label,
        value: `${med[i].toFixed(1)} ms`,
        baseline: `${nodeMs.toFixed(1)} ms (node -e 0)`,
        ratio: `${ratio.toFixed(2)}×`,
        target: j.target === undefined ? '' : `≤ ${j.target}×`,
        result: j.target === undefined || ca ? 'info' : ratio <= j.target ? 'PASS' : 'MISS',
      });
    });
  }
  return { rows, notes };
}

/**
 * Which files of the CLI one command opens (strace), and the heavy packages among them (from
 * dist/startup.json, written by the build). Undefined when strace is missing.
 */
function loadedBy(args, env) {
  const strace = which('strace');
  if (!strace) return undefined;
  const root = dirname(dirname(CLI));
  const out = join(tempDir('chatid-bench-strace-'), 'trace');
  spawnSync(strace, ['-f', '-qq', '-e', 'trace=openat,open', '-o', out, NODE, CLI, ...args], { env, stdio: 'ignore' });
  let meta;
  try {
    meta = JSON.parse(readFileSync(join(root, 'dist', 'startup.json'), 'utf8'));
  } catch {
    meta = { heavy: [], packages: {} };
  }
  const files = new Set();
  // Threads interleave, so a call may be split into "<unfinished …>" and "resumed" lines: take
  // every .js path opened and keep those that exist and did not fail on the same line.
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    const m = /open(?:at)?\([^"]*"([^"]+\.(?:m?js|cjs|cache))"/.exec(line);
    if (m && !/= -1 E/.test(line) && existsSync(m[1])) files.add(m[1]);
  }
  const heavy = new Set();
  let dist = 0;
  let bytes = 0;
  for (const f of files) {
    const rel = relative(root, f);
    if (rel.startsWith('dist/')) {
      dist++;
      bytes += statSync(f).size;
      for (const p of meta.packages[rel] ?? []) if (meta.heavy.some((h) => p === h || p.startsWith(`${h}/`))) heavy.add(p);
    }
    const nm = /node_modules\/((@[^/]+\/)?[^/]+)\//.exec(f)?.[1];
    if (nm && meta.heavy.some((h) => nm === h || nm.startsWith(`${h}/`))) heavy.add(nm);
  }
  return { dist, kb: bytes / 1024, heavy: [...heavy].sort() };
}

function firstLine(s) {
  return String(s).split('\n').find((l) => l.trim() !== '')?.slice(0, 200) ?? '';
}

function opensslVersion(openssl) {
  try {
    return timeProcess(openssl, ['version']).stdout.trim().split(' ').slice(0, 2).join(' ');
  } catch {
    return 'openssl';
  }
}
