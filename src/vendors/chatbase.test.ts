import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthError, UsageError, VendorError } from '../cli/errors.js';
import { bookbagClient } from './bookbag.js';
import { chatbaseClient, type VendorClientOptions } from './chatbase.js';
import { readChatResponse } from './agent-api.js';
import { CancelledError, NetworkError } from '../cli/errors.js';

const BASE = 'http://cb.test';
let agent: MockAgent;
let sleeps: number[];

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  sleeps = [];
});
afterEach(async () => {
  agent.assertNoPendingInterceptors();
  await agent.close();
});

function opts(o: Partial<VendorClientOptions> = {}): VendorClientOptions {
  return {
    dispatcher: agent,
    baseUrl: BASE,
    apiKey: 'cb_key',
    agentId: 'bot 1',
    now: () => Date.parse('2026-01-01T00:00:00Z'),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: (n) => new Uint8Array(n),
    ...o,
  };
}
const pool = () => agent.get(BASE);
const contact = { id: 'c1', external_id: 'u1', name: 'Ann', email: 'ann@example.com', created_at: '2026-01-01T00:00:00Z' };

describe('Chatbase v1 contacts', () => {
  it('upserts with {users:[…]} and accepts data as an array', async () => {
    pool()
      .intercept({ path: '/api/v1/chatbots/bot%201/contacts', method: 'POST', headers: { authorization: 'Bearer cb_key' }, body: JSON.stringify({ users: [{ external_id: 'u1', name: 'Ann' }] }) })
      .reply(200, { message: 'Success', data: [contact] });
    const c = chatbaseClient(opts());
    await expect(c.upsertContacts([{ external_id: 'u1', name: 'Ann' }])).resolves.toBeUndefined();
    expect(c.stats.requests).toBe(1);
  });
  it('accepts the guide variant {data:{created:[…]}}', async () => {
    pool().intercept({ path: '/api/v1/chatbots/bot%201/contacts', method: 'POST' }).reply(200, { message: 'Success', data: { created: [contact] } });
    await expect(chatbaseClient(opts()).upsertContacts([{ external_id: 'u1' }])).resolves.toBeUndefined();
  });
  it('the acknowledgement is checked, not parsed: a JSON object with a data member', async () => {
    const replies: Array<[string, boolean]> = [
      [' \n{"data" : []}\r\n', true],
      ['{"message":"Success","data":{"created":[]}}', true],
      ['\ufeff{"message":"Success","data":[{"id":"c1"}]}', true],
      ['{"message":"Success","data":{"contacts":[]}}', true],
      ['{"message":"Success"}', false],
      ['{"data":null}', false],
      ['{"args":{},"data":"{\\"users\\":[]}","json":{"users":[]}}', false],
      ['{"data":{"users":[]}}', false],
      ['<html><body>data</body></html>', false],
      ['["data"]', false],
      ['', false],
    ];
    for (const [body] of replies) pool().intercept({ path: '/api/v1/chatbots/bot%201/contacts', method: 'POST' }).reply(200, body);
    const seen: Array<[string, boolean]> = [];
    for (const [body] of replies) {
      const ok = await chatbaseClient(opts())
        .upsertContacts([{ external_id: 'u1' }])
        .then(
          () => true,
          (e) => (e.code === 'ERR_VENDOR_BAD_RESPONSE' ? false : Promise.reject(e)),
        );
      seen.push([body, ok]);
    }
    expect(seen).toEqual(replies);
  });
  it('a 400 with issues[] is ERR_VENDOR_REJECTED carrying the issues', async () => {
    const body = { message: 'Invalid request body', issues: [{ field: 'users.0.custom_attributes.age', message: 'Expected number, received string' }] };
    pool().intercept({ path: '/api/v1/chatbots/bot%201/contacts', method: 'POST' }).reply(400, body);
    const e = await chatbaseClient(opts()).upsertContacts([{ external_id: 'u1' }]).catch((err) => err);
    expect(e).toBeInstanceOf(VendorError);
    expect([e.code, e.details.status, e.details.issues]).toEqual(['ERR_VENDOR_REJECTED', 400, body.issues]);
  });
  it('409 (email in use) is ERR_VENDOR_REJECTED with status 409', async () => {
    pool().intercept({ path: '/api/v1/chatbots/bot%201/contacts', method: 'POST' }).reply(409, '');
    const e = await chatbaseClient(opts()).upsertContacts([{ external_id: 'u1' }]).catch((err) => err);
    expect([e.code, e.details.status, e.details.vendorMessage]).toEqual(['ERR_VENDOR_REJECTED', 409, 'HTTP 409']);
  });
  it('401 on contacts is AuthError', async () => {
    pool().intercept({ path: '/api/v1/chatbots/bot%201/custom-attributes' }).reply(401, { message: 'Unauthorized access' });
    await expect(chatbaseClient(opts()).listAttributes()).rejects.toBeInstanceOf(AuthError);
  });
  it('lists a page with its pagination', async () => {
    pool()
      .intercept({ path: '/api/v1/chatbots/bot%201/contacts?page=2&per_page=10' })
      .reply(200, { message: 'Success', data: [contact], total: 11, pages: { page: 2, per_page: 10, total_pages: 2 } });
    expect(await chatbaseClient(opts()).listContacts({ page: 2, perPage: 10 })).toEqual({ contacts: [contact], page: 2, perPage: 10, total: 11, totalPages: 2 });
  });
  it('gets, updates and deletes by external id (escaped)', async () => {
    pool().intercept({ path: '/api/v1/chatbots/bot%201/contacts/a%2Fb' }).reply(200, { message: 'Success', data: contact });
    pool().intercept({ path: '/api/v1/chatbots/bot%201/contacts/u1', method: 'PATCH', body: '{"data":{"name":null}}' }).reply(200, { data: contact });
    pool().intercept({ path: '/api/v1/chatbots/bot%201/contacts/u1', method: 'DELETE' }).reply(200, { message: 'Success', data: contact });
    pool().intercept({ path: '/api/v1/chatbots/bot%201/contacts/u2', method: 'DELETE' }).reply(204, '');
    const c = chatbaseClient(opts());
    expect(await c.getContact('a/b')).toEqual(contact);
    expect(await c.updateContact('u1', { name: null })).toEqual(contact);
    expect(await c.deleteContact('u1')).toEqual(contact);
    expect(await c.deleteContact('u2')).toBeUndefined();
  });
  it('404 "Contact not found" keeps the vendor message', async () => {
    pool().intercept({ path: '/api/v1/chatbots/bot%201/contacts/nope' }).reply(404, { message: 'Contact not found' });
    const e = await chatbaseClient(opts()).getContact('nope').catch((err) => err);
    expect([e.code, e.details.status, e.details.vendorMessage]).toEqual(['ERR_VENDOR_REJECTED', 404, 'Contact not found']);
  });
  it('lists and creates custom attributes', async () => {
    const attr = { name: 'plan', type: 'text', label: 'Plan' };
    pool().intercept({ path: '/api/v1/chatbots/bot%201/custom-attributes' }).reply(200, { message: 'Success', data: [attr] });
    pool().intercept({ path: '/api/v1/chatbots/bot%201/custom-attributes', method: 'POST', body: JSON.stringify(attr) }).reply(200, { message: 'Success', data: attr });
    const c = chatbaseClient(opts());
    expect(await c.listAttributes()).toEqual([attr]);
    expect(await c.createAttribute(attr as never)).toEqual(attr);
  });
  it('check calls get-chatbots', async () => {
    pool().intercept({ path: '/api/v1/get-chatbots' }).reply(200, { chatbots: [{ id: 'b' }, { id: 'c' }] });
    expect(await chatbaseClient(opts({ agentId: undefined })).check()).toEqual({ ok: true, endpoint: 'GET /api/v1/get-chatbots', detail: '2 chatbot(s)' });
  });
  it('an agent-scoped call without an agent id is a usage error', async () => {
    await expect(chatbaseClient(opts({ agentId: undefined })).listAttributes()).rejects.toBeInstanceOf(UsageError);
  });
  it('a list whose items are not records is ERR_VENDOR_BAD_RESPONSE, not a crash in the command', async () => {
    const c = chatbaseClient(opts());
    for (const body of [[1, 2], { data: [null] }, { data: [{ name: 'plan' }] }, { data: { custom_attributes: ['plan'] } }]) {
      pool().intercept({ path: '/api/v1/chatbots/bot%201/custom-attributes' }).reply(200, body);
      await expect(c.listAttributes()).rejects.toMatchObject({ code: 'ERR_VENDOR_BAD_RESPONSE' });
    }
    pool().intercept({ path: '/api/v1/chatbots/bot%201/contacts' }).reply(200, { data: [contact, null] });
    await expect(c.listContacts({})).rejects.toMatchObject({ code: 'ERR_VENDOR_BAD_RESPONSE' });
    pool().intercept({ path: '/api/v2/agents/bot%201/users/u1/conversations' }).reply(200, { data: [1], pagination: {} });
    await expect(c.listConversations({ userId: 'u1' })).rejects.toMatchObject({ code: 'ERR_VENDOR_BAD_RESPONSE' });
  });
  it('a 200 with an unexpected body is ERR_VENDOR_BAD_RESPONSE', async () => {
    pool().intercept({ path: '/api/v1/chatbots/bot%201/contacts', method: 'POST' }).reply(200, { message: 'Success' });
    await expect(chatbaseClient(opts()).upsertContacts([{ external_id: 'u1' }])).rejects.toMatchObject({ code: 'ERR_VENDOR_BAD_RESPONSE' });
  });
});

