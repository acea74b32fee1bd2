import { createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli, TEST_NOW } from '../../../test/helpers/test-ctx.js';
import { signHs256Sync } from '../../core/jwt-sign-sync.js';

const SECRET = 'verify_test_secret_0123456789abcdef01';
const OLD = 'verify_test_old_secret_000000000000000';
const STAGING = 'verify_test_staging_secret_1111111111';
const NOW = TEST_NOW.getTime() / 1000;
const enc = (s: string) => new TextEncoder().encode(s);
const tok = (payload: Record<string, unknown>, secret = SECRET) => signHs256Sync(enc(secret), payload);
const GOOD = tok({ user_id: 'user_123', iat: NOW - 60, exp: NOW + 3540 });
const env = (provider = 'chatbase') => ({ CHATID_SECRET: SECRET, CHATID_PROVIDER: provider });
const verify = (argv: string[], o: Parameters<typeof createTestCtx>[0] = {}) => runCli(['token', 'verify', ...argv], createTestCtx({ env: env(), ...o }));

describe('token verify --json', () => {
  it('valid: exit 0, exactly the contract keys', async () => {
    const r = await verify([GOOD, '--json']);
    expect(r.exitCode).toBe(0);
    expect(r.json()).toEqual({
      valid: true,
      header: { alg: 'HS256', typ: 'JWT' },
      payload: { user_id: 'user_123', iat: NOW - 60, exp: NOW + 3540 },
      secret: 'current',
      errors: [],
      warnings: [],
      causes: [],
    });
    expect(r.stderr).toBe('');
  });

  it('invalid: exit 3 with every error, and proven causes', async () => {
    const t = tok({ user_id: 42, exp: NOW - 120, iat: NOW - 3720 }, `${SECRET}\n`);
    const r = await verify([t, '--json']);
    expect(r.exitCode).toBe(3);
    const j = r.json();
    expect(Object.keys(j)).toEqual(['valid', 'header', 'payload', 'secret', 'errors', 'warnings', 'causes']);
    expect(j.valid).toBe(false);
    expect(j.secret).toBeNull();
    expect(j.errors.map((e: any) => e.code)).toEqual(['BAD_SIGNATURE', 'EXPIRED', 'USER_ID_NOT_STRING']);
    // Expired two minutes ago: no clock is proven wrong by that.
    expect(j.causes.map((c: any) => c.code)).toEqual(['SECRET_WHITESPACE']);
  });

  it('reads the token from stdin when omitted, and from `-`', async () => {
    for (const argv of [['--json'], ['-', '--json']]) {
      const r = await verify(argv, { stdin: `${GOOD}\n` });
      expect([r.exitCode, r.json().valid]).toEqual([0, true]);
    }
  });

  it('--at verifies as of another moment (ISO or Unix seconds)', async () => {
    const later = await verify([GOOD, '--at', '2026-01-01T02:00:00Z', '--json']);
    expect([later.exitCode, later.json().errors.map((e: any) => e.code)]).toEqual([3, ['EXPIRED']]);
    const earlier = await verify([GOOD, '--at', String(NOW - 200), '--json']);
    expect(earlier.json().errors.map((e: any) => e.code)).toEqual(['IAT_IN_FUTURE']);
    // Times are said against the moment checked, not "now".
    expect(earlier.json().errors[0].message).toContain('2m 20s after the moment checked');
    expect(later.json().errors[0].message).toMatch(/before the moment checked; leeway/);
    const now = await verify([tok({ user_id: 'u', iat: NOW + 200, exp: NOW + 3600 }), '--json']);
    expect(now.json().errors[0].message).toContain('3m 20s in the future');
  });

  it('CLOCK_SKEW only when the numbers prove it: an iat ahead of this clock, never with --at', async () => {
    const expired = await verify([tok({ user_id: 'u', iat: NOW - 3630, exp: NOW - 30 }), '--leeway', '0s', '--json']);
    expect([expired.exitCode, expired.json().errors.map((e: any) => e.code), expired.json().causes]).toEqual([3, ['EXPIRED'], []]);
    const past = await verify([tok({ user_id: 'u', iat: NOW, exp: NOW + 3600 }), '--at', String(NOW - 300), '--json']);
    expect([past.exitCode, past.json().errors.map((e: any) => e.code), past.json().causes]).toEqual([3, ['IAT_IN_FUTURE'], []]);
    const ahead = await verify([tok({ user_id: 'u', iat: NOW + 150, exp: NOW + 3600 }), '--json']);
    expect(ahead.json().causes).toEqual([{ code: 'CLOCK_SKEW', message: expect.stringContaining("The signer's clock is ahead of this machine's by at least 2m 30s") }]);
    expect(ahead.json().causes[0].message).toMatch(/--leeway 150s accepts it\.$/);
    // With a wrong secret as well, the leeway clears only the iat error.
    const twoFaults = await verify([tok({ user_id: 'u', iat: NOW + 150, exp: NOW + 3600 }, 'another-secret-0123456789abcdef0123'), '--json']);
    expect(twoFaults.json().causes.find((c: any) => c.code === 'CLOCK_SKEW').message).toMatch(/--leeway 150s clears the iat error \(the other errors remain\)\.$/);
    const human = await verify([tok({ user_id: 'u', iat: NOW, exp: NOW + 3600 }), '--at', String(NOW - 300)]);
    expect(human.stdout).not.toContain('CLOCK_SKEW');
  });

  it('reads the clock after the token is read from stdin: a token signed meanwhile is not "issued in the future"', async () => {
    // stdin delivers the token only after the clock has moved on by 5 s, as when `token sign` is piped in.
    let delivered = false;
    const token = tok({ user_id: 'u', iat: NOW + 5, exp: NOW + 300 });
    const stdin = Readable.from(
      (async function* () {
        await new Promise((resolve) => setTimeout(resolve, 5));
        delivered = true;
        yield Buffer.from(`${token}\n`);
      })(),
    );
    const ctx = createTestCtx({ env: env(), stdin });
    ctx.clock = { now: () => new Date((delivered ? NOW + 5 : NOW) * 1000) };
    const r = await runCli(['token', 'verify', '--leeway', '0s', '--json'], ctx);
    expect([r.exitCode, r.json().errors]).toEqual([0, []]);
  });

  it('--leeway widens the clock tolerance', async () => {
    const t = tok({ user_id: 'u', iat: NOW + 90, exp: NOW + 3600 });
    expect((await verify([t, '--json'])).exitCode).toBe(3);
    expect((await verify([t, '--leeway', '2m', '--json'])).exitCode).toBe(0);
    expect((await verify([GOOD, '--leeway', '0', '--json'])).exitCode).toBe(0);
  });

  it('accepts the previous secret during its grace period, and says so', async () => {
    const ctx = createTestCtx({
      profiles: { prod: { provider: 'chatbase', secret: SECRET, previousSecret: OLD, previousSecretExpiresAt: '2026-01-02T00:00:00.000Z' } },
      activeProfile: 'prod',
    });
    const r = await runCli(['token', 'verify', tok({ user_id: 'u', exp: NOW + 60 }, OLD), '--json'], ctx);
    expect(r.exitCode).toBe(0);
    const j = r.json();
    expect([j.valid, j.secret, j.warnings.map((w: any) => w.code), j.causes.map((c: any) => c.code)]).toEqual([true, 'previous', ['PREVIOUS_SECRET'], ['SIGNED_WITH_PREVIOUS_SECRET']]);
  });

  it('the previous secret is refused when --at is after its grace period, and the doctor says so', async () => {
    const ctx = createTestCtx({
      profiles: { prod: { provider: 'chatbase', secret: SECRET, previousSecret: OLD, previousSecretExpiresAt: '2026-01-01T00:30:00.000Z' } },
      activeProfile: 'prod',
    });
    const r = await runCli(['token', 'verify', tok({ user_id: 'u', exp: NOW + 7200 }, OLD), '--at', '2026-01-01T01:00:00Z', '--json'], ctx);
    expect(r.exitCode).toBe(3);
    const j = r.json();
    expect([j.secret, j.errors.map((e: any) => e.code), j.causes.map((c: any) => c.code)]).toEqual([null, ['BAD_SIGNATURE'], ['SIGNED_WITH_PREVIOUS_SECRET']]);
  });

  it('after the grace period the previous secret is refused (exit 3) but still proven, with when the grace ended', async () => {
    // The store retires it at load (it is past its grace); --at inside the grace still accepts it.
    const profiles = { prod: { provider: 'chatbase' as const, secret: SECRET, previousSecret: OLD, previousSecretExpiresAt: '2025-12-31T23:00:00.000Z' } };
    const t = tok({ user_id: 'u', exp: NOW + 600 }, OLD);
    const r = await runCli(['token', 'verify', t, '--json'], createTestCtx({ profiles, activeProfile: 'prod' }));
    expect(r.exitCode).toBe(3);
    const j = r.json();
    expect([j.secret, j.errors.map((e: any) => e.code), j.causes]).toEqual([
      null,
      ['BAD_SIGNATURE'],
      [{ code: 'SIGNED_WITH_PREVIOUS_SECRET', message: expect.stringContaining('the previous secret, whose grace period ended at 2025-12-31T23:00:00.000Z, so it is no longer accepted: the signer still uses the secret from before the rotation') }],
    ]);
    const back = await runCli(['token', 'verify', t, '--at', '2025-12-31T22:30:00Z', '--json'], createTestCtx({ profiles, activeProfile: 'prod' }));
    expect([back.exitCode, back.json().secret]).toEqual([0, 'previous']);
    const human = await runCli(['token', 'verify', t], createTestCtx({ profiles, activeProfile: 'prod' }));
    expect(human.stdout).toMatch(/SIGNED_WITH_PREVIOUS_SECRET\s+The token was signed with the previous secret, whose grace period ended at 2025-12-31T23:00:00.000Z/);
  });

  it('a previous secret the profile holds is not accepted with a secret from the environment, and the cause says why', async () => {
    const profiles = { prod: { provider: 'chatbase' as const, secret: SECRET, previousSecret: OLD, previousSecretExpiresAt: '2026-01-02T00:00:00.000Z' } };
    const r = await verify([tok({ user_id: 'u', exp: NOW + 600 }, OLD), '--profile', 'prod', '--json'], { profiles });
    expect(r.exitCode).toBe(3);
    expect(r.json().causes).toEqual([{ code: 'SIGNED_WITH_PREVIOUS_SECRET', message: expect.stringContaining('came from a flag or CHATID_SECRET') }]);
  });

  it('with CHATID_SECRET in use, a retired secret of the active profile is named with when its grace ended (not "verify without CHATID_SECRET")', async () => {
    const profiles = { prod: { provider: 'chatbase' as const, secret: SECRET, retiredSecret: OLD, retiredSecretExpiredAt: '2025-12-31T23:00:00.000Z' } };
    // The store is not read for settings (the secret and provider come from the environment).
    const r = await runCli(['token', 'verify', tok({ user_id: 'u', exp: NOW + 600 }, OLD), '--json'], createTestCtx({ env: { CHATID_SECRET: SECRET, CHATID_PROVIDER: 'chatbase' }, profiles, activeProfile: 'prod' }));
    expect(r.json().causes).toEqual([{ code: 'SIGNED_WITH_PREVIOUS_SECRET', message: expect.stringContaining('whose grace period ended at 2025-12-31T23:00:00.000Z, so it is no longer accepted') }]);
  });

  it("a token signed with the active profile's stored secret while CHATID_SECRET overrides it: the fix is the override, not --profile", async () => {
    const profiles = { prod: { provider: 'chatbase' as const, secret: STAGING } };
    const r = await runCli(['token', 'verify', tok({ user_id: 'u', exp: NOW + 600 }, STAGING), '--json'], createTestCtx({ env: { CHATID_SECRET: SECRET, CHATID_PROVIDER: 'chatbase' }, profiles, activeProfile: 'prod' }));
    expect(r.exitCode).toBe(3);
    expect(r.json().causes).toEqual([{ code: 'SIGNED_WITH_OTHER_PROFILE_SECRET', message: expect.stringContaining('the stored secret of profile "prod" (the profile in use)') }]);
    expect(r.json().causes[0].message).toContain('unset CHATID_SECRET');
    expect(r.json().causes[0].message).not.toContain('--profile prod');
  });

  it("names the other profile whose secret signed the token", async () => {
    const ctx = createTestCtx({
      profiles: { prod: { provider: 'chatbase', secret: SECRET }, staging: { provider: 'chatbase', secret: STAGING } },
      activeProfile: 'prod',
    });
    const r = await runCli(['token', 'verify', tok({ user_id: 'u', exp: NOW + 60 }, STAGING), '--json'], ctx);
    expect(r.exitCode).toBe(3);
    expect(r.json().causes).toEqual([{ code: 'SIGNED_WITH_OTHER_PROFILE_SECRET', message: expect.stringContaining('profile "staging"') }]);
  });

  it('Chatbase warnings: exp over 24h, user_id and sub differ', async () => {
    const r = await verify([tok({ user_id: 'a', sub: 'b', exp: NOW + 7 * 86400 }), '--json']);
    expect(r.exitCode).toBe(0);
    expect(r.json().warnings.map((w: any) => w.code)).toEqual(['USER_ID_SUB_DIFFER', 'EXP_OVER_24H']);
  });

  it('Chatbase: a null user_id beside sub verifies with sub, with a warning; alone it is a missing id', async () => {
    const r = await verify([tok({ user_id: null, sub: 'u', exp: NOW + 60 }), '--json']);
    expect(r.exitCode).toBe(0);
    expect(r.json().warnings).toEqual([{ code: 'USER_ID_NULL', message: expect.stringContaining('user_id is null, so the id is taken from sub "u"') }]);
    const alone = await verify([tok({ user_id: null, exp: NOW + 60 }), '--json']);
    expect([alone.exitCode, alone.json().errors]).toEqual([3, [{ code: 'MISSING_USER_ID', message: 'The payload has "user_id": null and no "sub" claim, which Chatbase needs to know the user.' }]]);
    const plain = await verify([tok({ sub: 'u', exp: NOW + 60 }), '--json']);
    expect(plain.json().warnings).toEqual([]);
  });

  it('Chatbase warnings: a contact claim the widget cannot use (wrong type, or phone under another name); null is a deletion', async () => {
    const r = await verify([tok({ user_id: 'a', exp: NOW + 60, email: 5, custom_attributes: 'plan=pro', stripe_accounts: { label: 'x' }, phone: '+1555' }), '--json']);
    expect(r.exitCode).toBe(0);
    expect(r.json().warnings).toEqual([
      { code: 'CLAIM_TYPE', message: 'The email claim is a number; Chatbase expects a string (or null to delete it).' },
      { code: 'CLAIM_TYPE', message: 'The custom_attributes claim is a string; Chatbase expects an object of attribute names to values (or null to delete it).' },
      { code: 'CLAIM_TYPE', message: 'The stripe_accounts claim is an object; Chatbase expects an array of {"label","stripe_id"} strings (or null to delete it).' },
      { code: 'CLAIM_NAME', message: 'The phone claim is not read by Chatbase, whose claim is phonenumber (one word, lowercase).' },
    ]);
    const fine = await verify([tok({ user_id: 'a', exp: NOW + 60, email: null, name: 'Ann', phonenumber: '+1555', custom_attributes: { plan: 'pro' }, stripe_accounts: [{ label: 'm', stripe_id: 'cus_1' }] }), '--json']);
    expect(fine.json().warnings).toEqual([]);
    const replyful = await verify([tok({ userId: 'u', iat: NOW, exp: NOW + 60, email: ['a@b.c'], plan: 5 }), '--json'], { env: env('replyful') });
    expect(replyful.json().warnings).toEqual([{ code: 'CLAIM_TYPE', message: 'The email claim is an array; Replyful expects a string.' }]);
  });

  it('a user hash or a TeamWeb token given to verify: the malformed message says what it looks like', async () => {
    const hash = 'ab'.repeat(32);
    const h = await verify([hash, '--json']);
    expect([h.exitCode, h.json().errors[0].message]).toEqual([3, 'Malformed token: a JWT has 3 dot-separated segments; this has 1 (it looks like an HMAC user hash, 64 hex characters: `chatid hash <userId> --expect <hash>` checks those).']);
    const teamweb = Buffer.alloc(40, 7).toString('base64');
    const t = await verify([teamweb, '--json']);
    expect(t.json().errors[0].message).toBe('Malformed token: a JWT has 3 dot-separated segments; this has 1 (it looks like standard base64, as a TeamWeb AES-GCM token is: `chatid decrypt <token>` opens those).');
    expect((await verify(['abcdef', '--json'])).json().errors[0].message).toBe('Malformed token: a JWT has 3 dot-separated segments; this has 1.');
  });

  it('the id claim follows the provider', async () => {
    const t = tok({ userId: 'u', iat: NOW, exp: NOW + 60 });
    expect((await verify([t, '--json'], { env: env('replyful') })).exitCode).toBe(0);
    const r = await verify([t, '--json']);
    expect([r.json().errors.map((e: any) => e.code), r.json().causes.map((c: any) => c.code)]).toEqual([['MISSING_USER_ID'], ['WRONG_PROVIDER_CLAIM']]);
  });

  it('a Bearer-prefixed token is MALFORMED with the BEARER_PREFIX cause', async () => {
    const r = await verify([`Bearer ${GOOD}`, '--json']);
    expect(r.exitCode).toBe(3);
    expect([r.json().errors[0].code, r.json().causes[0].code]).toEqual(['MALFORMED', 'BEARER_PREFIX']);
  });

  it('the whole "Authorization: Bearer …" header line: BEARER_PREFIX too', async () => {
    const r = await verify([`Authorization: Bearer ${GOOD}`, '--json']);
    expect(r.exitCode).toBe(3);
    expect([r.json().errors.map((e: any) => e.code), r.json().causes]).toEqual([
      ['MALFORMED'],
      [{ code: 'BEARER_PREFIX', message: expect.stringContaining('"Authorization: Bearer ", the HTTP header it travels in, not part of the token. Pass only the eyJ… part. Without it the token verifies.') }],
    ]);
  });

  it.each([
    [['--at', 'yesterday'], 'ERR_TOKEN_AT'],
    [['--at', String(NOW * 1000)], 'ERR_TOKEN_AT'],
    [['--leeway', 'lots'], 'ERR_TOKEN_LEEWAY'],
  ])('%j is a usage error', async (argv, code) => {
    const r = await verify([GOOD, ...argv, '--json']);
    expect([r.exitCode, r.json().error.code]).toEqual([2, code]);
  });

  it('exit 2 when no token can be read', async () => {
    const tty = await verify(['--json'], { stdinTTY: true });
    expect([tty.exitCode, tty.json().error.code]).toEqual([2, 'ERR_TOKEN_REQUIRED']);
    const empty = await verify(['--json'], { stdin: '\n' });
    expect([empty.exitCode, empty.json().error.code]).toEqual([2, 'ERR_TOKEN_REQUIRED']);
    const twice = await runCli(['token', 'verify', '--secret-stdin', '--provider', 'chatbase', '--json'], createTestCtx({ stdin: `${SECRET}\n` }));
    expect(twice.exitCode).toBe(2);
    // `chatid token verify "$TOKEN"` with TOKEN unset: no token, not an invalid one (exit 3 reads as "rejected").
    // Several tokens on stdin (a file of them): one is read, as hash and token sign read one id.
    const lines = await verify(['--json'], { stdin: `${GOOD}\n${GOOD}\n` });
    expect([lines.exitCode, lines.json().error.code, lines.json().error.message]).toEqual([2, 'ERR_TOKEN_STDIN_LINES', 'stdin holds 2 lines; `token verify` reads one token.']);
    for (const arg of ['', ' ']) {
      const blank = await verify([arg, '--json']);
      expect([blank.exitCode, blank.json().error.code, blank.json().error.message]).toEqual([2, 'ERR_TOKEN_REQUIRED', 'The token argument is empty.']);
    }
  });

  it('exit 1 when the store is needed and cannot be read; env-only verification does not need it', async () => {
    const { StoreError } = await import('../../cli/errors.js');
    const broken = {
      path: '/broken/config.json',
      read: async () => {
        throw new StoreError('ERR_STORE_READ', 'cannot read the store', { hint: 'check it' });
      },
      update: async () => {
        throw new StoreError('ERR_STORE_READ', 'cannot read the store');
      },
      fileMode: async () => undefined,
      dirMode: async () => undefined,
    };
    const r = await verify([GOOD, '--json'], { store: broken, env: { CHATID_PROVIDER: 'chatbase' } });
    expect([r.exitCode, r.json().error.code]).toEqual([1, 'ERR_STORE_READ']);
    const envOnly = await verify([GOOD, '--json'], { store: broken });
    expect([envOnly.exitCode, envOnly.json().valid]).toEqual([0, true]);
  });

  it('exit 4 without a secret; exit 2 for a provider without JWTs', async () => {
    const a = await runCli(['token', 'verify', GOOD, '--provider', 'chatbase', '--json'], createTestCtx());
    expect([a.exitCode, a.json().error.code]).toEqual([4, 'ERR_SECRET_MISSING']);
    const b = await verify([GOOD, '--json'], { env: env('teamweb') });
    expect([b.exitCode, b.json().error.code]).toEqual([2, 'ERR_TOKEN_PROVIDER']);
  });
});

