// Batch: `hash --batch`, `token sign --batch`, `encrypt --batch` on N ids with stdout to /dev/null,
// against a floor written straight on node:crypto (bench/floors/*.mjs, also a whole process on
// the same file) and against peers run once per id. Each chatid figure is checked for
// correctness on a small sample first (hashes equal the floor's; tokens and ciphertexts verify).
import { createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CLI, childEnv, fmtInt, log, median, NODE, ROOT, runProcess, tempDir, timeProcess, which } from './lib/util.mjs';
import { SECRET } from './startup.mjs';

const FLOORS = join(ROOT, 'bench', 'floors');

function writeIds(path, n) {
  const fd = openSync(path, 'w');
  let chunk = '';
  for (let i = 1; i <= n; i++) {
    chunk += `user_${String(i).padStart(7, '0')}\n`;
    if (chunk.length > 1 << 20) {
      writeFileSync(fd, chunk);
      chunk = '';
    }
  }
  writeFileSync(fd, chunk);
  closeSync(fd);
}

function checkHash(ids, lines) {
  const bad = ids.findIndex((id, i) => lines[i] !== createHmac('sha256', SECRET).update(id).digest('hex'));
  return bad < 0 ? undefined : `row ${bad + 1}: got ${lines[bad]}`;
}

function checkToken(ids, lines) {
  for (let i = 0; i < ids.length; i++) {
    const t = lines[i] ?? '';
    const [h, p, s] = t.split('.');
    const ok = s === createHmac('sha256', SECRET).update(`${h}.${p}`).digest('base64url');
    let payload;
    try {
      payload = JSON.parse(Buffer.from(p ?? '', 'base64url').toString());
    } catch {
      payload = undefined;
    }
    if (!ok || payload?.user_id !== ids[i]) return `row ${i + 1}: ${t.slice(0, 80)}`;
  }
  return undefined;
}

function checkEncrypt(key) {
  return (ids, lines) => {
    for (let i = 0; i < ids.length; i++) {
      try {
        const raw = Buffer.from(lines[i] ?? '', 'base64');
        const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        d.setAuthTag(raw.subarray(raw.length - 16));
        const pt = JSON.parse(Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString());
        if (pt.id !== ids[i]) return `row ${i + 1}: payload ${JSON.stringify(pt)}`;
      } catch (err) {
        return `row ${i + 1}: ${err.message}`;
      }
    }
    return undefined;
  };
}