const sse = (frames: unknown[]) => frames.map((f) => `data: ${typeof f === 'string' ? f : JSON.stringify(f)}\n\n`).join('');

describe('v2 chat', () => {
  it('Chatbase: streams text-delta `delta`, metadata from message-metadata', async () => {
    const body = sse([
      { type: 'message-start', messageId: 'm1' },
      { type: 'text-start', id: 't' },
      { type: 'text-delta', id: 't', delta: 'Hel' },
      { type: 'text-delta', id: 't', delta: 'lo' },
      { type: 'text-end', id: 't' },
      { type: 'message-metadata', messageMetadata: { conversationId: 'conv_9', userId: 'u1', usage: { credits: 2 } } },
      { type: 'finish', finishReason: 'stop' },
      '[DONE]',
    ]);
    pool()
      .intercept({ path: '/api/v2/agents/bot%201/chat', method: 'POST', body: '{"message":"hi","stream":true,"userId":"u1"}' })
      .reply(200, body, { headers: { 'content-type': 'text/event-stream', 'x-vercel-ai-ui-message-stream': 'v1' } });
    const pieces: string[] = [];
    const r = await chatbaseClient(opts()).chat({ message: 'hi', userId: 'u1', onText: (t) => pieces.push(t) });
    expect(pieces).toEqual(['Hel', 'lo']);
    expect(r).toEqual({ text: 'Hello', conversationId: 'conv_9', userId: 'u1', messageId: 'm1', finishReason: 'stop', credits: 2, streamed: true });
  });
  it('Chatbase older stream: `start`, metadata in finish.metadata', async () => {
    const body = sse([{ type: 'start', messageId: 'm2' }, { type: 'text-delta', delta: 'ok' }, { type: 'finish', metadata: { conversationId: 'c2', finishReason: 'stop' } }, '[DONE]']);
    pool().intercept({ path: '/api/v2/agents/bot%201/chat', method: 'POST' }).reply(200, body, { headers: { 'content-type': 'text/event-stream' } });
    expect(await chatbaseClient(opts()).chat({ message: 'x' })).toMatchObject({ text: 'ok', conversationId: 'c2', messageId: 'm2', finishReason: 'stop' });
  });
  it('Bookbag: `text` deltas, numeric conversationId sent as integer, "456" read back as string', async () => {
    const body = sse([{ type: 'text-delta', text: 'Hi ' }, { type: 'text-delta', text: 'there' }, { type: 'finish', finishReason: 'stop', metadata: { conversationId: 456, userId: 'u1', messageId: 'm3', usage: { credits: 1 } } }, '[DONE]']);
    pool()
      .intercept({ path: '/api/v2/agents/42/chat', method: 'POST', body: '{"message":"hello","stream":true,"userId":"u1","conversationId":456}' })
      .reply(200, body, { headers: { 'content-type': 'text/event-stream' } });
    const r = await bookbagClient(opts({ agentId: '42' })).chat({ message: 'hello', userId: 'u1', conversationId: '456' });
    expect(r).toEqual({ text: 'Hi there', conversationId: '456', userId: 'u1', messageId: 'm3', finishReason: 'stop', credits: 1, streamed: true });
  });
  it('detects SSE from a leading data: even when labelled text/plain', async () => {
    pool().intercept({ path: '/api/v2/agents/bot%201/chat', method: 'POST' }).reply(200, sse([{ type: 'text-delta', delta: 'yo' }, '[DONE]']), { headers: { 'content-type': 'text/plain' } });
    expect((await chatbaseClient(opts()).chat({ message: 'x' })).text).toBe('yo');
  });
  it('raw text/plain chunks are the answer', async () => {
    pool().intercept({ path: '/api/v2/agents/bot%201/chat', method: 'POST' }).reply(200, 'Plain answer.', { headers: { 'content-type': 'text/plain; charset=utf-8' } });
    expect(await chatbaseClient(opts()).chat({ message: 'x' })).toMatchObject({ text: 'Plain answer.', conversationId: undefined });
  });
  it('non-stream JSON: parts and metadata', async () => {
    pool()
      .intercept({ path: '/api/v2/agents/bot%201/chat', method: 'POST', body: '{"message":"x","stream":false}' })
      .reply(200, { data: { id: 'm4', role: 'assistant', parts: [{ type: 'text', text: 'A' }, { type: 'text', text: 'B' }], metadata: { conversationId: 'c4', userId: 'u', finishReason: 'stop', usage: { credits: 3 } } } }, { headers: { 'content-type': 'application/json' } });
    expect(await chatbaseClient(opts()).chat({ message: 'x', stream: false })).toEqual({ text: 'AB', conversationId: 'c4', userId: 'u', messageId: 'm4', finishReason: 'stop', credits: 3, streamed: false });
  });
  it('an error frame is ERR_VENDOR_STREAM with the partial text', async () => {
    pool().intercept({ path: '/api/v2/agents/42/chat', method: 'POST' }).reply(200, sse([{ type: 'text-delta', text: 'par' }, { type: 'error', errorText: 'model overloaded' }, '[DONE]']), { headers: { 'content-type': 'text/event-stream' } });
    const e = await bookbagClient(opts({ agentId: '42' })).chat({ message: 'x' }).catch((err) => err);
    expect([e.code, e.details.partialText]).toEqual(['ERR_VENDOR_STREAM', 'par']);
    expect(e.message).toMatch(/model overloaded/);
  });
  it('v2 errors {error:{code,message}}: 404 AGENT_NOT_FOUND, 401 AUTH_INVALID_API_KEY', async () => {
    pool().intercept({ path: '/api/v2/agents/bot%201/chat', method: 'POST' }).reply(404, { error: { code: 'AGENT_NOT_FOUND', message: 'Agent not found' } });
    pool().intercept({ path: '/api/v2/agents/bot%201/chat', method: 'POST' }).reply(401, { error: { code: 'AUTH_INVALID_API_KEY', message: 'Invalid API key' } });
    const c = chatbaseClient(opts());
    const e1 = await c.chat({ message: 'x' }).catch((err) => err);
    expect([e1.code, e1.details.vendorCode, e1.details.vendorMessage]).toEqual(['ERR_VENDOR_REJECTED', 'AGENT_NOT_FOUND', 'Agent not found']);
    const e2 = await c.chat({ message: 'x' }).catch((err) => err);
    expect([e2.code, e2.exitCode, e2.details.vendorCode]).toEqual(['ERR_VENDOR_AUTH', 4, 'AUTH_INVALID_API_KEY']);
  });
});

