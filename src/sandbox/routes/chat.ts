import { type Handler, isObject, json, parseJson, type Route, type Runtime, type SandboxReply, type SandboxRequest } from '../http.js';
import type { AgentState, StoredConversation } from '../state.js';

// Chat: Chatbase v1 `POST /api/v1/chat` (text/plain stream or {text}), Bookbag v1 chat (SSE
// events token/done), and v2 `POST /api/v2/agents/:id/chat` in the current Chatbase form
// or Bookbag's (vendors.md §2.4, §3.2), plus per-user conversations with cursor pages.
// Replies are canned; a message of exactly `/error` makes a stream end with an error frame
// (its user message is stored, no answer: see addExchange).

const USER_ID = /^[a-zA-Z0-9._-]{1,128}$/;
/** A chat message equal to this makes the stream end with an error frame. */
export const ERROR_TRIGGER = '/error';

/** The canned assistant reply, in several chunks so clients see a real stream. */
export function cannedReply(message: string): string[] {
  const text = `Sandbox reply: you said "${message.length > 200 ? `${message.slice(0, 200)}…` : message}". Nothing here is a real model.`;
  const words = text.split(/(?<= )/);
  const chunks: string[] = [];
  const per = Math.max(1, Math.ceil(words.length / 5));
  for (let i = 0; i < words.length; i += per) chunks.push(words.slice(i, i + per).join(''));
  return chunks;
}

const sse = (frame: unknown): string => `data: ${typeof frame === 'string' ? frame : JSON.stringify(frame)}\n\n`;

function v2Error(status: number, code: string, message: string, details?: unknown): SandboxReply {
  return json(status, { error: { code, message, ...(details === undefined ? {} : { details }) } });
}

function newConversation(rt: Runtime, agent: AgentState, userId: string | undefined): StoredConversation {
  const n = ++rt.state.counters.conversation;
  const now = rt.iso();
  const conv: StoredConversation = { id: rt.provider === 'bookbag' ? n : `conv_${n}`, ...(userId ? { userId } : {}), created_at: now, updated_at: now, messages: [] };
  agent.conversations.push(conv);
  return conv;
}

/**
 * Store one turn. `reply` undefined: the answer failed (the `/error` stream), so no assistant
 * message is stored, or `conversations` would show an answer the user never got. The user's
 * message is kept, as a vendor that records it before the model answers would keep it (and
 * so the conversation a failed first message opened is not empty). The assistant's id is
 * still taken: the Chatbase stream announces it in message-start before the failure.
 */
function addExchange(rt: Runtime, conv: StoredConversation, message: string, reply: string | undefined): { userMessageId: string; messageId: string } {
  const now = rt.iso();
  const userMessageId = `msg_${++rt.state.counters.message}`;
  const messageId = `msg_${++rt.state.counters.message}`;
  conv.messages.push({ id: userMessageId, role: 'user', text: message, created_at: now });
  if (reply !== undefined) conv.messages.push({ id: messageId, role: 'assistant', text: reply, created_at: now });
  conv.updated_at = now;
  rt.state.changed();
  return { userMessageId, messageId };
}

