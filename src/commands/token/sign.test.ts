import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { compactVerify, decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli, TEST_NOW } from '../../../test/helpers/test-ctx.js';
import { signHs256 } from '../../core/jwt-sign.js';
import { registerSign, type SignOptions } from './sign.js';

const SECRET = 'sign_test_secret_0123456789abcdef0123';
const KEY = new TextEncoder().encode(SECRET);
const NOW = TEST_NOW.getTime() / 1000; // 1767225600
const env = (provider: string, extra: Record<string, string> = {}) => ({ CHATID_SECRET: SECRET, CHATID_PROVIDER: provider, ...extra });
const sign = (argv: string[], o: Parameters<typeof createTestCtx>[0] = {}) => runCli(['token', 'sign', ...argv], createTestCtx({ env: env('chatbase'), ...o }));

describe('token sign: flags → options', () => {
  async function parse(argv: string[]): Promise<SignOptions> {
    const ctx = createTestCtx();
    let got: SignOptions | undefined;
    const program = new Command().exitOverride().option('--json');
    registerSign(program, ctx, async (o) => {
      got = o;
      return { batch: true, count: 0 };
    });
    await program.parseAsync(argv, { from: 'user' });
    return got!;
  }

  it('collects repeatable flags and types --claim-json', async () => {
    const o = await parse(['sign', 'u1', '--attr', 'plan=pro', '--attr', 'seats=5=x', '--stripe-account', 'main=cus_1', '--claim', 'a=b', '--claim-json', 'n=5', '--claim-json', 'o={"x":[1]}', '--no-iat', '--exp', '15m', '--json']);
    expect(o).toMatchObject({ userId: 'u1', attrs: [['plan', 'pro'], ['seats', '5=x']], stripeAccounts: [['main', 'cus_1']], claims: [['a', 'b', '--claim'], ['n', 5, '--claim-json'], ['o', { x: [1] }, '--claim-json']], iat: false, exp: '15m', json: true, allowWeakSecret: false });
  });

  it('defaults: exp 1h, iat on, human output', async () => {
    // exp left out is 1h when signing (see the NDJSON test: exp = iat + 3600); OpenCX refuses a given one.
    const o = await parse(['sign', '--user-id', 'u1']);
    expect(o).toMatchObject({ userId: 'u1', iat: true, json: false, attrs: [], claims: [] });
    expect('exp' in o).toBe(false);
  });

  it('refuses two different user ids and malformed pairs', async () => {
    await expect(parse(['sign', 'a', '--user-id', 'b'])).rejects.toMatchObject({ code: 'ERR_TOKEN_USER_ID_TWICE' });
    await expect(parse(['sign', 'a', '--attr', 'novalue'])).rejects.toMatchObject({ code: 'ERR_TOKEN_FLAG_FORMAT' });
    await expect(parse(['sign', 'a', '--claim-json', 'x=not json'])).rejects.toMatchObject({ code: 'ERR_TOKEN_CLAIM_JSON' });
    for (const v of ['1e999', '-1e999', '[1, 1e999]', '{"a":{"b":1e400}}']) {
      await expect(parse(['sign', 'a', '--claim-json', `x=${v}`]), v).rejects.toMatchObject({ code: 'ERR_TOKEN_CLAIM_JSON', message: expect.stringContaining('too large for JSON') });
    }
    await expect(parse(['sign', 'a', '--claim-json', 'x=1.7e308'])).resolves.toBeDefined();
    // An integer JSON.parse would round: refused with the value it would have become.
    // Whatever its form: a fraction of zeros or an exponent does not make it a float.
    for (const [v, tok] of [['99999999999999999999', '99999999999999999999'], ['{"ids":[1,-9007199254740993]}', '-9007199254740993'], ['9007199254740993', '9007199254740993'], ['9007199254740993.0', '9007199254740993.0'], ['99999999999999999999e0', '99999999999999999999e0'], ['[90071992547409930e-1]', '90071992547409930e-1']]) {
      await expect(parse(['sign', 'a', '--claim-json', `x=${v}`]), v).rejects.toMatchObject({ code: 'ERR_TOKEN_CLAIM_JSON', message: expect.stringContaining(`the integer ${tok} has more digits`), hint: expect.stringContaining(`"${tok}"`) });
    }
    // Signed as written (JSON.stringify gives the same value back): exact integers, 1.5e30 (as 1.5e+30), fractions.
    for (const v of ['9007199254740991', '18014398509481984', '"99999999999999999999"', '{"a\\"":"1234567890123456789012"}', '1.5e30', '1e20', '100e-2', '[0.30000000000000004]', '3.14159265358979323846']) {
      await expect(parse(['sign', 'a', '--claim-json', `x=${v}`]), v).resolves.toBeDefined();
    }
    // An unset variable in `--email "$EMAIL"` signs no empty claim.
    for (const flag of ['--email', '--name', '--phone']) {
      await expect(parse(['sign', 'a', flag, '']), flag).rejects.toMatchObject({ code: 'ERR_TOKEN_FLAG_EMPTY', exitCode: 2, message: `${flag} was given an empty value.` });
    }
    await expect(parse(['sign', '--batch', '-', '--email', ' '])).rejects.toMatchObject({ code: 'ERR_TOKEN_FLAG_EMPTY' });
    await expect(parse(['sign', 'a', '--stripe-account', 'bad'])).rejects.toMatchObject({ code: 'ERR_TOKEN_FLAG_FORMAT', hint: 'Example: --stripe-account default=cus_123' });
  });
});

