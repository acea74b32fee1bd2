import { afterEach, describe, expect, it } from 'vitest';
import { createTestCtx, runCli, type TestCtx } from '../../../test/helpers/test-ctx.js';

const BASE = 'http://cb.test';
const ENV = { CHATID_PROVIDER: 'chatbase', CHATID_API_KEY: 'cb_key', CHATID_AGENT_ID: 'bot1', CHATID_BASE_URL: BASE };
const c = (n: number) => ({ id: `id${n}`, external_id: `u${n}`, name: `User ${n}`, email: `u${n}@example.com` });
let ctx: TestCtx;
afterEach(() => ctx.mockAgent.assertNoPendingInterceptors());

describe('contacts list', () => {
  it('prints one page as a table', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts?page=1&per_page=100', headers: { authorization: 'Bearer cb_key' } })
      .reply(200, { message: 'Success', data: [c(1)], total: 1, pages: { page: 1, per_page: 100, total_pages: 1 } });
    const r = await runCli(['contacts', 'list'], ctx);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('EXTERNAL ID  NAME    EMAIL           PHONE\nu1           User 1  u1@example.com  -\npage 1 of 1, 1 contact(s) in all\n');
  });
  it('a contact the vendor sends without an external id or with null/number fields prints as "-" / text, not a crash', async () => {
    ctx = createTestCtx({ env: ENV });
    const odd = [{ id: 'id9', name: null, email: 'x@example.com', phonenumber: 4915112345 }, { id: 'id8', external_id: null, name: 'Bo' }];
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts?page=1&per_page=100' })
      .reply(200, { message: 'Success', data: odd, total: 2, pages: { page: 1, per_page: 100, total_pages: 1 } });
    const r = await runCli(['contacts', 'list'], ctx);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toBe('EXTERNAL ID  NAME  EMAIL          PHONE\n-            -     x@example.com  4915112345\n-            Bo    -              -\npage 1 of 1, 2 contact(s) in all\n');
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts?page=1&per_page=100' })
      .reply(200, { message: 'Success', data: odd, total: 2, pages: { page: 1, per_page: 100, total_pages: 1 } });
    const all = await runCli(['contacts', 'list', '--all'], ctx);
    expect([all.exitCode, all.stdout]).toEqual([0, '-\t-\tx@example.com\t4915112345\n-\tBo\t-\t-\n']);
  });
  it('control characters in vendor fields are escaped: one line per contact, no terminal escapes', async () => {
    const evil = [{ id: 'id1', external_id: 'u\t1', name: 'A\u001b[31mnn\r\nX', email: 'a@example.com' }];
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts?page=1&per_page=100' }).reply(200, { data: evil, total: 1, pages: { page: 1, per_page: 100, total_pages: 1 } });
    const r = await runCli(['contacts', 'list'], ctx);
    expect(r.stdout).toBe('EXTERNAL ID  NAME                EMAIL          PHONE\nu\\t1         A\\u001b[31mnn\\r\\nX  a@example.com  -\npage 1 of 1, 1 contact(s) in all\n');
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts?page=1&per_page=100' }).reply(200, { data: evil, total: 1, pages: { page: 1, per_page: 100, total_pages: 1 } });
    expect((await runCli(['contacts', 'list', '--all'], ctx)).stdout).toBe('u\\t1\tA\\u001b[31mnn\\r\\nX\ta@example.com\t-\n');
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts?page=1&per_page=100' }).reply(200, { data: evil, total: 1, pages: { page: 1, per_page: 100, total_pages: 1 } });
    expect((await runCli(['contacts', 'list', '--json'], ctx)).json().contacts).toEqual(evil);
  });
  it('--page/--per-page with --json', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts?page=3&per_page=10' })
      .reply(200, { message: 'Success', data: [c(21)], total: 21, pages: { page: 3, per_page: 10, total_pages: 3 } });
    const r = await runCli(['contacts', 'list', '--page', '3', '--per-page', '10', '--json'], ctx);
    expect(r.json()).toEqual({ contacts: [c(21)], page: 3, perPage: 10, total: 21, totalPages: 3 });
  });
  it('--all --json streams NDJSON over every page', async () => {
    ctx = createTestCtx({ env: ENV });
    const pool = ctx.mockAgent.get(BASE);
    pool.intercept({ path: '/api/v1/chatbots/bot1/contacts?page=1&per_page=1000' }).reply(200, { data: [c(1), c(2)], total: 3, pages: { page: 1, per_page: 2, total_pages: 2 } });
    pool.intercept({ path: '/api/v1/chatbots/bot1/contacts?page=2&per_page=1000' }).reply(200, { data: [c(3)], total: 3, pages: { page: 2, per_page: 2, total_pages: 2 } });
    const r = await runCli(['contacts', 'list', '--all', '--per-page', '1000', '--json'], ctx);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([c(1), c(2), c(3)]);
  });
  it('--all --json that fails part-way ends the stream with a one-line error document', async () => {
    ctx = createTestCtx({ env: ENV });
    const pool = ctx.mockAgent.get(BASE);
    pool.intercept({ path: '/api/v1/chatbots/bot1/contacts?page=1&per_page=1000' }).reply(200, { data: [c(1)], total: 2, pages: { page: 1, per_page: 1, total_pages: 2 } });
    pool.intercept({ path: '/api/v1/chatbots/bot1/contacts?page=2&per_page=1000' }).reply(401, { message: 'Unauthorized access' });
    const r = await runCli(['contacts', 'list', '--all', '--per-page', '1000', '--json'], ctx);
    expect(r.exitCode).toBe(4);
    const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual(c(1));
    expect(lines[1]).toMatchObject({ error: { code: 'ERR_VENDOR_AUTH', status: 401 } });
  });
  it('--all that fails part-way says what was printed and where to pick up', async () => {
    ctx = createTestCtx({ env: ENV });
    const pool = ctx.mockAgent.get(BASE);
    pool.intercept({ path: '/api/v1/chatbots/bot1/contacts?page=3&per_page=10' }).reply(200, { data: [c(1)], total: 30, pages: { page: 3, per_page: 10, total_pages: 5 } });
    pool.intercept({ path: '/api/v1/chatbots/bot1/contacts?page=4&per_page=10' }).reply(400, { message: 'Invalid request parameters' });
    const r = await runCli(['contacts', 'list', '--all', '--page', '3', '--per-page', '10', '--json'], ctx);
    expect(r.exitCode).toBe(1);
    const error = JSON.parse(r.stdout.trimEnd().split('\n').at(-1)!).error;
    expect(error.hint).toMatch(/1 contact\(s\) on pages 3-3 were printed before page 4 failed; continue with --all --page 4 --per-page 10\.$/);
    expect(error.printed).toEqual({ contacts: 1, pages: 1, nextPage: 4 });
  });
  it('--all that fails on its first page adds nothing', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts?page=1&per_page=100' }).reply(400, { message: 'Invalid request parameters' });
    const error = (await runCli(['contacts', 'list', '--all', '--json'], ctx)).json().error;
    expect([error.hint, error.printed]).toEqual([expect.not.stringContaining('continue with'), undefined]);
  });
  it('--all without total_pages stops at a short page', async () => {
    ctx = createTestCtx({ env: ENV });
    const pool = ctx.mockAgent.get(BASE);
    pool.intercept({ path: '/api/v1/chatbots/bot1/contacts?page=1&per_page=10' }).reply(200, { data: Array.from({ length: 10 }, (_, i) => c(i)) });
    pool.intercept({ path: '/api/v1/chatbots/bot1/contacts?page=2&per_page=10' }).reply(200, { data: [c(10)] });
    const r = await runCli(['contacts', 'list', '--all', '--per-page', '10'], ctx);
    expect(r.stdout.trim().split('\n')).toHaveLength(11);
    expect(r.stderr).toContain('11 contact(s) on 2 page(s)');
  });
  it('bad --per-page is exit 2 before any request', async () => {
    ctx = createTestCtx({ env: ENV });
    const r = await runCli(['contacts', 'list', '--per-page', '5', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_USAGE_BAD_VALUE']);
  });
  it('a 401 exits 4 with ERR_VENDOR_AUTH', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts?page=1&per_page=100' }).reply(401, { message: 'Unauthorized access' });
    const r = await runCli(['contacts', 'list', '--json'], ctx);
    expect([r.exitCode, r.json().error.code, r.json().error.status]).toEqual([4, 'ERR_VENDOR_AUTH', 401]);
  });
  it('no API key is exit 4 (ERR_API_KEY_MISSING) without a request', async () => {
    ctx = createTestCtx({ env: { ...ENV, CHATID_API_KEY: undefined } });
    const r = await runCli(['contacts', 'list', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([4, 'ERR_API_KEY_MISSING']);
  });
  it('an API key that no HTTP header can carry is exit 4 (ERR_API_KEY_INVALID), naming the character, not the key, without a request', async () => {
    for (const [key, what] of [
      ['oc_test_\u2026', 'holds U+2026 "\u2026" at character 9 of 9'],
      ['cb_key\n', 'holds a line break at character 7 of 7'],
      [' cb_key', 'holds a space at character 1 of 7'],
    ]) {
      ctx = createTestCtx({ env: { ...ENV, CHATID_API_KEY: key } });
      const r = await runCli(['contacts', 'list', '--json'], ctx);
      const { error } = r.json();
      expect([r.exitCode, error.code]).toEqual([4, 'ERR_API_KEY_INVALID']);
      expect(error.message).toBe(`The API key from CHATID_API_KEY ${what}: vendor API keys are printable ASCII without spaces.`);
      expect(error.message).not.toContain('cb_key');
      expect(error.hint).toContain('Copy the key again');
    }
  });
  it('a bad API key stored in a profile: named with the profile, and how to replace it there', async () => {
    ctx = createTestCtx({ env: { ...ENV, CHATID_API_KEY: undefined }, profiles: { prod: { provider: 'chatbase', agentId: 'bot1', apiKey: 'sk live' } }, activeProfile: 'prod' });
    const r = await runCli(['contacts', 'list', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([4, 'ERR_API_KEY_INVALID']);
    expect(r.json().error.message).toBe('The API key from profile "prod" holds a space at character 3 of 7: vendor API keys are printable ASCII without spaces.');
    expect(r.json().error.hint).toContain('and store it with `chatid profile add prod --force --api-key-stdin`');
  });
  it('no API key in the active profile: the hint names the profile and what --force replaces', async () => {
    ctx = createTestCtx({ env: { ...ENV, CHATID_API_KEY: undefined }, profiles: { prod: { provider: 'chatbase', agentId: 'bot1' } }, activeProfile: 'prod' });
    const r = await runCli(['contacts', 'list', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([4, 'ERR_API_KEY_MISSING']);
    expect(r.json().error.message).toBe('No API key in profile "prod".');
    expect(r.json().error.hint).toContain('chatid profile add prod --force --api-key-stdin` and its other settings (--force replaces the whole profile)');
  });
  it('a base URL that is no http(s) URL is exit 2 (ERR_BASE_URL_INVALID) naming its source, not a network error', async () => {
    for (const [url, what] of [
      ['ftp://x', '"ftp://x" is not an http(s) URL'],
      ['http://host:99999', '"http://host:99999" is not a URL'],
      ['https://', '"https://" is not a URL'],
      ['http://ann:pa55@cb.test', 'the URL must not carry a user name or password'],
      ['http://cb.test/api/v1', 'the base URL ends in /api/v1, but chatid adds the API path (/api/v1/…, /api/v2/…, /v1/…) to each request itself; drop it: "http://cb.test"'],
    ]) {
      ctx = createTestCtx({ env: { ...ENV, CHATID_BASE_URL: url } });
      ctx.mockAgent.disableNetConnect();
      const r = await runCli(['contacts', 'list', '--json'], ctx);
      expect([url, r.exitCode, r.json().error.code]).toEqual([url, 2, 'ERR_BASE_URL_INVALID']);
      expect(r.json().error.message).toBe(`Invalid base URL from CHATID_BASE_URL: ${what}.`);
      expect(r.stdout + r.stderr).not.toContain('pa55');
    }
  });
  it('replyful and teamweb have no contacts: exit 2, "not offered"', async () => {
    for (const provider of ['replyful', 'teamweb']) {
      ctx = createTestCtx({ env: { ...ENV, CHATID_PROVIDER: provider } });
      const r = await runCli(['contacts', 'list', '--json'], ctx);
      expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_NOT_SUPPORTED']);
      expect(r.json().error.message).toContain(`not offered for ${provider}`);
    }
  });
  it('a 500 is retried, then succeeds; the waits go through ctx.sleep', async () => {
    ctx = createTestCtx({ env: ENV });
    const pool = ctx.mockAgent.get(BASE);
    pool.intercept({ path: '/api/v1/chatbots/bot1/contacts?page=1&per_page=100' }).reply(500, { message: 'Error retrieving chatbot contacts' });
    pool.intercept({ path: '/api/v1/chatbots/bot1/contacts?page=1&per_page=100' }).reply(200, { data: [] });
    const r = await runCli(['contacts', 'list', '--json'], ctx);
    expect(r.exitCode).toBe(0);
    expect(ctx.sleeps).toHaveLength(1);
  });
  it('flags beat the environment: --base-url, --agent-id, --provider bookbag', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get('http://bb.test').intercept({ path: '/api/v1/chatbots/42/contacts?page=1&per_page=100' }).reply(200, { data: [] });
    const r = await runCli(['contacts', 'list', '--provider', 'bookbag', '--agent-id', '42', '--base-url', 'http://bb.test', '--json'], ctx);
    expect(r.json()).toEqual({ contacts: [], page: 1, perPage: 100, total: null, totalPages: null });
  });
  it('--max-retries 0 stops at the first 5xx', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts?page=1&per_page=100' }).reply(503, 'Service Unavailable');
    const r = await runCli(['contacts', 'list', '--max-retries', '0', '--json'], ctx);
    expect([r.exitCode, r.json().error.code, r.json().error.status]).toEqual([1, 'ERR_VENDOR_SERVER', 503]);
    expect(ctx.sleeps).toEqual([]);
  });
  it('--verbose logs each request and wait on stderr, never the key', async () => {
    ctx = createTestCtx({ env: ENV });
    const pool = ctx.mockAgent.get(BASE);
    pool.intercept({ path: '/api/v1/chatbots/bot1/contacts?page=1&per_page=100' }).reply(429, { message: 'Rate limit exceeded' }, { headers: { 'retry-after': '4' } });
    pool.intercept({ path: '/api/v1/chatbots/bot1/contacts?page=1&per_page=100' }).reply(200, { data: [] });
    const r = await runCli(['contacts', 'list', '--verbose', '--json'], ctx);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('GET /api/v1/chatbots/bot1/contacts → 429');
    expect(r.stderr).toContain('waiting 4000 ms before the next request (HTTP 429)');
    expect(r.stderr).toContain('→ 200 (retry 1)');
    expect(r.stderr).not.toContain('cb_key');
  });
  it('a --base-url that is not http(s) is exit 2', async () => {
    ctx = createTestCtx({ env: ENV });
    const r = await runCli(['contacts', 'list', '--base-url', 'ftp://x', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_USAGE_BAD_VALUE']);
  });
  it('a Retry-After over --max-wait stops at once (exit 1, ERR_VENDOR_RATE_LIMIT)', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts?page=1&per_page=100' }).reply(429, {}, { headers: { 'retry-after': '45' } });
    const r = await runCli(['contacts', 'list', '--max-wait', '30s', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([1, 'ERR_VENDOR_RATE_LIMIT']);
    expect(ctx.sleeps).toEqual([]);
  });
});
