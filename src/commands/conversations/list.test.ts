import { afterEach, describe, expect, it } from 'vitest';
import { createTestCtx, runCli, type TestCtx } from '../../../test/helpers/test-ctx.js';

const BASE = 'http://bb.test';
const ENV = { CHATID_PROVIDER: 'bookbag', CHATID_API_KEY: 'oc_test_k', CHATID_AGENT_ID: '42', CHATID_BASE_URL: BASE };
let ctx: TestCtx;
afterEach(() => ctx.mockAgent.assertNoPendingInterceptors());

describe('conversations list', () => {
  it('one page, with the next cursor', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v2/agents/42/users/user_1/conversations?limit=20' }).reply(200, { data: [{ id: 1, title: 'Order' }], pagination: { cursor: 'c2', hasMore: true, total: 2 } });
    const r = await runCli(['conversations', 'list', '--user-id', 'user_1', '--json'], ctx);
    expect(r.json()).toEqual({ userId: 'user_1', conversations: [{ id: 1, title: 'Order' }], nextCursor: 'c2', hasMore: true, total: 2 });
  });
  it('Bookbag ids are numbers, as in chat --json, even when sent as strings; Chatbase ids stay as given', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v2/agents/42/users/u/conversations?limit=20' }).reply(200, { data: [{ id: '7', title: 'a' }, { id: 8 }, { title: 'no id' }], pagination: { cursor: null, hasMore: false, total: 3 } });
    const r = await runCli(['conversations', 'list', '--user-id', 'u', '--json'], ctx);
    expect(r.json().conversations).toEqual([{ id: 7, title: 'a' }, { id: 8 }, { title: 'no id' }]);
    ctx = createTestCtx({ env: { ...ENV, CHATID_PROVIDER: 'chatbase', CHATID_AGENT_ID: 'bot1' } });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v2/agents/bot1/users/u/conversations?limit=20' }).reply(200, { data: [{ id: '7' }], pagination: { cursor: null, hasMore: false } });
    expect((await runCli(['conversations', 'list', '--user-id', 'u', '--json'], ctx)).json().conversations).toEqual([{ id: '7' }]);
  });
  it('a title with control characters prints on one line, escaped (no terminal escapes from the vendor)', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v2/agents/42/users/u/conversations?limit=20' })
      .reply(200, { data: [{ id: 1, title: 'Hi\u001b[2J\nthere\r\u009b', updatedAt: '2026-01-01T00:00:00Z' }], pagination: { cursor: null, hasMore: false, total: 1 } });
    const r = await runCli(['conversations', 'list', '--user-id', 'u'], ctx);
    expect(r.stdout).toBe('ID  TITLE                       UPDATED\n1   Hi\\u001b[2J\\nthere\\r\\u009b  2026-01-01T00:00:00Z\n');
  });
  it('--all follows the cursor', async () => {
    ctx = createTestCtx({ env: ENV });
    const pool = ctx.mockAgent.get(BASE);
    pool.intercept({ path: '/api/v2/agents/42/users/user_1/conversations?limit=1' }).reply(200, { data: [{ id: 1 }], pagination: { cursor: 'c2', hasMore: true, total: 2 } });
    pool.intercept({ path: '/api/v2/agents/42/users/user_1/conversations?cursor=c2&limit=1' }).reply(200, { data: [{ id: 2 }], pagination: { cursor: null, hasMore: false, total: 2 } });
    const r = await runCli(['conversations', 'list', '--user-id', 'user_1', '--limit', '1', '--all'], ctx);
    expect([r.exitCode, r.stdout]).toEqual([0, 'ID  TITLE  UPDATED\n1   -      -\n2   -      -\n']);
  });
  it('Chatbase works the same; a cursor is passed on', async () => {
    ctx = createTestCtx({ env: { ...ENV, CHATID_PROVIDER: 'chatbase', CHATID_AGENT_ID: 'bot1' } });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v2/agents/bot1/users/u/conversations?cursor=abc&limit=20' }).reply(200, { data: [], pagination: { cursor: null, hasMore: false, total: 0 } });
    const r = await runCli(['conversations', 'list', '--user-id', 'u', '--cursor', 'abc'], ctx);
    expect(r.stdout).toBe('No conversations for u.\n');
  });
  it('--limit out of range and a missing --user-id are exit 2', async () => {
    ctx = createTestCtx({ env: ENV });
    expect((await runCli(['conversations', 'list', '--user-id', 'u', '--limit', '101'], ctx)).exitCode).toBe(2);
    expect((await runCli(['conversations', 'list'], ctx)).exitCode).toBe(2);
    // The vendor's user id rule is checked here, before any request (as chat --user-id is).
    for (const bad of ['bad id!', 'x'.repeat(129), 'a/b']) {
      ctx = createTestCtx({ env: ENV });
      const r = await runCli(['conversations', 'list', '--user-id', bad, '--json'], ctx);
      expect([r.exitCode, r.json().error.code, r.json().error.hint], bad).toEqual([2, 'ERR_CONVERSATIONS_USER_ID', expect.stringContaining('1-128 letters')]);
    }
  });
  it('a --cursor the vendor refuses is exit 2 (ERR_CONVERSATIONS_CURSOR) with a hint to use a nextCursor or drop it', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v2/agents/42/users/u/conversations?cursor=stale&limit=20' })
      .reply(400, { error: { code: 'VALIDATION_INVALID_BODY', message: 'Invalid cursor', details: [{ field: 'cursor', message: 'Not a cursor this server returned' }] } });
    const r = await runCli(['conversations', 'list', '--user-id', 'u', '--cursor', 'stale', '--json'], ctx);
    const e = r.json().error;
    expect([r.exitCode, e.code, e.status]).toEqual([2, 'ERR_CONVERSATIONS_CURSOR', 400]);
    expect(e.message).toContain('--cursor "stale"');
    expect(e.hint).toBe('Pass the nextCursor of a page of this user\'s conversations (`chatid conversations list --user-id u --json | jq -r .nextCursor`), or drop --cursor to start at the first page.');
  });
  it('404 RESOURCE_NOT_FOUND keeps the vendor code', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v2/agents/42/users/u/conversations?limit=20' }).reply(404, { error: { code: 'RESOURCE_NOT_FOUND', message: 'Agent not found' } });
    const r = await runCli(['conversations', 'list', '--user-id', 'u', '--json'], ctx);
    expect([r.exitCode, r.json().error.vendorCode]).toEqual([1, 'RESOURCE_NOT_FOUND']);
  });
  it('replyful: not offered, exit 2', async () => {
    ctx = createTestCtx({ env: { ...ENV, CHATID_PROVIDER: 'replyful' } });
    const r = await runCli(['conversations', 'list', '--user-id', 'u', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_NOT_SUPPORTED']);
  });
});