const v2Chat: Handler = (req, rt) => {
  const parsed = parseJson(req.raw);
  // Chatbase lists VALIDATION_INVALID_JSON without a status; the sandbox keeps to the codes
  // Bookbag maps (vendors.md §2.4, §3.2), where a 400 is VALIDATION_INVALID_BODY.
  if (!parsed.ok) return v2Error(400, 'VALIDATION_INVALID_BODY', 'Request body must be valid JSON');
  const body = parsed.value;
  if (!isObject(body)) return v2Error(400, 'VALIDATION_INVALID_BODY', 'Request body must be an object');
  const details: Array<{ field: string; message: string }> = [];
  const message = body.message;
  if (typeof message !== 'string' || message.trim() === '') details.push({ field: 'message', message: 'Required, a non-empty string' });
  const userId = body.userId;
  if (userId !== undefined && (typeof userId !== 'string' || !USER_ID.test(userId))) details.push({ field: 'userId', message: 'Must match ^[a-zA-Z0-9._-]{1,128}$' });
  if (body.stream !== undefined && typeof body.stream !== 'boolean') details.push({ field: 'stream', message: 'Expected boolean' });
  const cid = body.conversationId;
  const bookbag = rt.provider === 'bookbag';
  if (cid !== undefined && cid !== null && !(bookbag ? Number.isInteger(cid) || (typeof cid === 'string' && /^\d+$/.test(cid)) : typeof cid === 'string')) {
    details.push({ field: 'conversationId', message: bookbag ? 'Expected integer' : 'Expected string' });
  }
  if (details.length > 0) return v2Error(400, 'VALIDATION_INVALID_BODY', 'Invalid request body', details);
  const agent = rt.state.agent(req.params.agentId ?? '');
  if (!agent) return v2Error(404, 'RESOURCE_NOT_FOUND', 'Agent not found');
  let conv: StoredConversation | undefined;
  if (cid !== undefined && cid !== null) {
    conv = agent.conversations.find((c) => String(c.id) === String(cid));
    if (!conv) return v2Error(404, 'RESOURCE_NOT_FOUND', 'Conversation not found');
  } else conv = newConversation(rt, agent, userId as string | undefined);
  const text = message as string;
  const chunks = cannedReply(text);
  const reply = chunks.join('');
  // Only a stream fails on /error; the non-stream answer is the canned reply, as before.
  const failing = body.stream !== false && text.trim() === ERROR_TRIGGER;
  const ids = addExchange(rt, conv, text, failing ? undefined : reply);
  const meta = { userMessageId: ids.userMessageId, conversationId: conv.id, userId: conv.userId ?? null, finishReason: 'stop', usage: { credits: 1 } };
  if (body.stream === false) {
    return json(200, { data: { id: ids.messageId, role: 'assistant', parts: [{ type: 'text', text: reply }], metadata: meta } });
  }
  const frames: string[] = [];
  if (bookbag) {
    if (failing) frames.push(sse({ type: 'error', errorText: 'Sandbox: the model failed (you sent /error)' }));
    else {
      for (const c of chunks) frames.push(sse({ type: 'text-delta', text: c }));
      frames.push(sse({ type: 'finish', finishReason: 'stop', metadata: { userMessageId: ids.userMessageId, conversationId: conv.id, userId: conv.userId ?? null, messageId: ids.messageId, usage: { credits: 1 } } }));
    }
  } else {
    frames.push(sse({ type: 'message-start', messageId: ids.messageId }));
    if (failing) frames.push(sse({ type: 'error', errorText: 'Sandbox: the model failed (you sent /error)' }));
    else {
      frames.push(sse({ type: 'text-start', id: 'text_0' }));
      for (const c of chunks) frames.push(sse({ type: 'text-delta', id: 'text_0', delta: c }));
      frames.push(sse({ type: 'text-end', id: 'text_0' }));
      frames.push(sse({ type: 'message-metadata', messageMetadata: meta }));
      frames.push(sse({ type: 'finish' }));
    }
  }
  frames.push(sse('[DONE]'));
  return {
    status: 200,
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-vercel-ai-ui-message-stream': 'v1' },
    chunks: frames,
  };
};

function encodeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}
function decodeCursor(c: string): number | undefined {
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as { o?: unknown };
    return Number.isInteger(v.o) && (v.o as number) >= 0 ? (v.o as number) : undefined;
  } catch {
    return undefined;
  }
}

const v2UserConversations: Handler = (req, rt) => {
  const userId = req.params.userId ?? '';
  if (!USER_ID.test(userId)) return v2Error(400, 'VALIDATION_INVALID_BODY', 'Invalid userId', [{ field: 'userId', message: 'Must match ^[a-zA-Z0-9._-]{1,128}$' }]);
  const p = pageParams(req);
  if ('status' in p) return p;
  const agent = rt.state.agent(req.params.agentId ?? '');
  if (!agent) return v2Error(404, 'RESOURCE_NOT_FOUND', 'Agent not found');
  // Newest first, as dashboards list them.
  return paged(agent.conversations.filter((c) => c.userId === userId).reverse(), p, conversationSummary);
};

function conversationSummary(c: StoredConversation) {
  return { id: c.id, userId: c.userId ?? null, title: c.messages[0]?.text.slice(0, 60) ?? null, messageCount: c.messages.length, createdAt: c.created_at, updatedAt: c.updated_at };
}