export async function benchBatch({ rows: n, runs, peerRuns, peerDir }) {
  const dir = tempDir('chatid-bench-batch-');
  const ids = join(dir, 'ids.txt');
  const sampleIds = Array.from({ length: 1000 }, (_, i) => `user_${String(i + 1).padStart(7, '0')}`);
  const sample = join(dir, 'sample.txt');
  writeFileSync(sample, `${sampleIds.join('\n')}\n`);
  log(`batch: writing ${fmtInt(n)} ids`);
  writeIds(ids, n);
  const aesKey = randomBytes(32);
  const keyFile = join(dir, 'hmac.key');
  writeFileSync(keyFile, SECRET);

  const env = childEnv({ extra: { CHATID_CONFIG_DIR: join(dir, 'config') } });
  const hmacEnv = { ...env, CHATID_SECRET: SECRET, CHATID_PROVIDER: 'chatbase' };
  const aesEnv = { ...env, CHATID_SECRET: aesKey.toString('base64'), CHATID_PROVIDER: 'teamweb' };
  const jwt = which('jwt');
  const openssl = which('openssl');
  const jwtgen = join(peerDir, 'node_modules', '.bin', 'jwtgen');

  const cases = [
    {
      label: 'hash --batch',
      args: ['hash', '--batch'],
      env: hmacEnv,
      floor: 'hash.mjs',
      floorLabel: 'node:crypto HMAC loop',
      target: 0.5,
      check: checkHash,
      peers: [
        openssl
          ? { label: 'peer: openssl dgst -sha256 -hmac, one process per id', cmd: openssl, args: () => ['dgst', '-sha256', '-hmac', SECRET], input: (id) => id }
          : { skip: 'peer openssl dgst skipped: openssl is not on PATH.' },
      ],
    },
    {
      label: 'token sign --batch',
      args: ['token', 'sign', '--batch'],
      env: hmacEnv,
      floor: 'sign.mjs',
      floorLabel: 'HS256 by hand on node:crypto',
      target: 0.4,
      check: checkToken,
      peers: [
        jwt
          ? { label: 'peer: jwt -sign (Debian golang-jwt), one process per id', cmd: jwt, args: (id) => ['-alg', 'HS256', '-key', keyFile, '-claim', `user_id=${id}`, '-sign', '+'] }
          : { skip: 'peer jwt (golang-jwt) skipped: not installed (Debian: apt-get install jwt).' },
        existsSync(jwtgen)
          ? { label: 'peer: jwtgen (npm), one process per id', cmd: jwtgen, args: (id) => ['-a', 'HS256', '-s', SECRET, '-c', `user_id=${id}`, '-e', '3600'], runs: Math.max(10, Math.round(peerRuns / 4)) }
          : { skip: `peer jwtgen skipped: not installed in ${peerDir} (bench/install-peers.sh).` },
      ],
    },
    {
      label: 'encrypt --batch',
      args: ['encrypt', '--batch'],
      env: aesEnv,
      floor: 'encrypt.mjs',
      floorLabel: 'AES-256-GCM loop on node:crypto',
      target: undefined,
      check: checkEncrypt(aesKey),
      peers: [{ skip: 'encrypt has no CLI peer: openssl enc refuses AEAD ciphers such as AES-GCM.' }],
    },
  ];

  const rows = [];
  const notes = [];
  const devnull = openSync('/dev/null', 'w');
  for (const c of cases) {
    // Does the command exist yet, and is its output right?
    let probe;
    try {
      probe = timeProcess(NODE, [CLI, ...c.args, sample], { env: c.env });
    } catch (err) {
      notes.push(`chatid ${c.label} skipped: ${err.reason ?? String(err.message).split('\n')[0].slice(0, 200)}`);
      continue;
    }
    const wrong = c.check(sampleIds, probe.stdout.split('\n'));
    if (wrong) notes.push(`chatid ${c.label}: output on the 1 000-id sample is not what the floor computes (${wrong}).`);

    log(`batch: ${c.label} vs ${c.floorLabel}, ${runs} runs each of ${fmtInt(n)} ids`);
    const chatidMs = [];
    const floorMs = [];
    for (let r = 0; r < runs; r++) {
      const f = await runProcess(NODE, [join(FLOORS, c.floor), ids], { env: c.env, stdout: devnull });
      if (f.code !== 0) throw new Error(`floor ${c.floor} failed: ${f.stderr}`);
      floorMs.push(f.ms);
      const x = await runProcess(NODE, [CLI, ...c.args, ids], { env: c.env, stdout: devnull });
      if (x.code !== 0) throw new Error(`chatid ${c.label} exited ${x.code}: ${x.stderr.slice(0, 300)}`);
      chatidMs.push(x.ms);
    }
    const rate = n / (median(chatidMs) / 1000);
    const floorRate = n / (median(floorMs) / 1000);
    const share = rate / floorRate;
    rows.push({
      section: `Batch (${fmtInt(n)} ids, stdout to /dev/null)`,
      measure: `chatid ${c.label}`,
      value: `${fmtInt(rate)} rows/s`,
      baseline: `${fmtInt(floorRate)} rows/s (${c.floorLabel})`,
      ratio: `${(share * 100).toFixed(0)}%`,
      target: c.target === undefined ? '' : `≥ ${c.target * 100}%`,
      result: c.target === undefined ? 'info' : share >= c.target ? 'PASS' : 'MISS',
    });
    for (const p of c.peers) {
      if (p.skip) {
        notes.push(p.skip);
        continue;
      }
      const count = p.runs ?? peerRuns;
      log(`batch: ${p.label} × ${count}`);
      let total = 0;
      try {
        for (let i = 0; i < count; i++) {
          const id = sampleIds[i % sampleIds.length];
          const t0 = performance.now();
          timeProcess(p.cmd, p.args(id), { env, input: p.input?.(id) });
          total += performance.now() - t0;
        }
      } catch (err) {
        notes.push(`${p.label} skipped: ${String(err.message).split('\n')[0].slice(0, 200)}`);
        continue;
      }
      const peerRate = count / (total / 1000);
      rows.push({
        section: `Batch (${fmtInt(n)} ids, stdout to /dev/null)`,
        measure: p.label,
        value: `${fmtInt(peerRate)} rows/s`,
        baseline: `${fmtInt(rate)} rows/s (chatid ${c.label})`,
        ratio: `chatid ${(rate / peerRate).toFixed(0)}× faster`,
        target: '',
        result: `info (${count} runs, extrapolated)`,
      });
    }
  }
  closeSync(devnull);
  return { rows, notes };
}