describe('token verify, human output', () => {
  it('valid: verdict, claims with dates and relative times, each check', async () => {
    const r = await verify([GOOD]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('✓ Valid token');
    expect(r.stdout).toContain('signed with the current secret');
    expect(r.stdout).toContain('2026-01-01T00:59:00Z (expires in 59m)');
    expect(r.stdout).toContain('(issued 1m ago)');
    expect(r.stdout).toContain('✓ alg is HS256');
    expect(r.stdout).toContain('✓ user id claim (user_id or sub) is a non-empty string');
  });

  it('invalid: exit 3, what failed, and why', async () => {
    const r = await verify([tok({ user_id: 'u', exp: NOW + 60 }, `${SECRET}\n`)]);
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toContain('✗ Invalid token');
    expect(r.stdout).toContain('✗ signature');
    expect(r.stdout).toMatch(/BAD_SIGNATURE\s+The signature does not match/);
    expect(r.stdout).toMatch(/SECRET_WHITESPACE\s+The token was signed with the secret with a trailing "\\n"/);
    expect(r.stderr).toBe('');
  });

  it('no provable cause: says so honestly', async () => {
    const r = await verify([tok({ user_id: 'u', exp: NOW + 60 }, 'nobody_knows_this_secret_at_all_0000')]);
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toContain('No known cause could be proven');
  });

  it('a wrong claim type is marked on its own check, not on the compact form', async () => {
    const r = await verify([tok({ user_id: 'u', exp: '123' })]);
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toContain('✓ compact form');
    expect(r.stdout).toContain('✗ exp, nbf, iat');
    expect(r.stdout).toContain('write 123 without quotes');
    const id = await verify([tok({ user_id: { $oid: 'abc' }, exp: NOW + 60 })]);
    expect(id.stdout).toContain('✓ compact form');
    expect(id.stdout).toContain('✗ user id claim');
    expect(id.stdout).not.toContain('[object Object]');
  });

  it('numbers JSON cannot hold: the token text is what the user sent', async () => {
    const raw = (payload: string) => {
      const input = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(payload).toString('base64url')}`;
      return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
    };
    const big = await verify([raw(`{"user_id":12345678901234567890,"exp":${NOW + 60}}`), '--json']);
    expect(big.json().errors).toEqual([{ code: 'USER_ID_NOT_STRING', message: expect.stringContaining('already lost') }]);
    expect(big.stdout).not.toContain('e.g. \\"12345678901234567000\\"');
    const inf = await verify([raw('{"user_id":"u","exp":1e400}'), '--json']);
    expect(inf.json().errors).toEqual([{ code: 'MALFORMED', message: expect.stringContaining('out of range (it reads as Infinity)') }]);
  });

  it('a malformed header refuses the MAC check: the signature is marked as not checked', async () => {
    const input = `${Buffer.from('{"alg":"HS256","crit":["x"]}').toString('base64url')}.${Buffer.from(JSON.stringify({ user_id: 'u', exp: NOW + 60 })).toString('base64url')}`;
    const r = await verify([`${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`]);
    expect(r.stdout).toContain('✗ compact form');
    expect(r.stdout).toContain('– signature (current secret) (not checked)');
    expect(r.stdout).toContain('✓ user id claim');
  });

  it('control characters from the token are escaped, never sent to the terminal (alg, header, claims, messages)', async () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64url');
    const alg = await verify([`${b64('{"alg":"\\u001b[2J\u009b31m"}')}.${b64('{"user_id":"u"}')}.AAAA`]);
    const payload = `${b64('{"alg":"HS256"}')}.${b64('{"user_id":"u\u009b1 ","sub":"x\\u001b]0;t\\u0007","k\u009by":1}')}`;
    const claims = await verify([`${payload}.${createHmac('sha256', SECRET).update(payload).digest('base64url')}`]);
    expect([alg.exitCode, claims.exitCode]).toEqual([3, 0]);
    for (const r of [alg, claims]) {
      // eslint-disable-next-line no-control-regex -- control characters are what must not be there
      expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    }
    expect(alg.stdout).toContain('The header alg is "\\u001b[2J\\u009b31m"');
    expect(alg.stdout).toContain('Header  {"alg":"\\u001b[2J\\u009b31m"}');
    expect(claims.stdout).toContain('user_id   "u\\u009b1 "');
    expect(claims.stdout).toContain('k\\u009by  1');
    expect(claims.stdout).toContain('USER_ID_SUB_DIFFER  user_id "u\\u009b1 " and sub "x\\u001b]0;t\\u0007" differ');
  });

  it('malformed: the later checks are marked as not checked', async () => {
    const r = await verify(['not-a-token']);
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toContain('– alg is HS256 (not checked)');
  });
});

describe('token verify at a terminal', () => {
  const tty = { stdinTTY: true, stderrTTY: true, stdoutTTY: true };
  it('prompts for the secret when none is configured', async () => {
    const ctx = createTestCtx({ ...tty, env: { CHATID_PROVIDER: 'chatbase' }, answers: [SECRET] });
    const r = await runCli(['token', 'verify', GOOD, '--json'], ctx);
    expect([r.exitCode, r.json().valid]).toEqual([0, true]);
    expect(ctx.asked).toEqual(['Identity secret']);
  });

  it('Ctrl-C at the prompt exits 130', async () => {
    const { CancelledError } = await import('../../cli/errors.js');
    const ctx = createTestCtx({ ...tty, env: { CHATID_PROVIDER: 'chatbase' }, answers: [new CancelledError()] });
    const r = await runCli(['token', 'verify', GOOD], ctx);
    expect(r.exitCode).toBe(130);
  });

  it('--no-input never prompts: exit 4 for the missing secret', async () => {
    const ctx = createTestCtx({ ...tty, env: { CHATID_PROVIDER: 'chatbase' } });
    const r = await runCli(['token', 'verify', GOOD, '--no-input', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([4, 'ERR_SECRET_MISSING']);
    expect(ctx.asked).toEqual([]);
  });

  it('help exits 0 and shows examples', async () => {
    for (const verb of ['sign', 'verify', 'decode']) {
      const r = await runCli(['token', verb, '--help']);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toContain('Examples:');
    }
  });
});