describe('token sign', () => {
  it('Chatbase: every claim, the user id as a string, exact and verifiable', async () => {
    const r = await sign(['12345', '--email', 'ada@example.com', '--name', 'Ada', '--phone', '+14155550123', '--attr', 'plan=pro', '--stripe-account', 'main=cus_123', '--json']);
    expect(r.exitCode).toBe(0);
    const j = r.json();
    const payload = { user_id: '12345', email: 'ada@example.com', name: 'Ada', phonenumber: '+14155550123', custom_attributes: { plan: 'pro' }, stripe_accounts: [{ label: 'main', stripe_id: 'cus_123' }], iat: NOW, exp: NOW + 3600 };
    expect(j).toEqual({ token: await signHs256(KEY, payload), header: { alg: 'HS256', typ: 'JWT' }, payload, expiresAt: '2026-01-01T01:00:00.000Z' });
    const v = await compactVerify(j.token, KEY, { algorithms: ['HS256'] });
    expect(v.protectedHeader).toEqual({ alg: 'HS256', typ: 'JWT' });
  });

  it('human mode prints the token alone', async () => {
    const r = await sign(['--user-id', 'user_123']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9\.[\w-]+\.[\w-]{43}\n$/);
    expect(decodeJwt(r.stdout.trim())).toEqual({ user_id: 'user_123', iat: NOW, exp: NOW + 3600 });
    expect(r.stderr).toBe('');
  });

  it('Replyful: userId, custom properties, iat always and exp = iat + 1h', async () => {
    const r = await sign(['u_9', '--email', 'a@b.c', '--claim', 'plan=pro', '--claim-json', 'seats=5', '--json'], { env: env('replyful') });
    expect(r.json().payload).toEqual({ userId: 'u_9', email: 'a@b.c', plan: 'pro', seats: 5, iat: NOW, exp: NOW + 3600 });
  });

  it('Replyful refuses --no-iat', async () => {
    const r = await sign(['u_9', '--no-iat', '--json'], { env: env('replyful') });
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_TOKEN_IAT_REQUIRED']);
  });

  it('generic: sub, and --no-iat', async () => {
    const r = await sign(['u1', '--no-iat', '--json'], { env: env('generic') });
    expect(r.json().payload).toEqual({ sub: 'u1', exp: NOW + 3600 });
  });

  it.each([
    ['15m', NOW + 900],
    ['+1h', NOW + 3600],
    ['24h', NOW + 86400],
    [String(NOW + 100), NOW + 100],
  ])('--exp %s', async (exp, want) => {
    const r = await sign(['u1', '--exp', exp, '--json'], { env: env('generic') });
    expect(r.json().payload.exp).toBe(want);
  });

  it('--exp none: no exp, expiresAt null, a warning', async () => {
    const r = await sign(['u1', '--exp', 'none', '--json'], { env: env('generic') });
    expect(r.json()).toMatchObject({ payload: { sub: 'u1', iat: NOW }, expiresAt: null });
    expect(r.json().payload.exp).toBeUndefined();
    expect(r.stderr).toContain('never expires');
  });

  it('Chatbase warns about lifetimes over 24h', async () => {
    const r = await sign(['u1', '--exp', '7d']);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('under 24h');
  });

  it('every --exp hint is itself a valid --exp', async () => {
    // A Unix time a minute ago is not a lifetime missing its unit: `--exp <it>s` would be 56 years.
    for (const [exp, said] of [['0', 'at least a second'], ['3600', '--exp 3600s'], [String(NOW - 60), `after ${NOW} (now)`], ['0s', 'shorter than a second'], ['500ms', 'shorter than a second']]) {
      const r = await sign(['u1', '--exp', exp!, '--json']);
      const { message, hint } = r.json().error as { message: string; hint: string };
      expect(`${message} ${hint}`, exp).toContain(said);
      if (Number(exp) >= 1e9) expect(hint, exp).not.toContain(`${exp}s`);
      for (const suggested of hint.match(/(?<=--exp |, |or )[0-9a-z]+(?=[,. ]|$)/g) ?? []) {
        expect((await sign(['u1', '--exp', suggested])).exitCode, `${exp} → ${suggested}`).toBe(0);
      }
    }
  });

  it.each([
    ['3600', 'ERR_TOKEN_EXP'], // a bare number is a Unix time: 1970 is in the past
    [String(NOW * 1000), 'ERR_TOKEN_EXP'], // milliseconds
    ['soon', 'ERR_TOKEN_EXP'],
    ['0s', 'ERR_TOKEN_EXP'],
  ])('--exp %s is a usage error', async (exp, code) => {
    const r = await sign(['u1', '--exp', exp, '--json']);
    expect([r.exitCode, r.json().error.code]).toEqual([2, code]);
  });

  it.each([
    [['u1', '--claim', 'user_id=x'], 'ERR_TOKEN_CLAIM_TWICE'],
    [['u1', '--claim', 'exp=1'], 'ERR_TOKEN_CLAIM_RESERVED'],
    [['u1', '--email', 'a@b.c', '--claim-json', 'email="b@c.d"'], 'ERR_TOKEN_CLAIM_TWICE'],
    [['--email', 'a@b.c'], 'ERR_TOKEN_USER_ID_REQUIRED'],
    [[''], 'ERR_TOKEN_USER_ID_EMPTY'],
  ])('%j → %s (exit 2)', async (argv, code) => {
    const r = await sign([...argv, '--json']);
    expect([r.exitCode, r.json().error.code]).toEqual([2, code]);
  });

  it('an error about a --claim-json claim names --claim-json, not --claim', async () => {
    const cases: Array<[string, string]> = [
      ['__proto__={"a":1}', '--claim-json: "__proto__" cannot be a claim or attribute name.'],
      ['exp=5', 'Set exp with --exp, not --claim-json.'],
      ['user_id="x"', 'The claim "user_id" is set twice (again by --claim-json).'],
    ];
    for (const [kv, message] of cases) {
      const r = await sign(['u1', '--claim-json', kv, '--json']);
      expect([r.exitCode, r.json().error.message], kv).toEqual([2, message]);
    }
    const plain = await sign(['u1', '--claim', 'exp=5', '--json']);
    expect(plain.json().error.message).toBe('Set exp with --exp, not --claim.');
  });

  it('--attr is Chatbase only', async () => {
    const r = await sign(['u1', '--attr', 'a=b', '--json'], { env: env('replyful') });
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_TOKEN_FLAG_PROVIDER']);
  });

  it('refuses a secret under 32 bytes unless --allow-weak-secret', async () => {
    const weak = { CHATID_SECRET: 'short', CHATID_PROVIDER: 'chatbase' };
    const r = await sign(['u1', '--json'], { env: weak });
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_SECRET_WEAK']);
    expect(r.json().error.hint).toContain('--allow-weak-secret');
    const ok = await sign(['u1', '--allow-weak-secret', '--json'], { env: weak });
    expect(ok.exitCode).toBe(0);
    await expect(compactVerify(ok.json().token, new TextEncoder().encode('short'))).resolves.toBeTruthy();
  });

  it('uses hex: secrets as bytes', async () => {
    const hex = 'ab'.repeat(32);
    const r = await sign(['u1', '--json'], { env: { CHATID_SECRET: `hex:${hex}`, CHATID_PROVIDER: 'generic' } });
    await expect(compactVerify(r.json().token, Buffer.from(hex, 'hex'))).resolves.toBeTruthy();
  });

  it('reads the secret from stdin, stripping the newline with a warning', async () => {
    const r = await runCli(['token', 'sign', 'u1', '--secret-stdin', '--provider', 'generic', '--json'], createTestCtx({ stdin: `${SECRET}\n` }));
    expect(r.exitCode).toBe(0);
    await expect(compactVerify(r.json().token, KEY)).resolves.toBeTruthy();
    expect(r.stderr).toContain('trailing newline');
  });

  it('takes provider and secret from the active profile', async () => {
    const ctx = createTestCtx({ profiles: { prod: { provider: 'replyful', secret: SECRET } }, activeProfile: 'prod' });
    const r = await runCli(['token', 'sign', 'u1', '--json'], ctx);
    expect(r.json().payload.userId).toBe('u1');
  });

  it('exit 4 without a secret, exit 2 without a provider', async () => {
    const a = await runCli(['token', 'sign', 'u1', '--provider', 'chatbase', '--json'], createTestCtx());
    expect([a.exitCode, a.json().error.code]).toEqual([4, 'ERR_SECRET_MISSING']);
    const b = await runCli(['token', 'sign', 'u1', '--json'], createTestCtx({ env: { CHATID_SECRET: SECRET } }));
    expect([b.exitCode, b.json().error.code]).toEqual([2, 'ERR_PROVIDER_REQUIRED']);
  });

  it('points Bookbag and TeamWeb to their commands', async () => {
    for (const p of ['bookbag', 'teamweb']) {
      const r = await sign(['u1', '--json'], { env: env(p) });
      expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_TOKEN_PROVIDER']);
    }
  });

  it('OpenCX goes to signOpencx (needs --email; no secret needed)', async () => {
    const noEmail = await runCli(['token', 'sign', '--provider', 'opencx', '--json'], createTestCtx());
    expect([noEmail.exitCode, noEmail.json().error.code]).toEqual([2, 'ERR_TOKEN_EMAIL_REQUIRED']);
    const r = await runCli(['token', 'sign', '--provider', 'opencx', '--email', 'a@b.c', '--json'], createTestCtx());
    expect(r.json().error.code).not.toBe('ERR_SECRET_MISSING');
  });

  it('human error on stderr, nothing on stdout', async () => {
    const r = await sign(['u1', '--exp', 'soon']);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('ERR_TOKEN_EXP');
    expect(r.stderr).toContain('hint:');
  });
});