function pageParams(req: { query: URLSearchParams }): { limit: number; offset: number } | SandboxReply {
  const limitText = req.query.get('limit');
  const limit = limitText === null ? 20 : /^\d+$/.test(limitText) ? Number(limitText) : Number.NaN;
  if (!(limit >= 1 && limit <= 100)) return v2Error(400, 'VALIDATION_INVALID_BODY', 'Invalid query', [{ field: 'limit', message: 'Must be an integer between 1 and 100' }]);
  const cursor = req.query.get('cursor');
  const offset = cursor === null || cursor === '' ? 0 : decodeCursor(cursor);
  if (offset === undefined) return v2Error(400, 'VALIDATION_INVALID_BODY', 'Invalid cursor', [{ field: 'cursor', message: 'Not a cursor this server returned' }]);
  return { limit, offset };
}

function paged<T>(all: T[], p: { limit: number; offset: number }, map: (t: T) => unknown): SandboxReply {
  const hasMore = p.offset + p.limit < all.length;
  return json(200, { data: all.slice(p.offset, p.offset + p.limit).map(map), pagination: { cursor: hasMore ? encodeCursor(p.offset + p.limit) : null, hasMore, total: all.length } });
}

/** `GET /api/v2/agents/:agentId/conversations`: every conversation of the agent, newest first. */
const v2Conversations: Handler = (req, rt) => {
  const p = pageParams(req);
  if ('status' in p) return p;
  const agent = rt.state.agent(req.params.agentId ?? '');
  if (!agent) return v2Error(404, 'RESOURCE_NOT_FOUND', 'Agent not found');
  return paged([...agent.conversations].reverse(), p, conversationSummary);
};

function findConversation(req: SandboxRequest, rt: Runtime): StoredConversation | SandboxReply {
  const agent = rt.state.agent(req.params.agentId ?? '');
  if (!agent) return v2Error(404, 'RESOURCE_NOT_FOUND', 'Agent not found');
  const conv = agent.conversations.find((c) => String(c.id) === req.params.conversationId);
  return conv ?? v2Error(404, 'RESOURCE_NOT_FOUND', 'Conversation not found');
}

const v2Conversation: Handler = (req, rt) => {
  const c = findConversation(req, rt);
  return 'status' in c ? c : json(200, { data: conversationSummary(c) });
};

/** Messages oldest first, in the UI-message shape of the non-stream chat answer. */
const v2Messages: Handler = (req, rt) => {
  const p = pageParams(req);
  if ('status' in p) return p;
  const c = findConversation(req, rt);
  if ('status' in c) return c;
  return paged(c.messages, p, (m) => ({ id: m.id, role: m.role, parts: [{ type: 'text', text: m.text }], createdAt: m.created_at }));
};

const v2Me: Handler = (req) =>
  json(200, {
    workspace: { id: 'ws_sandbox', name: 'chatid sandbox' },
    plan: 'sandbox',
    credential: { source: 'api_key', expiresAt: null, permissions: ['*'], key: `${(req.apiKey ?? '').slice(0, 6)}…` },
  });

/** Chatbase `POST /api/v1/chat`, or Bookbag's when the sandbox imitates Bookbag. */
const v1Chat: Handler = (req, rt) => (rt.provider === 'bookbag' ? bookbagV1Chat(req, rt) : chatbaseV1Chat(req, rt));

const chatbaseV1Chat: Handler = (req, rt) => {
  const parsed = parseJson(req.raw);
  const body = parsed.ok && isObject(parsed.value) ? parsed.value : undefined;
  const messages = body?.messages;
  const valid =
    body &&
    typeof body.chatbotId === 'string' &&
    Array.isArray(messages) &&
    messages.length > 0 &&
    messages.every((m) => isObject(m) && (m.role === 'user' || m.role === 'assistant') && typeof m.content === 'string') &&
    (body.stream === undefined || typeof body.stream === 'boolean') &&
    (body.temperature === undefined || (typeof body.temperature === 'number' && body.temperature >= 0 && body.temperature <= 1)) &&
    (body.conversationId === undefined || typeof body.conversationId === 'string') &&
    (body.contactId === undefined || typeof body.contactId === 'string');
  if (!valid) return json(400, { message: 'Invalid request data' });
  if (!rt.keyAllowsAgent(req.apiKey, body.chatbotId as string)) return json(403, { message: 'Access denied or quota exceeded' });
  if (!rt.state.agent(body.chatbotId as string)) return json(404, { message: 'Chatbot not found' });
  const last = [...(messages as Array<{ role: string; content: string }>)].reverse().find((m) => m.role === 'user');
  const chunks = cannedReply(last?.content ?? '');
  if (body.stream === true) return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, chunks };
  return json(200, { text: chunks.join('') });
};

