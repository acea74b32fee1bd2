import { afterEach, describe, expect, it } from 'vitest';
import { createTestCtx, runCli, type TestCtx } from '../../../test/helpers/test-ctx.js';

const BASE = 'http://ocx.test';
const ENV = { CHATID_PROVIDER: 'opencx', CHATID_API_KEY: 'ocx_live_k', CHATID_BASE_URL: BASE };
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const HEADER = { alg: 'HS256', typ: 'JWT' };
const TOKEN = `${b64(HEADER)}.${b64({ sub: 'ct_1', exp: 1767229200 })}.sig`;
let ctx: TestCtx;
afterEach(() => ctx.mockAgent.assertNoPendingInterceptors());

describe('token sign (OpenCX)', () => {
  it('prints the token the vendor minted', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent
      .get(BASE)
      .intercept({ path: '/widget/authenticate-user', method: 'POST', headers: { authorization: 'Bearer ocx_live_k' }, body: '{"email":"ann@example.com","name":"Ann"}' })
      .reply(200, { token: TOKEN, contact: { id: 'ct_1' } });
    const r = await runCli(['token', 'sign', '--email', 'ann@example.com', '--name', 'Ann'], ctx);
    expect([r.exitCode, r.stdout]).toEqual([0, `${TOKEN}\n`]);
  });
  it('--json: token, contact, decoded payload and expiry; a 201 without contact is fine', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/widget/authenticate-user', method: 'POST' }).reply(201, { token: TOKEN });
    const r = await runCli(['token', 'sign', '--email', 'ann@example.com', '--json'], ctx);
    expect(r.json()).toEqual({ token: TOKEN, header: HEADER, payload: { sub: 'ct_1', exp: 1767229200 }, expiresAt: '2026-01-01T01:00:00.000Z', provider: 'opencx', contact: null });
    // The keys of every token sign --json (../shared/spec/cli.md §5) come first.
    expect(Object.keys(r.json()).slice(0, 4)).toEqual(['token', 'header', 'payload', 'expiresAt']);
  });
  it.each([
    [429, 'ERR_VENDOR_RATE_LIMIT'],
    [503, 'ERR_VENDOR_SERVER'],
  ])('a %i after the retries: the hint names no flag token sign lacks (--max-retries, --max-wait, --concurrency)', async (status, code) => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/widget/authenticate-user', method: 'POST' }).reply(status, { statusCode: status, message: 'Slow down' }).times(6);
    const r = await runCli(['token', 'sign', '--email', 'ann@example.com', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([1, code]);
    expect(r.json().error.hint).not.toMatch(/--max-retries|--max-wait|--concurrency/);
  });
  it('a Retry-After above the cap: the hint does not offer --max-wait, which token sign lacks', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/widget/authenticate-user', method: 'POST' }).reply(429, { statusCode: 429, message: 'Slow down' }, { headers: { 'retry-after': '3600' } });
    const r = await runCli(['token', 'sign', '--email', 'ann@example.com', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([1, 'ERR_VENDOR_RATE_LIMIT']);
    expect(r.json().error.hint).not.toMatch(/--max-wait/);
  });
  it('a 400 says each of the vendor\'s messages once, and the hint names the flags to correct', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent
      .get(BASE)
      .intercept({ path: '/widget/authenticate-user', method: 'POST' })
      .reply(400, { statusCode: 400, message: ['email must be an email', 'phone must be a string'], error: 'Bad Request' });
    const r = await runCli(['token', 'sign', '--email', 'not-an-email', '--phone', '5'], ctx);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(
      'error: OpenCX refused the contact (400 to POST /widget/authenticate-user): email must be an email; phone must be a string. (ERR_VENDOR_REJECTED)\n' +
        'hint: Correct --email, --phone as OpenCX says and run again.\n',
    );
    expect(r.stderr.split('email must be an email')).toHaveLength(2);
  });
  it('a 400 with a single message: --json keeps the details (status, vendorMessage, issues) beside the message', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/widget/authenticate-user', method: 'POST' }).reply(400, { statusCode: 400, message: 'Bad Request' });
    const r = await runCli(['token', 'sign', '--email', 'ann@example.com', '--json'], ctx);
    expect([r.exitCode, r.json().error]).toEqual([
      1,
      {
        code: 'ERR_VENDOR_REJECTED',
        message: 'OpenCX refused the contact (400 to POST /widget/authenticate-user): Bad Request.',
        hint: 'Correct the contact as OpenCX says and run again.',
        status: 400,
        vendorMessage: 'Bad Request',
        issues: [],
        vendor: 'OpenCX',
      },
    ]);
  });
  it('a 403 (key without the write scope) exits 4 with a hint about the scope, not an agent OpenCX does not have', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/widget/authenticate-user', method: 'POST' }).reply(403, { statusCode: 403, message: 'Forbidden resource', error: 'Forbidden' });
    const r = await runCli(['token', 'sign', '--email', 'ann@example.com', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([4, 'ERR_VENDOR_AUTH']);
    expect(r.json().error.hint).toMatch(/resource:write/);
    expect(r.json().error.hint).not.toMatch(/agent id/);
  });
  it('--phone goes as phone and --attr k=v as customData, which authenticate-user takes (vendors.md §6)', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent
      .get(BASE)
      .intercept({ path: '/widget/authenticate-user', method: 'POST', body: '{"email":"ann@example.com","phone":"+14155550123","customData":{"plan":"pro","seats":"5"}}' })
      .reply(200, { token: TOKEN, contact: { id: 'ct_1' } });
    const r = await runCli(['token', 'sign', '--email', 'ann@example.com', '--phone', '+14155550123', '--attr', 'plan=pro', '--attr', 'seats=5'], ctx);
    expect([r.exitCode, r.stdout]).toEqual([0, `${TOKEN}\n`]);
    ctx = createTestCtx({ env: ENV });
    const twice = await runCli(['token', 'sign', '--email', 'ann@example.com', '--attr', 'plan=pro', '--attr', 'plan=free', '--json'], ctx);
    expect([twice.exitCode, twice.json().error.code]).toEqual([2, 'ERR_TOKEN_CLAIM_TWICE']);
  });
  it('a rejected org key exits 4', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/widget/authenticate-user', method: 'POST' }).reply(401, { statusCode: 401, message: 'Unauthorized', error: 'Unauthorized' });
    const r = await runCli(['token', 'sign', '--email', 'ann@example.com', '--json'], ctx);
    expect([r.exitCode, r.json().error.code, r.json().error.vendorMessage]).toEqual([4, 'ERR_VENDOR_AUTH', 'Unauthorized']);
  });
  it('refuses what OpenCX would drop (a user id, --exp, claims, --batch), before any request', async () => {
    const cases: Array<[string[], string]> = [
      [['u1', '--email', 'a@b.co'], 'a user id'],
      [['--email', 'a@b.co', '--exp', '5m', '--claim', 'a=b', '--claim-json', 'n=1'], '--exp, --claim/--claim-json'],
      [['--email', 'a@b.co', '--attr', 'plan=pro', '--phone', '+1555', '--no-iat', '--stripe-account', 'm=cus_1'], '--no-iat, --stripe-account'],
      [['--batch', '-'], '--batch'],
    ];
    for (const [argv, named] of cases) {
      ctx = createTestCtx({ env: ENV, stdin: 'user_id,email\nu1,a@x.co\n' });
      const r = await runCli(['token', 'sign', ...argv, '--json'], ctx);
      expect([r.exitCode, r.json().error.code], argv.join(' ')).toEqual([2, 'ERR_TOKEN_OPENCX_FLAGS']);
      expect(r.json().error.message).toContain(`: ${named} cannot be used with it.`);
    }
    ctx = createTestCtx({ env: ENV });
    expect((await runCli(['token', 'sign', '--batch', 'x.csv', '--json'], ctx)).json().error.hint).toContain('once per contact');
  });
  it('no API key: exit 4 before any request', async () => {
    ctx = createTestCtx({ env: { ...ENV, CHATID_API_KEY: undefined } });
    const r = await runCli(['token', 'sign', '--email', 'ann@example.com', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([4, 'ERR_API_KEY_MISSING']);
  });
});
