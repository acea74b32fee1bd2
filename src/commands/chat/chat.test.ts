import { afterEach, describe, expect, it } from 'vitest';
import { createTestCtx, runCli, type TestCtx } from '../../../test/helpers/test-ctx.js';

const BASE = 'http://cb.test';
const ENV = { CHATID_PROVIDER: 'chatbase', CHATID_API_KEY: 'cb_key', CHATID_AGENT_ID: 'bot1', CHATID_BASE_URL: BASE };
const sse = (frames: unknown[]) => frames.map((f) => `data: ${typeof f === 'string' ? f : JSON.stringify(f)}\n\n`).join('');
const SSE = { headers: { 'content-type': 'text/event-stream' } };
let ctx: TestCtx;
afterEach(() => ctx.mockAgent.assertNoPendingInterceptors());

const chatbaseStream = sse([
  { type: 'message-start', messageId: 'm1' },
  { type: 'text-delta', id: 't', delta: 'Your order ' },
  { type: 'text-delta', id: 't', delta: 'ships today.' },
  { type: 'message-metadata', messageMetadata: { conversationId: 'conv_1', userId: 'user_123', usage: { credits: 1 } } },
  { type: 'finish', finishReason: 'stop' },
  '[DONE]',
]);

describe('chat', () => {
  it('streams the answer to stdout, the conversation id to stderr', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v2/agents/bot1/chat', method: 'POST', body: '{"message":"Where is my order?","stream":true,"userId":"user_123"}' }).reply(200, chatbaseStream, SSE);
    const r = await runCli(['chat', 'Where is my order?', '--user-id', 'user_123'], ctx);
    expect([r.exitCode, r.stdout]).toEqual([0, 'Your order ships today.\n']);
    expect(r.stderr).toContain('--conversation-id conv_1');
  });
  it('--json prints one document at the end', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v2/agents/bot1/chat', method: 'POST' }).reply(200, chatbaseStream, SSE);
    const r = await runCli(['chat', 'hi', '--user-id', 'user_123', '--json'], ctx);
    expect(r.json()).toEqual({
      text: 'Your order ships today.',
      conversationId: 'conv_1',
      userId: 'user_123',
      messageId: 'm1',
      finishReason: 'stop',
      credits: 1,
      provider: 'chatbase',
      agentId: 'bot1',
      streamed: true,
    });
  });
  it('Bookbag: --conversation-id goes as an integer; `text` frames; --no-stream JSON', async () => {
    ctx = createTestCtx({ env: { ...ENV, CHATID_PROVIDER: 'bookbag', CHATID_AGENT_ID: '42' } });
    ctx.mockAgent
      .get(BASE)
      .intercept({ path: '/api/v2/agents/42/chat', method: 'POST', body: '{"message":"again","stream":true,"userId":"u1","conversationId":456}' })
      .reply(200, sse([{ type: 'text-delta', text: 'ok' }, { type: 'finish', finishReason: 'stop', metadata: { conversationId: '456' } }, '[DONE]']), SSE);
    ctx.mockAgent
      .get(BASE)
      .intercept({ path: '/api/v2/agents/42/chat', method: 'POST', body: '{"message":"x","stream":false,"userId":"u1"}' })
      .reply(200, { data: { id: 'm9', role: 'assistant', parts: [{ type: 'text', text: 'whole' }], metadata: { conversationId: 457, userId: 'u1' } } }, { headers: { 'content-type': 'application/json' } });
    const r1 = await runCli(['chat', 'again', '--user-id', 'u1', '--conversation-id', '456', '--json'], ctx);
    // Bookbag ids are integers (vendors.md §3.2): a number in --json, even from the stream's "456".
    expect(r1.json()).toMatchObject({ text: 'ok', conversationId: 456, provider: 'bookbag' });
    ctx.stdout.text = '';
    const r2 = await runCli(['chat', 'x', '--user-id', 'u1', '--no-stream', '--json'], ctx);
    expect(r2.json()).toMatchObject({ text: 'whole', conversationId: 457, messageId: 'm9', streamed: false });
  });
  it.each([
    ['bookbag', '42', 'abc'],
    ['bookbag', '42', '4.5'],
    ['bookbag', '42', '99999999999999999999'],
    ['chatbase', 'bot1', ' '],
  ])('%s --conversation-id %j is exit 2 (ERR_CHAT_CONVERSATION_ID) before any request', async (provider, agent, id) => {
    ctx = createTestCtx({ env: { ...ENV, CHATID_PROVIDER: provider, CHATID_AGENT_ID: agent } });
    const r = await runCli(['chat', 'hi', '--conversation-id', id, '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_CHAT_CONVERSATION_ID']);
  });
  it('--user-id that the continued conversation overrides: a warning names whose conversation it is', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v2/agents/bot1/chat', method: 'POST' }).reply(200, chatbaseStream, SSE);
    const r = await runCli(['chat', 'hi', '--user-id', 'someone_else', '--conversation-id', 'conv_1', '--json'], ctx);
    expect([r.exitCode, r.json().userId]).toEqual([0, 'user_123']);
    expect(r.stderr).toContain('warning: --user-id someone_else was not used: conversation conv_1 belongs to user_123');
    // The same user: nothing to say.
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v2/agents/bot1/chat', method: 'POST' }).reply(200, chatbaseStream, SSE);
    const same = await runCli(['chat', 'hi', '--user-id', 'user_123', '--conversation-id', 'conv_1', '--json'], ctx);
    expect([same.exitCode, same.stderr]).toEqual([0, '']);
  });
  it('a web page answered with 200 (a wrong base URL) is ERR_VENDOR_BAD_RESPONSE, exit 1, not printed as the answer', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v2/agents/bot1/chat', method: 'POST' }).reply(200, '<!doctype html><html><body>Sign in</body></html>', { headers: { 'content-type': 'text/html; charset=utf-8' } });
    const r = await runCli(['chat', 'hi', '--user-id', 'u1'], ctx);
    expect([r.exitCode, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toContain('Chatbase answered the chat with a web page (text/html), not a chat answer. (ERR_VENDOR_BAD_RESPONSE)');
    expect(r.stderr).toContain('--base-url / CHATID_BASE_URL');
  });
  it('Chatbase keeps its string conversation ids', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v2/agents/bot1/chat', method: 'POST', body: '{"message":"hi","stream":true,"conversationId":"conv_1"}' }).reply(200, chatbaseStream, SSE);
    const r = await runCli(['chat', 'hi', '--conversation-id', 'conv_1', '--json'], ctx);
    expect([r.exitCode, r.json().conversationId]).toEqual([0, 'conv_1']);
  });
  it('reads the message from stdin', async () => {
    ctx = createTestCtx({ env: ENV, stdin: 'from stdin\n' });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v2/agents/bot1/chat', method: 'POST', body: '{"message":"from stdin","stream":true,"userId":"u1"}' }).reply(200, 'plain', { headers: { 'content-type': 'text/plain' } });
    const r = await runCli(['chat', '--user-id', 'u1'], ctx);
    expect(r.stdout).toBe('plain\n');
  });
  it.each([
    [['hi'], 'ERR_CHAT_USER_REQUIRED'],
    [['hi', '--user-id', 'bad id!'], 'ERR_CHAT_USER_ID'],
    [['  ', '--user-id', 'u1'], 'ERR_CHAT_MESSAGE_REQUIRED'],
  ])('%j is exit 2 (%s) before any request', async (args, code) => {
    ctx = createTestCtx({ env: ENV });
    const r = await runCli(['chat', ...args, '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, code]);
  });
  it('an error frame: exit 1, ERR_VENDOR_STREAM', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v2/agents/bot1/chat', method: 'POST' }).reply(200, sse([{ type: 'error', errorText: 'overloaded' }, '[DONE]']), SSE);
    const r = await runCli(['chat', 'hi', '--user-id', 'u1', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([1, 'ERR_VENDOR_STREAM']);
  });
  it('401 AUTH_INVALID_API_KEY: exit 4', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v2/agents/bot1/chat', method: 'POST' }).reply(401, { error: { code: 'AUTH_INVALID_API_KEY', message: 'Invalid API key' } });
    const r = await runCli(['chat', 'hi', '--user-id', 'u1', '--json'], ctx);
    expect([r.exitCode, r.json().error.code, r.json().error.vendorCode]).toEqual([4, 'ERR_VENDOR_AUTH', 'AUTH_INVALID_API_KEY']);
  });
  it('a 429 with Retry-After is retried after the promised wait', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v2/agents/bot1/chat', method: 'POST' }).reply(429, { error: { code: 'RATE_LIMIT_TOO_MANY_REQUESTS', message: 'slow' } }, { headers: { 'retry-after': '2' } });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v2/agents/bot1/chat', method: 'POST' }).reply(200, chatbaseStream, SSE);
    const r = await runCli(['chat', 'hi', '--user-id', 'u1'], ctx);
    expect(r.exitCode).toBe(0);
    expect(ctx.sleeps).toEqual([2000]);
  });
  it('still rate limited after the retries: the hint names only flags chat takes (no --concurrency)', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v2/agents/bot1/chat', method: 'POST' }).reply(429, { error: { code: 'RATE_LIMIT_TOO_MANY_REQUESTS', message: 'Rate limit exceeded' } }).times(2);
    const r = await runCli(['chat', 'hi', '--user-id', 'u1', '--max-retries', '1', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([1, 'ERR_VENDOR_RATE_LIMIT']);
    expect(r.json().error.hint).toMatch(/--max-retries/);
    expect(r.json().error.hint).not.toMatch(/--concurrency/);
  });
  describe('an answer holding control characters', () => {
    // ESC sequences that would recolour and clear the screen, a C1 CSI, a lone CR that would
    // overwrite the line, a tab, and a CR+LF whose CR ends one delta and LF starts the next.
    const deltas = ['Hi \u001b[31mred\u001b[0m\t', 'x\u009b2J y\rz\r', '\nnext\u0007 line\n', 'end\r'];
    const stream = sse([
      { type: 'message-start', messageId: 'm1' },
      ...deltas.map((delta) => ({ type: 'text-delta', id: 't', delta })),
      { type: 'message-metadata', messageMetadata: { conversationId: 'conv_\u001b[2J1' } },
      { type: 'finish', finishReason: 'stop' },
      '[DONE]',
    ]);
    const run = async (o: { stdoutTTY: boolean }, args: string[] = []) => {
      ctx = createTestCtx({ env: ENV, ...o });
      ctx.mockAgent.get(BASE).intercept({ path: '/api/v2/agents/bot1/chat', method: 'POST' }).reply(200, stream, SSE);
      return runCli(['chat', 'hi', '--user-id', 'u1', ...args], ctx);
    };

    it('at a terminal: written escaped but \\n, \\t and CR+LF, and the conversation id on stderr too', async () => {
      const r = await run({ stdoutTTY: true });
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe('Hi \\u001b[31mred\\u001b[0m\tx\\u009b2J y\\rz\r\nnext\\u0007 line\nend\\r\n');
      expect(r.stderr).toBe('conversation conv_\\u001b[2J1 (continue with --conversation-id conv_\\u001b[2J1)\n');
    });

    it('piped: the model\'s bytes unchanged', async () => {
      const r = await run({ stdoutTTY: false });
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe(`${deltas.join('')}\n`);
    });

    it('--json: every control escaped in the document, the text unchanged in its value', async () => {
      const r = await run({ stdoutTTY: true }, ['--json']);
      // eslint-disable-next-line no-control-regex
      expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
      expect(r.stdout).toContain('x\\u009b2J y\\rz');
      expect(r.json().text).toBe(deltas.join(''));
    });
  });
  it('teamweb has no chat API: exit 2', async () => {
    ctx = createTestCtx({ env: { ...ENV, CHATID_PROVIDER: 'teamweb' } });
    const r = await runCli(['chat', 'hi', '--user-id', 'u1', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_NOT_SUPPORTED']);
  });
});