describe('token sign --batch', () => {
  it('a bad line ends the output just before it: every earlier token is written', async () => {
    const ids = Array.from({ length: 1500 }, (_, i) => `u${i + 1}`);
    const r = await runCli(['token', 'sign', '--batch', '-'], createTestCtx({ env: env('chatbase'), stdin: `${ids.join('\n')}\n\nx\n` }));
    expect(r.exitCode).toBe(2);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1500);
    expect(r.stderr).toContain('line 1501');
  });

  it('one id per line from stdin → one token per line, same as single signing', async () => {
    const r = await runCli(['token', 'sign', '--batch', '-'], createTestCtx({ env: env('chatbase'), stdin: 'u1\nu2\r\nu3' }));
    expect(r.exitCode).toBe(0);
    const tokens = r.stdout.trim().split('\n');
    expect(tokens.map((t) => decodeJwt(t).user_id)).toEqual(['u1', 'u2', 'u3']);
    const single = await sign(['u2']);
    expect(tokens[1]).toBe(single.stdout.trim());
  });

  it('--json escapes C1 controls and U+2028/U+2029 in ids, as every --json document does', async () => {
    const ids = ['a\u0080b', 'c\u0085\u009bd', 'e\u2028f\u2029g'];
    const r = await runCli(['token', 'sign', '--batch', '-', '--json'], createTestCtx({ env: env('replyful'), stdin: `${ids.join('\n')}\n` }));
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.map((l) => l.slice(0, l.indexOf(',"token"')))).toEqual(['{"userId":"a\\u0080b"', '{"userId":"c\\u0085\\u009bd"', '{"userId":"e\\u2028f\\u2029g"']);
    expect(lines.map((l) => decodeJwt((JSON.parse(l) as { token: string }).token).userId)).toEqual(ids);
  });

  it('the batch template gives the same bytes as single signing, with every kind of claim', async () => {
    const flags = ['--email', 'flag@x.y', '--phone', '+1555', '--attr', 'plan=pro', '--stripe-account', 'm=cus_1', '--claim', 'k=v', '--claim-json', 'n={"a":[1,"ü"]}', '--exp', '2h'];
    const r = await runCli(['token', 'sign', '--batch', '-', ...flags], createTestCtx({ env: env('chatbase'), stdin: 'user_id,email,name\nu1,,\nu2,row@x.y,"Zoë """\n' }));
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const [t1, t2] = r.stdout.trim().split('\n');
    expect(t1).toBe((await sign(['u1', ...flags])).stdout.trim());
    expect(t2).toBe((await sign(['u2', ...flags.slice(2), '--email', 'row@x.y', '--name', 'Zoë "'])).stdout.trim());
  });

  it('reads the user id from stdin when given as - or left out with stdin a pipe (cli.md §4)', async () => {
    const single = (await sign(['u1'])).stdout;
    for (const [argv, stdin] of [[['-'], 'u1\n'], [['--user-id', '-'], 'u1'], [[], '\uFEFFu1\r\n']] as const) {
      const r = await runCli(['token', 'sign', ...argv], createTestCtx({ env: env('chatbase'), stdin }));
      expect([r.exitCode, r.stdout], argv.join(' ')).toEqual([0, single]);
    }
    const empty = await runCli(['token', 'sign', '-', '--json'], createTestCtx({ env: env('chatbase'), stdin: '' }));
    expect([empty.exitCode, empty.json().error.code, empty.json().error.message]).toEqual([2, 'ERR_TOKEN_USER_ID_REQUIRED', 'No user id: stdin was empty.']);
    const lines = await runCli(['token', 'sign', '--json'], createTestCtx({ env: env('chatbase'), stdin: 'u1\nu2\n' }));
    expect([lines.exitCode, lines.json().error.code, lines.json().error.hint]).toEqual([2, 'ERR_TOKEN_STDIN_LINES', 'Use `chatid token sign --batch -` for one id per line.']);
    const latin1 = await runCli(['token', 'sign', '--json'], createTestCtx({ env: env('chatbase'), stdin: Buffer.from([0x6a, 0x6f, 0x73, 0xe9]) }));
    expect([latin1.exitCode, latin1.json().error.code, latin1.json().token]).toEqual([2, 'ERR_TOKEN_STDIN_NOT_TEXT', undefined]); // not a token for "jos\uFFFD"
    // The secret on stdin: an explicit - is refused, a left-out id is just missing.
    const envNoSecret = { ...env('chatbase'), CHATID_SECRET: undefined };
    const twice = await runCli(['token', 'sign', '-', '--secret-stdin', '--json'], createTestCtx({ env: envNoSecret, stdin: SECRET }));
    expect(twice.json().error.code).toBe('ERR_STDIN_TWICE');
    const missing = await runCli(['token', 'sign', '--secret-stdin', '--json'], createTestCtx({ env: envNoSecret, stdin: SECRET }));
    expect(missing.json().error.code).toBe('ERR_TOKEN_USER_ID_REQUIRED');
    // A terminal on stdin is never read: the id is simply missing.
    const tty = await runCli(['token', 'sign', '--json'], createTestCtx({ env: env('chatbase'), stdinTTY: true }));
    expect(tty.json().error.code).toBe('ERR_TOKEN_USER_ID_REQUIRED');
  });

  it('names the CSV columns it does not put in the tokens (a phone column is not --phone)', async () => {
    const r = await runCli(['token', 'sign', '--batch', '-'], createTestCtx({ env: env('chatbase'), stdin: 'user_id,email,phone,attr.plan\nu1,a@b.c,+1555,pro\n' }));
    expect(r.exitCode).toBe(0);
    expect(decodeJwt(r.stdout.trim())).toEqual({ user_id: 'u1', email: 'a@b.c', iat: NOW, exp: NOW + 3600 });
    expect(r.stderr).toContain('warning: token sign --batch does not read the columns "phone", "attr.plan": it uses user_id, email and name.\n');
  });

  it('CSV with user_id, email, name; --json gives NDJSON {userId, token}', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatid-batch-'));
    writeFileSync(join(dir, 'users.csv'), 'user_id,email,name\nu1,a@b.c,"Ada, L"\nu2,,Bob\n');
    const r = await runCli(['token', 'sign', '--batch', 'users.csv', '--json'], createTestCtx({ env: env('chatbase'), cwd: dir }));
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.userId)).toEqual(['u1', 'u2']);
    expect(decodeJwt(lines[0].token)).toMatchObject({ user_id: 'u1', email: 'a@b.c', name: 'Ada, L' });
    expect(decodeJwt(lines[1].token)).toEqual({ user_id: 'u2', name: 'Bob', iat: NOW, exp: NOW + 3600 });
    for (const l of lines) await expect(compactVerify(l.token, KEY, { algorithms: ['HS256'] })).resolves.toBeTruthy();
  });

  it('usage errors: --user-id with --batch, stdin twice, empty input, missing file', async () => {
    const a = await runCli(['token', 'sign', '--batch', '-', '--user-id', 'x', '--json'], createTestCtx({ env: env('chatbase'), stdin: 'u1\n' }));
    expect([a.exitCode, a.json().error.code]).toEqual([2, 'ERR_TOKEN_BATCH_USER_ID']);
    const b = await runCli(['token', 'sign', '--batch', '-', '--secret-stdin', '--provider', 'generic', '--json'], createTestCtx({ stdin: `${SECRET}\n` }));
    expect(b.exitCode).toBe(2);
    const c = await runCli(['token', 'sign', '--batch', '-', '--json'], createTestCtx({ env: env('chatbase'), stdin: '' }));
    expect([c.exitCode, c.json().error.code]).toEqual([2, 'ERR_BATCH_EMPTY']);
    const d = await runCli(['token', 'sign', '--batch', '/nonexistent/ids.txt', '--json'], createTestCtx({ env: env('chatbase') }));
    expect([d.exitCode, d.json().error.code]).toEqual([2, 'ERR_BATCH_FILE']);
  });
});

describe('token sign --help', () => {
  it('says how --email/--name combine with --batch rows', async () => {
    const r = await runCli(['token', 'sign', '--help'], createTestCtx());
    expect(r.stdout.replace(/\s+/g, ' ')).toContain('a CSV email or name cell wins for its row, and --email/--name fill the rows without one (on a plain id list, every token gets the same email and name)');
  });
});
