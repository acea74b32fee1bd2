import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli, type TestCtxOptions } from '../../../test/helpers/test-ctx.js';

const KEY = Buffer.alloc(32, 0x22);
const env = { CHATID_SECRET: KEY.toString('base64') };
const cli = (argv: string[], o: TestCtxOptions = {}) => runCli(argv, createTestCtx({ env, ...o }));
function seal(plain: string, o: { withTag?: boolean; key?: Buffer } = {}): string {
  const nonce = Buffer.alloc(12, 3);
  const c = createCipheriv('aes-256-gcm', o.key ?? KEY, nonce);
  const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return Buffer.concat(o.withTag === false ? [nonce, body] : [nonce, body, c.getAuthTag()]).toString('base64');
}
const GOOD = seal('{"id":"user_123","email":"ann@example.com"}');

describe('decrypt', () => {
  it('prints the payload JSON alone (human) and {payload, warnings} (--json)', async () => {
    const r = await cli(['decrypt', GOOD]);
    expect([r.exitCode, JSON.parse(r.stdout), r.stderr]).toEqual([0, { id: 'user_123', email: 'ann@example.com' }, '']);
    const j = await cli(['decrypt', GOOD, '--json']);
    expect([j.exitCode, j.json()]).toEqual([0, { payload: { id: 'user_123', email: 'ann@example.com' }, warnings: [] }]);
  });

  it('a token made with the previous secret opens during the grace period, with PREVIOUS_SECRET; after it, the doctor names it', async () => {
    const OLD = Buffer.alloc(32, 0x33);
    const old = seal('{"id":"user_123"}', { key: OLD });
    const profile = (p: Record<string, string>) => ({ env: {}, activeProfile: 'tw', profiles: { tw: { provider: 'teamweb' as const, secret: KEY.toString('base64'), ...p } } });
    const inGrace = await cli(['decrypt', old, '--json'], profile({ previousSecret: OLD.toString('base64'), previousSecretExpiresAt: '2026-01-02T00:00:00.000Z' }));
    expect([inGrace.exitCode, inGrace.json().payload, inGrace.json().warnings.map((w: { code: string }) => w.code)]).toEqual([0, { id: 'user_123' }, ['PREVIOUS_SECRET']]);
    expect(inGrace.json().warnings[0].message).toContain('accepted until 2026-01-02T00:00:00.000Z');
    const human = await cli(['decrypt', old], profile({ previousSecret: OLD.toString('base64'), previousSecretExpiresAt: '2026-01-02T00:00:00.000Z' }));
    expect(human.stderr).toContain('warning: PREVIOUS_SECRET: Decrypted with the previous secret');
    // The grace over (the clock past it, or the store already retired it): refused, and the cause named.
    const late = await cli(['decrypt', old, '--json'], { ...profile({ previousSecret: OLD.toString('base64'), previousSecretExpiresAt: '2026-01-02T00:00:00.000Z' }), now: new Date('2026-01-03T00:00:00Z') });
    expect([late.exitCode, late.json().error.code]).toEqual([3, 'ERR_DECRYPT_TAG']);
    const retired = await cli(['decrypt', old, '--json'], profile({ retiredSecret: OLD.toString('base64'), retiredSecretExpiredAt: '2025-12-31T00:00:00.000Z' }));
    expect([retired.exitCode, retired.json().error.message]).toEqual([3, expect.stringContaining('the previous secret, whose grace period ended at 2025-12-31T00:00:00.000Z')]);
  });

  it("a token made with the profile's stored secret, while CHATID_SECRET overrides it, says to drop the override (not to use --profile)", async () => {
    const STORED = Buffer.alloc(32, 0x44);
    const made = seal('{"id":"user_123"}', { key: STORED });
    const r = await cli(['decrypt', made, '--json'], { activeProfile: 'tw', profiles: { tw: { provider: 'teamweb' as const, secret: STORED.toString('base64') } } });
    expect([r.exitCode, r.json().error.code]).toEqual([3, 'ERR_DECRYPT_TAG']);
    expect(r.json().error.message).toContain('the stored secret of profile "tw" (the profile in use)');
    expect(r.json().error.hint).toContain('unset CHATID_SECRET');
    expect(r.json().error.hint).not.toContain('--profile');
  });

  it('reads the token from stdin (pipe or "-")', async () => {
    expect(JSON.parse((await cli(['decrypt'], { stdin: `${GOOD}\n` })).stdout).id).toBe('user_123');
    expect(JSON.parse((await cli(['decrypt', '-'], { stdin: GOOD })).stdout).id).toBe('user_123');
    expect(JSON.parse((await cli(['decrypt'], { stdin: `${GOOD}\r\n\n` })).stdout).id).toBe('user_123');
  });

  it('several lines on stdin are a usage error (exit 2), not a bad token (exit 3)', async () => {
    const r = await cli(['decrypt', '--json'], { stdin: `${GOOD}\n${GOOD}\n` });
    expect([r.exitCode, r.json().error.code, r.json().error.message]).toEqual([2, 'ERR_DECRYPT_STDIN_LINES', 'stdin holds 2 lines; `decrypt` reads one token.']);
  });

  it('no id: still exit 0, with MISSING_ID (stderr for humans, warnings[] in JSON)', async () => {
    const t = seal('{"email":"x@example.com"}');
    const h = await cli(['decrypt', t]);
    expect([h.exitCode, h.stderr]).toEqual([0, expect.stringMatching(/MISSING_ID/)]);
    const j = await cli(['decrypt', t, '--json']);
    expect(j.json().warnings.map((w: { code: string }) => w.code)).toEqual(['MISSING_ID']);
  });

  it.each([
    ['bad base64', `"${GOOD}"`, 'ERR_DECRYPT_BASE64', /quotes/],
    ['too short', Buffer.alloc(20).toString('base64'), 'ERR_DECRYPT_LENGTH', /whole token/],
    ['tag fails (wrong key)', seal('{"id":"u"}', { key: Buffer.alloc(32, 9) }), 'ERR_DECRYPT_TAG', /Wrong key/],
    ['no tag appended', seal('{"id":"user_123","name":"Ann"}', { withTag: false }), 'ERR_DECRYPT_TAG', /16 bytes short/],
    ['not JSON', seal('id=u1'), 'ERR_DECRYPT_NOT_JSON', /JSON/],
    ['not an object', seal('[1,2]'), 'ERR_DECRYPT_NOT_OBJECT', /object/],
  ])('%s → exit 3 %s with a hint', async (_n, token, code, hint) => {
    const j = await cli(['decrypt', token, '--json']);
    expect([j.exitCode, j.json().error.code]).toEqual([3, code]);
    expect(j.json().error.hint).toMatch(hint);
    const h = await cli(['decrypt', token]);
    expect([h.exitCode, h.stdout]).toEqual([3, '']);
    expect(h.stderr).toMatch(new RegExp(`^error: .*\\(${code}\\)$`, 'm'));
    expect(h.stderr).toMatch(/^hint: /m);
  });

  it('a wrong key length is exit 2 before decrypting; no token is exit 2; no key is exit 4', async () => {
    const k = await cli(['decrypt', GOOD, '--json'], { env: { CHATID_SECRET: Buffer.alloc(31).toString('base64') } });
    expect([k.exitCode, k.json().error.code]).toEqual([2, 'ERR_SECRET_KEY_LENGTH']);
    const none = await cli(['decrypt', '--json']);
    expect([none.exitCode, none.json().error.code]).toEqual([2, 'ERR_DECRYPT_TOKEN_REQUIRED']);
    const tty = await cli(['decrypt'], { stdinTTY: true });
    expect(tty.exitCode).toBe(2);
    const nokey = await runCli(['decrypt', GOOD, '--json'], createTestCtx());
    expect([nokey.exitCode, nokey.json().error.code]).toEqual([4, 'ERR_SECRET_MISSING']);
    const twice = await cli(['decrypt', '--secret-stdin', '--json'], { stdin: GOOD });
    expect([twice.exitCode, twice.json().error.code]).toEqual([2, 'ERR_STDIN_TWICE']);
  });

  it("a tag failure names the other profile's key that opens the token; the previous one in its grace opens it", async () => {
    const other = Buffer.alloc(32, 0x33);
    const old = Buffer.alloc(32, 0x44);
    const profiles = {
      web: { provider: 'teamweb' as const, secret: KEY.toString('base64'), previousSecret: old.toString('base64'), previousSecretExpiresAt: '2026-01-02T00:00:00.000Z' },
      eu: { provider: 'teamweb' as const, secret: other.toString('base64') },
      cb: { provider: 'chatbase' as const, secret: 'not-a-teamweb-key' },
    };
    const a = await runCli(['decrypt', seal('{"id":"u"}', { key: other }), '--json'], createTestCtx({ profiles, activeProfile: 'web' }));
    expect([a.exitCode, a.json().error.code]).toEqual([3, 'ERR_DECRYPT_TAG']);
    expect(a.json().error.message).toContain('profile "eu"');
    expect(a.stdout).not.toContain('"u"');
    const b = await runCli(['decrypt', seal('{"id":"u"}', { key: old }), '--json'], createTestCtx({ profiles, activeProfile: 'web' }));
    expect([b.exitCode, b.json().warnings[0].code]).toEqual([0, 'PREVIOUS_SECRET']);
    const c = await runCli(['decrypt', seal('{"id":"u"}', { key: Buffer.alloc(32, 0x55) }), '--json'], createTestCtx({ profiles, activeProfile: 'web' }));
    expect(c.json().error.hint).toMatch(/Wrong key/);
  });

  it('human: C1 controls and U+2028 in the payload are escaped (the same JSON value), not sent to the terminal', async () => {
    const r = await cli(['decrypt', seal('{"id":"u\u009b2J","name":"a\u007f\u2028b"}')]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('{\n  "id": "u\\u009b2J",\n  "name": "a\\u007f\\u2028b"\n}\n');
    expect(JSON.parse(r.stdout)).toEqual({ id: 'u\u009b2J', name: 'a\u007f\u2028b' });
  });

  it('human: warnings quoting the payload escape its control characters on stderr', async () => {
    const r = await cli(['decrypt', seal('{"id":"u","k\u009b":1,"k\u009b":2}')]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('warning: DUPLICATE_MEMBER: The payload holds "k\\u009b" more than once. chatid reads the last value, but a parser that reads the first sees another: write each name once.\n');
  });

  it('round-trips with encrypt', async () => {
    const e = await cli(['encrypt', '--id', 'u9', '--name', 'Zoë']);
    const d = await cli(['decrypt', e.stdout.trim(), '--json']);
    expect(d.json().payload).toEqual({ id: 'u9', name: 'Zoë' });
  });
});