describe('v2 conversations', () => {
  it('lists per-user conversations with the cursor', async () => {
    pool()
      .intercept({ path: '/api/v2/agents/42/users/u%201/conversations?cursor=abc&limit=5' })
      .reply(200, { data: [{ id: 7, title: 't' }], pagination: { cursor: 'def', hasMore: true, total: 9 } });
    pool().intercept({ path: '/api/v2/agents/42/users/u%201/conversations' }).reply(200, { data: [], pagination: { cursor: null, hasMore: false, total: 0 } });
    const c = bookbagClient(opts({ agentId: '42' }));
    expect(await c.listConversations({ userId: 'u 1', cursor: 'abc', limit: 5 })).toEqual({ conversations: [{ id: 7, title: 't' }], cursor: 'def', hasMore: true, total: 9 });
    expect(await c.listConversations({ userId: 'u 1' })).toEqual({ conversations: [], cursor: null, hasMore: false, total: 0 });
  });
});

describe('Bookbag v1', () => {
  it('upserts and maps Bookbag error bodies', async () => {
    pool().intercept({ path: '/api/v1/chatbots/42/contacts', method: 'POST' }).reply(200, { message: 'Success', data: [{ ...contact, id: 'contact_1' }] });
    pool().intercept({ path: '/api/v1/chatbots/42/contacts', method: 'POST' }).reply(400, { message: 'Maximum 1000 contacts per request' });
    const c = bookbagClient(opts({ agentId: '42' }));
    await expect(c.upsertContacts([{ external_id: 'u1' }])).resolves.toBeUndefined();
    const e = await c.upsertContacts([{ external_id: 'u1' }]).catch((err) => err);
    expect([e.code, e.details.vendorMessage]).toEqual(['ERR_VENDOR_REJECTED', 'Maximum 1000 contacts per request']);
  });
  it('check uses the agent-scoped attributes call when an agent is set', async () => {
    pool().intercept({ path: '/api/v1/chatbots/42/custom-attributes' }).reply(200, { data: [] });
    expect(await bookbagClient(opts({ agentId: '42' })).check()).toMatchObject({ ok: true, endpoint: 'GET /api/v1/chatbots/42/custom-attributes' });
  });
});