function bookbagV1Error(status: number, code: 'validation_error' | 'agent_not_found', message: string, details: unknown = null): SandboxReply {
  return json(status, { success: false, error: { code, message, details } });
}

const bookbagV1Chat: Handler = (req, rt) => {
  const parsed = parseJson(req.raw);
  const body = parsed.ok && isObject(parsed.value) ? parsed.value : undefined;
  const details: Array<{ field: string; message: string }> = [];
  if (!body) details.push({ field: 'body', message: 'Expected a JSON object' });
  else {
    if (!Number.isInteger(body.agentId)) details.push({ field: 'agentId', message: 'Expected integer' });
    if (typeof body.message !== 'string' || body.message.length < 1 || body.message.length > 8000) details.push({ field: 'message', message: 'Expected 1 to 8000 characters' });
    if (body.conversationId !== undefined && !Number.isInteger(body.conversationId)) details.push({ field: 'conversationId', message: 'Expected integer' });
    if (body.model !== undefined && (typeof body.model !== 'string' || body.model.length > 120)) details.push({ field: 'model', message: 'At most 120 characters' });
  }
  if (!body || details.length > 0) return bookbagV1Error(400, 'validation_error', 'Invalid request', details);
  const agent = rt.keyAllowsAgent(req.apiKey, String(body.agentId)) ? rt.state.agent(String(body.agentId)) : undefined;
  if (!agent) return bookbagV1Error(404, 'agent_not_found', 'Agent not found');
  let conv: StoredConversation | undefined;
  if (body.conversationId !== undefined) {
    conv = agent.conversations.find((c) => c.id === body.conversationId);
    if (!conv) return bookbagV1Error(404, 'agent_not_found', 'Conversation not found');
  } else conv = newConversation(rt, agent, undefined);
  const message = body.message as string;
  const chunks = cannedReply(message);
  const failing = message.trim() === ERROR_TRIGGER;
  const ids = addExchange(rt, conv, message, failing ? undefined : chunks.join(''));
  const frames =
    failing
      ? [`event: error\ndata: ${JSON.stringify({ message: 'Sandbox: the model failed (you sent /error)' })}\n\n`]
      : [
          ...chunks.map((c) => `event: token\ndata: ${JSON.stringify({ token: c })}\n\n`),
          `event: done\ndata: ${JSON.stringify({ conversationId: conv.id, messageId: ids.messageId })}\n\n`,
        ];
  return { status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' }, chunks: frames };
};

/** Chat and conversation routes (v1 chat, v2 chat, conversations, /api/v2/me). */
export const chatRoutes: Route[] = [
  { method: 'POST', pattern: '/api/v1/chat', family: 'v1-chat', auth: true, handler: v1Chat },
  { method: 'GET', pattern: '/api/v2/me', family: 'v2', auth: true, handler: v2Me },
  { method: 'POST', pattern: '/api/v2/agents/:agentId/chat', family: 'v2', auth: true, handler: v2Chat },
  { method: 'GET', pattern: '/api/v2/agents/:agentId/users/:userId/conversations', family: 'v2', auth: true, handler: v2UserConversations },
  { method: 'GET', pattern: '/api/v2/agents/:agentId/conversations', family: 'v2', auth: true, handler: v2Conversations },
  { method: 'GET', pattern: '/api/v2/agents/:agentId/conversations/:conversationId', family: 'v2', auth: true, handler: v2Conversation },
  { method: 'GET', pattern: '/api/v2/agents/:agentId/conversations/:conversationId/messages', family: 'v2', auth: true, handler: v2Messages },
];
