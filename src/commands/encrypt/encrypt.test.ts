import { createCipheriv, createDecipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli, type TestCtxOptions } from '../../../test/helpers/test-ctx.js';

const KEY = Buffer.alloc(32, 0x11);
const env = { CHATID_SECRET: KEY.toString('base64') };
const cli = (argv: string[], o: TestCtxOptions = {}) => runCli(argv, createTestCtx({ env, ...o }));
/** Decrypt as the vendor does (vendors.md §4), independently of chatid's code. */
function open(token: string): unknown {
  const b = Buffer.from(token, 'base64');
  const d = createDecipheriv('aes-256-gcm', KEY, b.subarray(0, 12));
  d.setAuthTag(b.subarray(b.length - 16));
  return JSON.parse(Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]).toString('utf8'));
}
function sealed(plain: string, nonceByte: number): string {
  const nonce = Buffer.alloc(12, nonceByte);
  const c = createCipheriv('aes-256-gcm', KEY, nonce);
  return Buffer.concat([nonce, c.update(plain, 'utf8'), c.final(), c.getAuthTag()]).toString('base64');
}

describe('encrypt', () => {
  it('prints the token alone: base64(nonce ‖ ciphertext ‖ tag) with ctx.random(12) as nonce', async () => {
    const r = await cli(['encrypt', '--id', 'user_123', '--name', 'Ann Lee', '--email', 'ann@example.com'], { randomByte: 7 });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(`${sealed('{"id":"user_123","name":"Ann Lee","email":"ann@example.com"}', 7)}\n`);
    expect(open(r.stdout.trim())).toEqual({ id: 'user_123', name: 'Ann Lee', email: 'ann@example.com' });
  });

  it('--json: {token, payload}; --field adds string fields', async () => {
    const r = await cli(['encrypt', '--id', 'u1', '--field', 'plan=pro', '--field', 'note=a=b', '--json']);
    const doc = r.json();
    expect(Object.keys(doc)).toEqual(['token', 'payload']);
    expect(doc.payload).toEqual({ id: 'u1', plan: 'pro', note: 'a=b' });
    expect(open(doc.token)).toEqual(doc.payload);
  });

  it('never makes a token longer than decrypt reads: the largest payload that fits works, one byte more is refused', async () => {
    // {"id":"aaa…"} is 9 bytes of JSON around the id; 49 124 bytes fit (MAX_TEAMWEB_PLAINTEXT_BYTES).
    const fits = await cli(['encrypt', '--id', 'a'.repeat(49_124 - 9)]);
    expect(fits.exitCode).toBe(0);
    const back = await cli(['decrypt', '--json'], { stdin: fits.stdout });
    expect([back.exitCode, back.json().payload.id.length]).toEqual([0, 49_115]);
    const over = await cli(['encrypt', '--id', 'a'.repeat(49_124 - 8), '--json']);
    expect([over.exitCode, over.json().error.code, over.json().error.message]).toEqual([2, 'ERR_ENCRYPT_TOO_LARGE', expect.stringContaining('49125 bytes of JSON; at most 49124 fit')]);
    const payload = await cli(['encrypt', '--payload', JSON.stringify({ id: 'u', blob: 'é'.repeat(30_000) }), '--json']);
    expect(payload.json().error.code).toBe('ERR_ENCRYPT_TOO_LARGE');
    // --batch: the rows before the long one are written, then the error names its line.
    const batch = await cli(['encrypt', '--batch', '-', '--field', `blob=${'b'.repeat(40_000)}`], { stdin: `u1\n${'x'.repeat(20_000)}\n` });
    expect([batch.exitCode, batch.stdout.trim().split('\n').length]).toEqual([2, 1]);
    expect(batch.stderr).toContain('Batch input line 2: its payload is 60019 bytes of JSON');
  });

  it('an id with whitespace around it is encrypted as given, with the ID_WHITESPACE warning decrypt gives', async () => {
    for (const argv of [['--id', ' u1'], ['--payload', '{"id":"u1\\t"}']]) {
      const r = await cli(['encrypt', ...argv]);
      expect([r.exitCode, r.stderr]).toEqual([0, expect.stringMatching(/^warning: ID_WHITESPACE: The payload's "id" "( u1|u1\\t)" has leading or trailing whitespace/)]);
    }
    expect((await cli(['encrypt', '--id', 'u1'])).stderr).toBe('');
  });

  it('--payload with a name given twice: the token carries the last value, and says so', async () => {
    const r = await cli(['encrypt', '--payload', '{"id":"a","id":"u1"}', '--json']);
    expect([r.exitCode, r.json().payload, r.stderr]).toEqual([0, { id: 'u1' }, 'warning: --payload holds "id" more than once; the token carries the last value only.\n']);
  });

  it('--payload takes a whole object; a payload without id warns MISSING_ID', async () => {
    const r = await cli(['encrypt', '--payload', '{"id":"u1","tier":2}']);
    expect(open(r.stdout.trim())).toEqual({ id: 'u1', tier: 2 });
    const w = await cli(['encrypt', '--payload', '{"email":"a@b.c"}']);
    expect([w.exitCode, w.stderr]).toEqual([0, expect.stringMatching(/MISSING_ID/)]);
    // The same words as decrypt's warning, saying which kind of missing.
    const n = await cli(['encrypt', '--payload', '{"id":null}']);
    expect(n.stderr).toContain('warning: MISSING_ID: The payload has "id": null: TeamWeb needs it');
    const k = await cli(['encrypt', '--payload', '{"id":7}']);
    expect(k.stderr).toContain('warning: ID_NOT_STRING: The payload\'s "id" is a number, not a string');
  });

  it.each([
    [['encrypt'], 'ERR_ENCRYPT_ID_REQUIRED'],
    [['encrypt', '--id', ''], 'ERR_ENCRYPT_ID_EMPTY'],
    [['encrypt', '--id', 'u1', '--email', ''], 'ERR_ENCRYPT_FIELD_EMPTY'],
    [['encrypt', '--id', 'u1', '--name', ' '], 'ERR_ENCRYPT_FIELD_EMPTY'],
    [['encrypt', '--batch', '-', '--email', ''], 'ERR_ENCRYPT_FIELD_EMPTY'],
    [['encrypt', '--id', 'u1', '--field', 'plan'], 'ERR_ENCRYPT_FIELD'],
    [['encrypt', '--id', 'u1', '--field', 'email=x'], 'ERR_ENCRYPT_FIELD'],
    [['encrypt', '--id', 'u1', '--field', 'a=1', '--field', 'a=2'], 'ERR_ENCRYPT_FIELD'],
    [['encrypt', '--payload', '{'], 'ERR_ENCRYPT_PAYLOAD_JSON'],
    [['encrypt', '--payload', '[1]'], 'ERR_ENCRYPT_PAYLOAD_JSON'],
    [['encrypt', '--payload', '{"id":"u"}', '--id', 'u'], 'ERR_ENCRYPT_PAYLOAD_AND_FIELDS'],
    [['encrypt', '--batch', '-', '--id', 'u'], 'ERR_ENCRYPT_BATCH_ID'],
  ])('%j → exit 2 %s', async (argv, code) => {
    const r = await cli([...argv, '--json'], { stdin: 'a\n' });
    expect([r.exitCode, r.json().error.code]).toEqual([2, code]);
  });

  it('a key that is not base64 of 32 bytes is exit 2; no key is exit 4', async () => {
    for (const [secret, code] of [
      ['not base64!', 'ERR_SECRET_NOT_BASE64'],
      [Buffer.alloc(16).toString('base64'), 'ERR_SECRET_KEY_LENGTH'],
      ['raw-text-secret-of-exactly-44-characters-xx', 'ERR_SECRET_NOT_BASE64'],
    ]) {
      const r = await cli(['encrypt', '--id', 'u1', '--json'], { env: { CHATID_SECRET: secret } });
      expect([r.exitCode, r.json().error.code], secret).toEqual([2, code]);
      expect(r.stdout).not.toContain(secret);
    }
    const none = await runCli(['encrypt', '--id', 'u1', '--json'], createTestCtx());
    expect([none.exitCode, none.json().error.code]).toEqual([4, 'ERR_SECRET_MISSING']);
  });

  it('--batch: one token per row with a fresh nonce each; CSV name/email; NDJSON with --json', async () => {
    const r = await cli(['encrypt', '--batch', '-', '--field', 'plan=pro'], { stdin: 'u1\nu2\nu3\n' });
    const tokens = r.stdout.trimEnd().split('\n');
    expect(tokens.map(open)).toEqual(['u1', 'u2', 'u3'].map((id) => ({ id, plan: 'pro' })));
    const nonces = new Set(tokens.map((t) => Buffer.from(t, 'base64').subarray(0, 12).toString('hex')));
    expect(nonces.size).toBe(3);
    const j = await cli(['encrypt', '--batch', '-', '--json'], { stdin: 'user_id,name,email\nu1,Ann,ann@x.io\nu2,,\n' });
    const rows = j.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { userId: string; token: string });
    expect(rows.map((x) => x.userId)).toEqual(['u1', 'u2']);
    expect(rows.map((x) => open(x.token))).toEqual([{ id: 'u1', name: 'Ann', email: 'ann@x.io' }, { id: 'u2' }]);
  });

  it('--batch --json escapes C1 controls and U+2028/U+2029 in ids, as every --json document does', async () => {
    const ids = ['a\u0080b', 'c\u0085\u009bd', 'e\u2028f\u2029g'];
    const j = await cli(['encrypt', '--batch', '-', '--json'], { stdin: `${ids.join('\n')}\n` });
    const lines = j.stdout.trimEnd().split('\n');
    expect(lines.map((l) => l.slice(0, l.indexOf(',"token"')))).toEqual(['{"userId":"a\\u0080b"', '{"userId":"c\\u0085\\u009bd"', '{"userId":"e\\u2028f\\u2029g"']);
    expect(lines.map((l) => open((JSON.parse(l) as { token: string }).token))).toEqual(ids.map((id) => ({ id })));
  });

  it('--batch: a bad row stops with its line number (exit 2)', async () => {
    const r = await cli(['encrypt', '--batch', '-'], { stdin: 'u1\n u2\n' });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/line 2.*\(ERR_BATCH_ROW\)/);
  });
});

describe('encrypt --help', () => {
  it('says how --email/--name combine with --batch rows', async () => {
    const r = await runCli(['encrypt', '--help'], createTestCtx());
    expect(r.stdout.replace(/\s+/g, ' ')).toContain('a CSV email or name cell wins for its row, and --email/--name fill the rows without one');
  });
});
