import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { type Sandbox, SANDBOX_API_KEY, SANDBOX_BOOKBAG_AGENT_ID, SANDBOX_CHATBASE_AGENT_ID, type SandboxOptions, startSandbox } from '../../src/sandbox/index.js';

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});
async function start(o: SandboxOptions = {}): Promise<Sandbox> {
  await sb?.close();
  sb = await startSandbox({ port: 0, ...o });
  return sb;
}
async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = { authorization: `Bearer ${SANDBOX_API_KEY}` }) {
  const res = await request(`${sb!.url}${path}`, {
    method: method as 'GET',
    headers: { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const chunks: string[] = [];
  for await (const c of res.body) chunks.push(Buffer.from(c).toString('utf8'));
  const text = chunks.join('');
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, json, text, chunks };
}
/** SSE frames as `data:` payloads (JSON parsed, [DONE] kept as a string). */
function frames(text: string): unknown[] {
  expect(text.endsWith('\n\n')).toBe(true);
  return text
    .split('\n\n')
    .filter((f) => f !== '')
    .map((f) => {
      expect(f.startsWith('data: ')).toBe(true);
      expect(f.includes('\n')).toBe(false);
      const d = f.slice(6);
      return d === '[DONE]' ? d : JSON.parse(d);
    });
}

const CB2 = `/api/v2/agents/${SANDBOX_CHATBASE_AGENT_ID}`;
const BB2 = `/api/v2/agents/${SANDBOX_BOOKBAG_AGENT_ID}`;

describe('sandbox: v2 chat, Chatbase form', () => {
  it('streams message-start, text-*, message-metadata, finish and [DONE]', async () => {
    await start();
    const r = await call('POST', `${CB2}/chat`, { message: 'hello', userId: 'user_1' });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(r.headers['x-vercel-ai-ui-message-stream']).toBe('v1');
    expect(r.headers['x-ratelimit-limit']).toBe('100');
    expect(r.headers['x-request-id']).toMatch(/^req_/);
    const f = frames(r.text) as any[];
    expect(f.map((x) => (typeof x === 'string' ? x : x.type))).toEqual(['message-start', 'text-start', ...f.slice(2, -4).map(() => 'text-delta'), 'text-end', 'message-metadata', 'finish', '[DONE]']);
    const deltas = f.filter((x) => x.type === 'text-delta');
    expect(deltas.length).toBeGreaterThanOrEqual(3);
    expect(deltas.every((d) => d.id === 'text_0' && typeof d.delta === 'string')).toBe(true);
    expect(deltas.map((d) => d.delta).join('')).toContain('hello');
    const meta = f.find((x) => x.type === 'message-metadata').messageMetadata;
    expect(meta).toMatchObject({ conversationId: 'conv_1', userId: 'user_1', finishReason: 'stop', usage: { credits: 1 } });
    expect(r.chunks.length).toBeGreaterThan(1);
  });

  it('answers the non-stream shape and continues a conversation', async () => {
    await start();
    const r = await call('POST', `${CB2}/chat`, { message: 'hi', stream: false, userId: 'u1' });
    expect(r.status).toBe(200);
    expect(r.json.data).toMatchObject({ role: 'assistant', parts: [{ type: 'text' }], metadata: { conversationId: 'conv_1', userId: 'u1', finishReason: 'stop' } });
    const again = await call('POST', `${CB2}/chat`, { message: 'more', stream: false, conversationId: 'conv_1', userId: 'ignored' });
    expect(again.json.data.metadata).toMatchObject({ conversationId: 'conv_1', userId: 'u1' });
    expect(sb!.state.conversations(SANDBOX_CHATBASE_AGENT_ID)[0]!.messages).toHaveLength(4);
  });

  it('validates and uses the v2 error envelope', async () => {
    await start();
    const empty = await call('POST', `${CB2}/chat`, { message: '   ' });
    expect([empty.status, empty.json.error.code]).toEqual([400, 'VALIDATION_INVALID_BODY']);
    const badUser = await call('POST', `${CB2}/chat`, { message: 'x', userId: 'has space' });
    expect([badUser.status, badUser.json.error.details[0].field]).toEqual([400, 'userId']);
    const notJson = await call('POST', `${CB2}/chat`, '{');
    // Only codes Bookbag maps (vendors.md §2.4): not Chatbase's unmapped VALIDATION_INVALID_JSON.
    expect([notJson.status, notJson.json.error.code, notJson.json.error.message]).toEqual([400, 'VALIDATION_INVALID_BODY', 'Request body must be valid JSON']);
    const noAgent = await call('POST', '/api/v2/agents/nope/chat', { message: 'x' });
    expect([noAgent.status, noAgent.json.error.code]).toEqual([404, 'RESOURCE_NOT_FOUND']);
    const noConv = await call('POST', `${CB2}/chat`, { message: 'x', conversationId: 'conv_9' });
    expect(noConv.status).toBe(404);
    const missing = await call('POST', `${CB2}/chat`, { message: 'x' }, {});
    expect([missing.status, missing.json]).toEqual([401, { error: { code: 'AUTH_MISSING_API_KEY', message: 'Missing API key' } }]);
    const wrong = await call('POST', `${CB2}/chat`, { message: 'x' }, { authorization: 'Bearer nope' });
    expect([wrong.status, wrong.json.error.code]).toEqual([401, 'AUTH_INVALID_API_KEY']);
    const health = await call('GET', '/api/v2/health', undefined, {});
    expect([health.status, health.json]).toEqual([200, { status: 'ok' }]);
  });

  it('ends with an error frame then [DONE] for /error', async () => {
    await start();
    const f = frames((await call('POST', `${CB2}/chat`, { message: '/error' })).text) as any[];
    expect(f.map((x) => (typeof x === 'string' ? x : x.type))).toEqual(['message-start', 'error', '[DONE]']);
  });

  it('/error stores the user\'s message but no answer the user never got', async () => {
    await start();
    await call('POST', `${CB2}/chat`, { message: 'hello', stream: false, userId: 'u1' });
    await call('POST', `${CB2}/chat`, { message: '/error', conversationId: 'conv_1' });
    const msgs = await call('GET', `${CB2}/conversations/conv_1/messages`);
    expect(msgs.json.data.map((m: any) => [m.role, m.parts[0].text.slice(0, 14)])).toEqual([
      ['user', 'hello'],
      ['assistant', 'Sandbox reply:'],
      ['user', '/error'],
    ]);
    // A failed first message opens a conversation holding that message alone.
    await call('POST', `${CB2}/chat`, { message: '/error', userId: 'u2' });
    expect((await call('GET', `${CB2}/users/u2/conversations`)).json.data).toMatchObject([{ id: 'conv_2', messageCount: 1, title: '/error' }]);
  });

  it('pages per-user conversations with a cursor', async () => {
    await start();
    for (let i = 0; i < 5; i++) await call('POST', `${CB2}/chat`, { message: `m${i}`, stream: false, userId: 'alice' });
    await call('POST', `${CB2}/chat`, { message: 'other', stream: false, userId: 'bob' });
    const p1 = await call('GET', `${CB2}/users/alice/conversations?limit=2`);
    expect(p1.status).toBe(200);
    expect(p1.json.data.map((c: any) => c.id)).toEqual(['conv_5', 'conv_4']);
    expect(p1.json.pagination).toMatchObject({ hasMore: true, total: 5 });
    const p2 = await call('GET', `${CB2}/users/alice/conversations?limit=2&cursor=${p1.json.pagination.cursor}`);
    const p3 = await call('GET', `${CB2}/users/alice/conversations?limit=2&cursor=${p2.json.pagination.cursor}`);
    expect(p3.json.data.map((c: any) => c.id)).toEqual(['conv_1']);
    expect(p3.json.pagination).toEqual({ cursor: null, hasMore: false, total: 5 });
    const bad = await call('GET', `${CB2}/users/alice/conversations?limit=101`);
    expect([bad.status, bad.json.error.code]).toEqual([400, 'VALIDATION_INVALID_BODY']);
    const badCursor = await call('GET', `${CB2}/users/alice/conversations?cursor=zzz`);
    expect(badCursor.status).toBe(400);
    const none = await call('GET', `${CB2}/users/nobody/conversations`);
    expect(none.json).toEqual({ data: [], pagination: { cursor: null, hasMore: false, total: 0 } });
  });
});

describe('sandbox: v2 conversations and messages', () => {
  it('lists an agent\'s conversations and a conversation\'s messages', async () => {
    await start({ provider: 'bookbag' });
    await call('POST', `${BB2}/chat`, { message: 'first', stream: false, userId: 'u1' });
    await call('POST', `${BB2}/chat`, { message: 'second', stream: false });
    await call('POST', `${BB2}/chat`, { message: 'again', stream: false, conversationId: 1 });
    const list = await call('GET', `${BB2}/conversations`);
    expect(list.json.data.map((c: any) => [c.id, c.messageCount])).toEqual([
      [2, 2],
      [1, 4],
    ]);
    expect((await call('GET', `${BB2}/conversations/1`)).json.data).toMatchObject({ id: 1, userId: 'u1', title: 'first' });
    const msgs = await call('GET', `${BB2}/conversations/1/messages?limit=3`);
    expect(msgs.json.data.map((m: any) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(msgs.json.data[2].parts).toEqual([{ type: 'text', text: 'again' }]);
    expect(msgs.json.pagination).toMatchObject({ hasMore: true, total: 4 });
    const nf = await call('GET', `${BB2}/conversations/9/messages`);
    expect([nf.status, nf.json.error.code]).toEqual([404, 'RESOURCE_NOT_FOUND']);
  });
});

describe('sandbox: v2 chat, Bookbag form', () => {
  it('streams text-delta {text} and finish with metadata', async () => {
    await start({ provider: 'bookbag' });
    const r = await call('POST', `${BB2}/chat`, { message: 'hello', userId: 'u.1' });
    const f = frames(r.text) as any[];
    expect(f.at(-1)).toBe('[DONE]');
    const finish = f.at(-2);
    expect(finish).toMatchObject({ type: 'finish', finishReason: 'stop', metadata: { conversationId: 1, userId: 'u.1', usage: { credits: 1 } } });
    expect(typeof finish.metadata.messageId).toBe('string');
    const deltas = f.slice(0, -2);
    expect(deltas.every((d) => d.type === 'text-delta' && typeof d.text === 'string' && d.delta === undefined)).toBe(true);
    const errored = frames((await call('POST', `${BB2}/chat`, { message: '/error', conversationId: 1 })).text) as any[];
    expect(errored).toEqual([{ type: 'error', errorText: expect.any(String) }, '[DONE]']);
    expect(sb!.state.conversations(SANDBOX_BOOKBAG_AGENT_ID)[0]!.messages.map((m) => [m.role, m.text])).toEqual([
      ['user', 'hello'],
      ['assistant', expect.stringContaining('hello')],
      ['user', '/error'],
    ]);
    const badConv = await call('POST', `${BB2}/chat`, { message: 'x', conversationId: 'abc' });
    expect(badConv.status).toBe(400);
  });

  it('serves Bookbag v1 chat as SSE token/done events', async () => {
    await start({ provider: 'bookbag' });
    const r = await call('POST', '/api/v1/chat', { agentId: Number(SANDBOX_BOOKBAG_AGENT_ID), message: 'hey' });
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/^event: token\ndata: \{"token":/);
    expect(r.text).toMatch(/event: done\ndata: \{"conversationId":1,"messageId":"msg_2"\}\n\n$/);
    const failed = await call('POST', '/api/v1/chat', { agentId: Number(SANDBOX_BOOKBAG_AGENT_ID), message: '/error', conversationId: 1 });
    expect(failed.text).toMatch(/^event: error\n/);
    expect(sb!.state.conversations(SANDBOX_BOOKBAG_AGENT_ID)[0]!.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    const bad = await call('POST', '/api/v1/chat', { agentId: 'x', message: '' });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ success: false, error: { code: 'validation_error' } });
    const missing = await call('POST', '/api/v1/chat', { agentId: 5, message: 'x' });
    expect([missing.status, missing.json.error.code]).toEqual([404, 'agent_not_found']);
  });
});

describe('sandbox: Chatbase v1 chat', () => {
  it('streams text/plain chunks or answers {text}', async () => {
    await start();
    const body = { chatbotId: SANDBOX_CHATBASE_AGENT_ID, messages: [{ role: 'user', content: 'ping' }] };
    const plain = await call('POST', '/api/v1/chat', body);
    expect(plain.status).toBe(200);
    expect(plain.json.text).toContain('ping');
    const streamed = await call('POST', '/api/v1/chat', { ...body, stream: true });
    expect(streamed.headers['content-type']).toMatch(/^text\/plain/);
    expect(streamed.text).toBe(plain.json.text);
    const bad = await call('POST', '/api/v1/chat', { chatbotId: SANDBOX_CHATBASE_AGENT_ID });
    expect([bad.status, bad.json]).toEqual([400, { message: 'Invalid request data' }]);
    const nf = await call('POST', '/api/v1/chat', { ...body, chatbotId: 'nope' });
    expect([nf.status, nf.json]).toEqual([404, { message: 'Chatbot not found' }]);
    const noKey = await call('POST', '/api/v1/chat', body, {});
    expect([noKey.status, noKey.json]).toEqual([401, { message: 'No API key provided.' }]);
  });
});

describe('sandbox: OpenCX authenticate-user', () => {
  it('mints a contact token signed by the sandbox', async () => {
    await start();
    const r = await call('POST', '/widget/authenticate-user', { email: 'ann@example.com', name: 'Ann', customData: { plan: 'pro' } });
    expect(r.status).toBe(200);
    expect(r.json.contact).toEqual({ id: 'ocx_contact_1' });
    const [h, p, s] = r.json.token.split('.');
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    expect(payload).toMatchObject({ sub: 'ocx_contact_1', email: 'ann@example.com', name: 'Ann', customData: { plan: 'pro' } });
    expect(payload.exp - payload.iat).toBe(86400);
    expect(s).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const same = await call('POST', '/widget/authenticate-user', { email: 'ANN@example.com' });
    expect(same.json.contact.id).toBe('ocx_contact_1');
  });

  it('400s a missing email and 401s a bad key with the documented body', async () => {
    await start();
    const bad = await call('POST', '/widget/authenticate-user', { name: 'x' });
    expect([bad.status, bad.json.statusCode, bad.json.error]).toEqual([400, 400, 'Bad Request']);
    expect(bad.json.message).toContain('email should not be empty');
    const unauth = await call('POST', '/widget/authenticate-user', { email: 'a@example.com' }, { authorization: 'Bearer wrong' });
    expect([unauth.status, unauth.json]).toEqual([401, { statusCode: 401, message: 'Unauthorized', error: 'Unauthorized' }]);
  });
});

describe('sandbox: Replyful conversations (whoami)', () => {
  it('answers the list envelope with RateLimit-* headers', async () => {
    await start();
    const r = await call('GET', '/v1/conversations?limit=1');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ object: 'list', data: [], hasMore: false, nextCursor: null, url: '/v1/conversations' });
    expect(r.headers['ratelimit-limit']).toBe('100');
    expect(r.headers['ratelimit-remaining']).toBe('99');
    // Replyful's own window, 100 per 60 s (vendors.md §5.2), not Chatbase's 10 s.
    expect(Number(r.headers['ratelimit-reset'])).toBe(60);
    expect(r.headers['request-id']).toMatch(/^req_/);
  });

  it('pages and uses the error envelope', async () => {
    await start();
    for (let i = 0; i < 3; i++) await call('POST', `/api/v2/agents/${SANDBOX_CHATBASE_AGENT_ID}/chat`, { message: `m${i}`, stream: false });
    const p1 = await call('GET', '/v1/conversations?limit=2&sort=createdAt');
    expect(p1.json.hasMore).toBe(true);
    const p2 = await call('GET', `/v1/conversations?limit=2&sort=createdAt&startingAfter=${p1.json.nextCursor}`);
    expect([p2.json.data.length, p2.json.hasMore, p2.json.nextCursor]).toEqual([1, false, null]);
    const badLimit = await call('GET', '/v1/conversations?limit=101');
    expect(badLimit.status).toBe(422);
    expect(badLimit.json.error).toMatchObject({ type: 'validation_error', code: 'invalid_query_parameter', param: 'limit' });
    expect(badLimit.json.error.requestId).toBe(badLimit.headers['request-id']);
    const dates = await call('GET', '/v1/conversations?createdAt[gte]=2026-01-01&updatedAt[lte]=2026-02-01');
    expect([dates.status, dates.json.error.code]).toEqual([422, 'conflicting_date_range']);
    const cursor = await call('GET', '/v1/conversations?startingAfter=nope');
    expect([cursor.status, cursor.json.error.code]).toEqual([422, 'invalid_cursor']);
    const noBearer = await call('GET', '/v1/conversations', undefined, { authorization: SANDBOX_API_KEY });
    expect([noBearer.status, noBearer.json.error.type, noBearer.json.error.code]).toEqual([401, 'authentication_error', 'missing_api_key']);
    const wrong = await call('GET', '/v1/conversations', undefined, { authorization: 'Bearer rfl_test_nope' });
    expect([wrong.status, wrong.json.error.code]).toEqual([401, 'invalid_api_key']);
  });
});


describe('sandbox: scoped and read-only keys', () => {
  it('answers 403 on v2 and 404 on v1 for another agent, 403 for writes with a read-only key', async () => {
    await start({ provider: 'bookbag', agentIds: ['1', '2'], keyScopes: { oc_test_one: { agents: ['1'] }, ocx_read: { readOnly: true } } });
    const one = { authorization: 'Bearer oc_test_one' };
    expect((await call('POST', '/api/v2/agents/1/chat', { message: 'x', stream: false }, one)).status).toBe(200);
    const v2 = await call('POST', '/api/v2/agents/2/chat', { message: 'x' }, one);
    expect([v2.status, v2.json.error.code]).toEqual([403, 'AUTH_INSUFFICIENT_PERMISSIONS']);
    const v1 = await call('GET', '/api/v1/chatbots/2/contacts', undefined, one);
    expect([v1.status, v1.json]).toEqual([404, { message: 'Resource not found' }]);
    const chat = await call('POST', '/api/v1/chat', { agentId: 2, message: 'x' }, one);
    expect([chat.status, chat.json.error.code]).toEqual([404, 'agent_not_found']);
    const read = { authorization: 'Bearer ocx_read' };
    const ocx = await call('POST', '/widget/authenticate-user', { email: 'a@example.com' }, read);
    expect([ocx.status, ocx.json]).toEqual([403, { statusCode: 403, message: 'Forbidden resource', error: 'Forbidden' }]);
    expect((await call('GET', '/api/v1/chatbots/2/contacts', undefined, read)).status).toBe(200);
    // the default key still works everywhere
    expect((await call('GET', '/api/v1/chatbots/2/contacts')).status).toBe(200);
  });

  it('Chatbase chat with a key scoped elsewhere: 403 Access denied', async () => {
    await start({ agentIds: ['a', 'b'], keyScopes: { k_a: { agents: ['a'] } } });
    const r = await call('POST', '/api/v1/chat', { chatbotId: 'b', messages: [{ role: 'user', content: 'x' }] }, { authorization: 'Bearer k_a' });
    expect([r.status, r.json]).toEqual([403, { message: 'Access denied or quota exceeded' }]);
  });
});
