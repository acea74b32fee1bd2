// Interop with Python `cryptography` (Debian's /usr/bin/python3, python3-cryptography), both
// ways, through the whole CLI, written the way TeamWeb's own sample does it
// (vendors.md §4): key = base64-decoded identity secret, AESGCM(key), 12-byte nonce, no AAD,
// token = base64(nonce + AESGCM.encrypt(...)), where encrypt already returns ciphertext‖tag.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli } from '../helpers/test-ctx.js';

const PY = '/usr/bin/python3';
const probe = existsSync(PY)
  ? spawnSync(PY, ['-c', 'import cryptography; from cryptography.hazmat.primitives.ciphers.aead import AESGCM; print(cryptography.__version__)'], { encoding: 'utf8' })
  : undefined;
const version = probe?.status === 0 ? probe.stdout.trim() : undefined;
const reason = !existsSync(PY) ? `${PY} not found` : `cryptography not importable by ${PY} (apt install python3-cryptography)`;

const KEY = Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
const OTHER = Buffer.from('fedcba9876543210fedcba9876543210').toString('base64');
const env = { CHATID_SECRET: KEY, CHATID_PROVIDER: 'teamweb' };

const PRELUDE = `
import base64, json, os, sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.exceptions import InvalidTag
args = json.load(sys.stdin)
key = base64.b64decode(args["key"])
`;

/** Run Python with JSON in and JSON out. */
function py(code: string, input: unknown): any {
  const r = spawnSync(PY, ['-c', PRELUDE + code], { input: JSON.stringify(input), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// The vendor's decrypt sample: split the nonce, AESGCM.decrypt the rest (ciphertext‖tag).
const PY_DECRYPT = `
data = base64.b64decode(args["token"], validate=True)
try:
    plain = AESGCM(key).decrypt(data[:12], data[12:], None)
    print(json.dumps({"ok": True, "payload": json.loads(plain.decode("utf-8")), "bytes": len(data)}))
except InvalidTag:
    print(json.dumps({"ok": False}))
`;

// The vendor's encrypt sample: random 12-byte nonce, nonce + AESGCM.encrypt(...), base64.
const PY_ENCRYPT = `
nonce = os.urandom(12)
ct = AESGCM(key).encrypt(nonce, json.dumps(args["payload"]).encode("utf-8"), None)
print(json.dumps({"token": base64.b64encode(nonce + ct).decode("ascii")}))
`;

describe.skipIf(version === undefined)(`Python cryptography ${version ?? `(skipped: ${reason})`} interop`, () => {
  const payloads = [
    { args: ['--id', 'user_123'], payload: { id: 'user_123' } },
    { args: ['--id', 'ünï-ユーザー', '--name', 'Ada Lovelace', '--email', 'ada@example.com'], payload: { id: 'ünï-ユーザー', name: 'Ada Lovelace', email: 'ada@example.com' } },
  ];
  for (const p of payloads) {
    it(`AESGCM decrypts chatid encrypt ${p.args.join(' ')}`, async () => {
      const r = await runCli(['encrypt', ...p.args, '--json'], createTestCtx({ env }));
      expect(r.exitCode, r.stderr).toBe(0);
      const { token, payload } = r.json();
      expect(payload).toEqual(p.payload);
      const out = py(PY_DECRYPT, { key: KEY, token });
      expect(out.ok).toBe(true);
      expect(out.payload).toEqual(p.payload);
      expect(out.bytes).toBe(12 + Buffer.byteLength(JSON.stringify(p.payload)) + 16);
    });
  }

  it('AESGCM refuses a chatid token under another key (InvalidTag)', async () => {
    const r = await runCli(['encrypt', '--id', 'user_1'], createTestCtx({ env }));
    expect(r.exitCode).toBe(0);
    expect(py(PY_DECRYPT, { key: OTHER, token: r.stdout.trim() })).toEqual({ ok: false });
  });

  it('every token of chatid encrypt --batch decrypts in Python, with distinct nonces', async () => {
    const ids = ['u1', 'u2', 'u3'];
    const r = await runCli(['encrypt', '--batch', '-', '--json'], createTestCtx({ env, stdin: `${ids.join('\n')}\n` }));
    expect(r.exitCode, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { userId: string; token: string });
    expect(rows.map((x) => x.userId)).toEqual(ids);
    for (const row of rows) expect(py(PY_DECRYPT, { key: KEY, token: row.token }).payload).toEqual({ id: row.userId });
    const nonces = rows.map((x) => Buffer.from(x.token, 'base64').subarray(0, 12).toString('hex'));
    expect(new Set(nonces).size).toBe(ids.length);
  });

  it('chatid decrypt opens a token made by Python (argument, stdin, --json)', async () => {
    const payload = { id: 'user_42', name: 'Grace', email: 'grace@example.com' };
    const { token } = py(PY_ENCRYPT, { key: KEY, payload });
    const human = await runCli(['decrypt', token], createTestCtx({ env }));
    expect(human.exitCode, human.stderr).toBe(0);
    expect(JSON.parse(human.stdout)).toEqual(payload);
    const piped = await runCli(['decrypt'], createTestCtx({ env, stdin: `${token}\n` }));
    expect(JSON.parse(piped.stdout)).toEqual(payload);
    const json = await runCli(['decrypt', token, '--json'], createTestCtx({ env }));
    expect(json.json()).toEqual({ payload, warnings: [] });
  });

  it('a Python token without "id" decrypts with MISSING_ID; one under another key fails with exit 3', async () => {
    const noId = py(PY_ENCRYPT, { key: KEY, payload: { email: 'x@example.com' } }).token;
    const r = await runCli(['decrypt', noId, '--json'], createTestCtx({ env }));
    expect(r.exitCode).toBe(0);
    expect(r.json().warnings.map((w: { code: string }) => w.code)).toEqual(['MISSING_ID']);
    const wrong = py(PY_ENCRYPT, { key: OTHER, payload: { id: 'u' } }).token;
    const bad = await runCli(['decrypt', wrong, '--json'], createTestCtx({ env }));
    expect(bad.exitCode).toBe(3);
    expect(bad.json().error.code).toBe('ERR_DECRYPT_TAG');
  });

  it('a Python token with the tag stripped (the Node getAuthTag mistake, mirrored) is refused, not decrypted', async () => {
    const { token } = py(PY_ENCRYPT, { key: KEY, payload: { id: 'user_7' } });
    const stripped = Buffer.from(token, 'base64').subarray(0, -16).toString('base64');
    const r = await runCli(['decrypt', stripped, '--json'], createTestCtx({ env }));
    expect(r.exitCode).toBe(3);
    expect(r.stdout).not.toContain('user_7');
    expect(r.json().error.code).toMatch(/^ERR_DECRYPT_/);
  });
});
