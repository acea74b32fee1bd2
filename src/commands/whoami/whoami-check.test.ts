import { afterEach, describe, expect, it } from 'vitest';
import { createTestCtx, runCli, type TestCtx } from '../../../test/helpers/test-ctx.js';

let ctx: TestCtx;
afterEach(() => ctx.mockAgent.assertNoPendingInterceptors());
const env = (provider: string, baseUrl: string, extra: Record<string, string> = {}) => ({ CHATID_PROVIDER: provider, CHATID_API_KEY: 'key', CHATID_BASE_URL: baseUrl, ...extra });

describe('whoami --check', () => {
  it('Chatbase: GET /api/v1/get-chatbots accepted → exit 0 and check.ok', async () => {
    ctx = createTestCtx({ env: env('chatbase', 'http://cb.test') });
    ctx.mockAgent.get('http://cb.test').intercept({ path: '/api/v1/get-chatbots', headers: { authorization: 'Bearer key' } }).reply(200, { chatbots: [{ id: 'a' }] });
    const r = await runCli(['whoami', '--check', '--json'], ctx);
    expect(r.exitCode).toBe(0);
    expect(r.json().check).toEqual({ ok: true, provider: 'chatbase', endpoint: 'GET /api/v1/get-chatbots', detail: '1 chatbot(s)', status: null, error: null, exitCode: 0 });
  });
  it('Chatbase: an agent id the key cannot see among its chatbots fails the check (not "accepted")', async () => {
    ctx = createTestCtx({ env: env('chatbase', 'http://cb.test', { CHATID_AGENT_ID: 'bot1' }) });
    ctx.mockAgent.get('http://cb.test').intercept({ path: '/api/v1/get-chatbots' }).reply(200, { chatbots: [{ id: 'a' }, { id: 'b' }] });
    const r = await runCli(['whoami', '--check', '--json'], ctx);
    expect([r.exitCode, r.json().check.ok, r.json().error.code]).toEqual([1, false, 'ERR_AGENT_NOT_FOUND']);
    expect(r.json().error.message).toMatch(/bot1.*not among the 2 chatbots/);
    expect(r.json().error.hint).toMatch(/--agent-id/);
  });
  it('Chatbase: the agent id among the chatbots (numbers too) → accepted, and said so', async () => {
    ctx = createTestCtx({ env: env('chatbase', 'http://cb.test', { CHATID_AGENT_ID: '7' }) });
    ctx.mockAgent.get('http://cb.test').intercept({ path: '/api/v1/get-chatbots' }).reply(200, { chatbots: [{ id: 'a' }, { id: 7 }] });
    const r = await runCli(['whoami', '--check', '--json'], ctx);
    expect([r.exitCode, r.json().check.detail]).toEqual([0, '2 chatbot(s), agent 7 among them']);
  });
  it('a 401 → exit 4, one JSON document with the verdict', async () => {
    ctx = createTestCtx({ env: env('chatbase', 'http://cb.test') });
    ctx.mockAgent.get('http://cb.test').intercept({ path: '/api/v1/get-chatbots' }).reply(401, { message: 'Unauthorized access' });
    const r = await runCli(['whoami', '--check', '--json'], ctx);
    expect(r.exitCode).toBe(4);
    expect(r.json().check).toMatchObject({ ok: false, status: 401, exitCode: 4, error: { code: 'ERR_VENDOR_AUTH' } });
    // cli.md §1: a failing command's JSON has a top-level error, here beside the whoami facts.
    expect(r.json().error).toEqual(r.json().check.error);
    expect(r.json().error).toMatchObject({ code: 'ERR_VENDOR_AUTH', message: expect.any(String), hint: expect.stringContaining('`chatid whoami` shows which one is used') });
    expect(r.json().error.hint).not.toContain('whoami --check'); // the command already running
    expect(r.json().provider).toEqual({ value: 'chatbase', source: 'env' });
  });
  it('human output: the table, then the error and hint on stderr', async () => {
    ctx = createTestCtx({ env: env('replyful', 'http://rf.test') });
    ctx.mockAgent.get('http://rf.test').intercept({ path: '/v1/conversations?limit=1' }).reply(401, { error: { type: 'authentication_error', code: 'invalid_api_key', message: 'Invalid API key' } });
    const r = await runCli(['whoami', '--check'], ctx);
    expect(r.exitCode).toBe(4);
    expect(r.stdout).toMatch(/Key check +FAILED: Replyful answered 401/);
    expect(r.stderr).toMatch(/ERR_VENDOR_AUTH/);
  });
  it('unreachable → exit 1', async () => {
    ctx = createTestCtx({ env: env('replyful', 'http://rf.test') });
    for (let i = 0; i < 3; i++) ctx.mockAgent.get('http://rf.test').intercept({ path: '/v1/conversations?limit=1' }).replyWithError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
    const r = await runCli(['whoami', '--check', '--json'], ctx);
    expect([r.exitCode, r.json().check.error.code, r.json().error.code]).toEqual([1, 'ERR_NETWORK', 'ERR_NETWORK']);
  });
  it.each([
    ['chatbase', '/api/v1/get-chatbots', {}],
    ['bookbag', '/api/v1/chatbots/42/custom-attributes', { CHATID_AGENT_ID: '42' }],
  ])('%s unreachable: the check gives up after 3 attempts like the others, not after the 6 of a sync', async (provider, path, extra) => {
    ctx = createTestCtx({ env: env(provider, 'http://x.test', extra) });
    for (let i = 0; i < 3; i++) ctx.mockAgent.get('http://x.test').intercept({ path }).replyWithError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
    const r = await runCli(['whoami', '--check', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([1, 'ERR_NETWORK']);
    expect(r.json().error.message).toMatch(/after 3 attempts/);
  });
  it('a 503 after the retries: the hint does not offer --max-retries, which whoami lacks', async () => {
    ctx = createTestCtx({ env: env('chatbase', 'http://cb.test') });
    ctx.mockAgent.get('http://cb.test').intercept({ path: '/api/v1/get-chatbots' }).reply(503, { message: 'Service unavailable' }).times(3);
    const r = await runCli(['whoami', '--check', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([1, 'ERR_VENDOR_SERVER']);
    expect(r.json().error.hint).not.toMatch(/--max-retries|--max-wait|--concurrency/);
  });
  it('OpenCX: a 400 to the empty probe means the key passed', async () => {
    ctx = createTestCtx({ env: env('opencx', 'http://ocx.test') });
    ctx.mockAgent.get('http://ocx.test').intercept({ path: '/widget/authenticate-user', method: 'POST' }).reply(400, { statusCode: 400, message: ['email must be an email'], error: 'Bad Request' });
    const r = await runCli(['whoami', '--check', '--json'], ctx);
    expect([r.exitCode, r.json().check.ok, 'error' in r.json()]).toEqual([0, true, false]);
  });
  it('Bookbag with an agent: an agent-scoped read', async () => {
    ctx = createTestCtx({ env: env('bookbag', 'http://bb.test', { CHATID_AGENT_ID: '42' }) });
    ctx.mockAgent.get('http://bb.test').intercept({ path: '/api/v1/chatbots/42/custom-attributes' }).reply(403, { message: 'Forbidden' });
    expect((await runCli(['whoami', '--check', '--json'], ctx)).exitCode).toBe(4);
  });
  it('teamweb has no API to ask: exit 2', async () => {
    ctx = createTestCtx({ env: { CHATID_PROVIDER: 'teamweb', CHATID_API_KEY: 'k', CHATID_BASE_URL: 'http://x.test' } });
    const r = await runCli(['whoami', '--check', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_NOT_SUPPORTED']);
  });
  it('no API key: exit 4', async () => {
    ctx = createTestCtx({ env: { CHATID_PROVIDER: 'chatbase' } });
    const r = await runCli(['whoami', '--check', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([4, 'ERR_API_KEY_MISSING']);
  });
  it('without --check nothing is sent and there is no check field', async () => {
    ctx = createTestCtx({ env: env('chatbase', 'http://cb.test') });
    const r = await runCli(['whoami', '--json'], ctx);
    expect([r.exitCode, 'check' in r.json()]).toEqual([0, false]);
  });
});