describe('chat is not an upsert: retries only what was surely not processed', () => {
  const path = '/api/v2/agents/bot%201/chat';
  it('a 500 is not retried', async () => {
    pool().intercept({ path, method: 'POST' }).reply(500, { error: { code: 'INTERNAL_SERVER_ERROR', message: 'boom' } });
    const c = chatbaseClient(opts());
    const e = await c.chat({ message: 'x' }).catch((err) => err);
    expect([e.code, e.details.status]).toEqual(['ERR_VENDOR_SERVER', 500]);
    expect(e.message).toMatch(/Not retried/);
    expect(c.stats).toMatchObject({ requests: 1, retries: 0 });
  });
  it('429 and 503 are retried', async () => {
    pool().intercept({ path, method: 'POST' }).reply(429, {}, { headers: { 'retry-after': '1' } });
    pool().intercept({ path, method: 'POST' }).reply(503, '');
    pool().intercept({ path, method: 'POST' }).reply(200, 'ok', { headers: { 'content-type': 'text/plain' } });
    const c = chatbaseClient(opts());
    expect((await c.chat({ message: 'x' })).text).toBe('ok');
    expect(c.stats).toMatchObject({ requests: 3, retries: 2 });
    expect(sleeps[0]).toBe(1000);
  });
  it('ECONNREFUSED (never sent) is retried; ECONNRESET (maybe processed) is not', async () => {
    pool().intercept({ path, method: 'POST' }).replyWithError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
    pool().intercept({ path, method: 'POST' }).reply(200, 'ok', { headers: { 'content-type': 'text/plain' } });
    pool().intercept({ path, method: 'POST' }).replyWithError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
    const c = chatbaseClient(opts());
    expect((await c.chat({ message: 'x' })).text).toBe('ok');
    const e = await c.chat({ message: 'y' }).catch((err) => err);
    expect(e).toBeInstanceOf(NetworkError);
    expect(e.message).toMatch(/not retried/);
    expect(c.stats).toMatchObject({ requests: 3, retries: 1 });
  });
  it('a connection that breaks mid-answer is ERR_NETWORK with the partial text; an abort is a cancellation', async () => {
    async function* broken(code: string, name = 'Error') {
      yield Buffer.from('data: {"type":"text-delta","delta":"Hal"}\n\n');
      throw Object.assign(new Error('socket'), { code, name });
    }
    const e = await readChatResponse(broken('UND_ERR_SOCKET'), 'text/event-stream', 'Chatbase', undefined).catch((err) => err);
    expect(e).toBeInstanceOf(NetworkError);
    expect([e.code, e.details.partialText]).toEqual(['ERR_NETWORK', 'Hal']);
    const a = await readChatResponse(broken('ABORT_ERR', 'AbortError'), 'text/event-stream', 'Chatbase', undefined).catch((err) => err);
    expect(a).toBeInstanceOf(CancelledError);
    // Ctrl-C: undici fails the body with the abort reason itself, a plain Error.
    const c = new AbortController();
    c.abort(new Error('received SIGINT'));
    const s = await readChatResponse(broken('', 'Error'), 'text/event-stream', 'Chatbase', undefined, c.signal).catch((err) => err);
    expect(s).toBeInstanceOf(CancelledError);
  });
  it('an SSE stream that ends cleanly before finish or [DONE] is a cut answer (ERR_NETWORK with the partial text), not a success', async () => {
    async function* cut() {
      yield 'data: {"type":"message-start","messageId":"m1"}\n\ndata: {"type":"text-delta","delta":"Your order "}\n\n';
    }
    const e = await readChatResponse(cut(), 'text/event-stream', 'Chatbase', undefined).catch((err) => err);
    expect(e).toBeInstanceOf(NetworkError);
    expect([e.code, e.details.partialText]).toEqual(['ERR_NETWORK', 'Your order ']);
    expect(e.message).toMatch(/ended before/);
    // Either end marker is enough: a finish frame without [DONE], or [DONE] alone.
    async function* finished() {
      yield 'data: {"type":"text-delta","text":"ok"}\n\ndata: {"type":"finish","finishReason":"stop"}\n\n';
    }
    expect((await readChatResponse(finished(), 'text/event-stream', 'Bookbag', undefined)).text).toBe('ok');
    async function* done() {
      yield 'data: ok\n\ndata: [DONE]\n\n';
    }
    expect((await readChatResponse(done(), '', 'Chatbase', undefined)).text).toBe('ok');
  });
  it('SSE frames split across chunks, CRLF line ends and multi-line data are reassembled', async () => {
    async function* chunks() {
      yield 'da';
      yield 'ta: {"type":"text-delta","del';
      yield 'ta":"A"}\r\n\r\ndata: {"type":"text-delta",\ndata: "delta":"B"}\n\n';
      yield 'event: x\n: comment\ndata: [DONE]\n\n';
    }
    const pieces: string[] = [];
    const r = await readChatResponse(chunks(), '', 'Chatbase', (t) => pieces.push(t));
    expect([r.text, pieces]).toEqual(['AB', ['A', 'B']]);
  });
});
