/**
 * The API Chatbase publishes and Bookbag copies (vendors.md §2.3, §2.4, §3.2, §3.3): v1
 * contacts and custom attributes under `/api/v1/chatbots/{id}`, v2 chat as a user and
 * per-user conversations under `/api/v2/agents/{id}`. chatbase.ts and bookbag.ts configure
 * it; every documented variant of a response is accepted.
 */
import { CancelledError, CliError, NetworkError, UsageError, VendorError } from '../cli/errors.js';
import { badResponse, type HttpClient } from './http.js';
import type { ClientStats, Contact, ContactInput, ContactsApi, CustomAttribute } from './types.js';

export interface ContactPage {
  contacts: Contact[];
  page: number;
  perPage: number;
  total: number | undefined;
  totalPages: number | undefined;
}

export interface ChatOptions {
  message: string;
  userId?: string | undefined;
  conversationId?: string | undefined;
  /** Ask for a stream (default true). */
  stream?: boolean;
  /** Called with each piece of text as it arrives (streams), or once (non-stream). */
  onText?: (text: string) => void;
  signal?: AbortSignal | undefined;
}

export interface ChatResult {
  text: string;
  conversationId: string | undefined;
  userId: string | undefined;
  messageId: string | undefined;
  finishReason: string | undefined;
  credits: number | undefined;
  streamed: boolean;
}

export interface ConversationPage {
  conversations: Array<Record<string, unknown>>;
  cursor: string | null;
  hasMore: boolean;
  total: number | undefined;
}

export interface CheckResult {
  ok: true;
  /** What the check asked, e.g. `GET /api/v1/get-chatbots`. */
  endpoint: string;
  /** A short human description of what the vendor said (e.g. "3 chatbots"). */
  detail: string;
}

/** Everything the commands need from Chatbase or Bookbag. */
export interface AgentApiClient extends ContactsApi {
  readonly vendor: 'chatbase' | 'bookbag';
  readonly agentId: string | undefined;
  listContacts(o: { page?: number; perPage?: number; signal?: AbortSignal }): Promise<ContactPage>;
  getContact(externalId: string, o?: { signal?: AbortSignal }): Promise<Contact>;
  updateContact(externalId: string, data: Omit<ContactInput, 'external_id'> & { external_id?: string }, o?: { signal?: AbortSignal }): Promise<Contact>;
  /** Resolves with the deleted record, or undefined when the vendor answered 204. */
  deleteContact(externalId: string, o?: { signal?: AbortSignal }): Promise<Contact | undefined>;
  createAttribute(attr: CustomAttribute, o?: { signal?: AbortSignal }): Promise<CustomAttribute>;
  chat(o: ChatOptions): Promise<ChatResult>;
  listConversations(o: { userId: string; cursor?: string | undefined; limit?: number | undefined; signal?: AbortSignal }): Promise<ConversationPage>;
  check(o?: { signal?: AbortSignal }): Promise<CheckResult>;
}

export interface AgentApiConfig {
  vendor: 'chatbase' | 'bookbag';
  http: HttpClient;
  agentId: string | undefined;
}

/**
 * One URL path segment, percent-encoded; refused when empty or "." / "..": URL resolution
 * removes those (even as %2E%2E), so `contacts delete ..` would send DELETE to the agent itself.
 */
function segment(value: string, code: string, what: string, hint: string): string {
  if (value === '' || value === '.' || value === '..') {
    throw new UsageError(code, `${what} ${value === '' ? 'is empty' : `"${value}" is a dot segment`}: it cannot name a resource in a URL path, and nothing was sent.`, { hint });
  }
  return encodeURIComponent(value);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** An array of records: what every list endpoint returns (a null or a number in it crashed the rendering). */
const isObjList = (v: unknown): v is Obj[] => Array.isArray(v) && v.every(isObj);

/** Build the client on a shared HTTP layer. */
export function createAgentApiClient(cfg: AgentApiConfig): AgentApiClient {
  const { http, vendor } = cfg;
  const label = vendor === 'chatbase' ? 'Chatbase' : 'Bookbag';

  function agent(): string {
    if (cfg.agentId) return segment(cfg.agentId, 'ERR_AGENT_ID_INVALID', 'The agent id', 'Pass the id from the vendor dashboard with --agent-id or CHATID_AGENT_ID, or store it in the profile.');
    throw new UsageError('ERR_AGENT_ID_REQUIRED', 'No agent id is set.', {
      hint: 'Pass --agent-id, set CHATID_AGENT_ID, or store it in the profile.',
    });
  }
  const v1 = (rest: string): string => `/api/v1/chatbots/${agent()}${rest}`;
  const v2 = (rest: string): string => `/api/v2/agents/${agent()}${rest}`;
  const cid = (id: string): string => segment(id, 'ERR_ID_INVALID', 'The id', 'Pass the external id of a contact or user, as `contacts list` shows it.');

  function asContact(v: unknown, what: string): Contact {
    if (isObj(v) && isObj(v.data)) return v.data as unknown as Contact;
    if (isObj(v) && typeof v.external_id === 'string') return v as unknown as Contact;
    throw badResponse(label, what);
  }

  const client: AgentApiClient = {
    vendor,
    get agentId() {
      return cfg.agentId;
    },
    get stats(): ClientStats {
      return http.stats;
    },

    async upsertContacts(contacts: readonly ContactInput[], o = {}) {
      // The answer echoes every stored contact (~250 bytes each, ~250 KB for 1000) and the sync
      // never uses it: decoding and parsing it cost the client more than building the request.
      // So it is not parsed, only checked to be the documented envelope: a JSON object with a
      // `data` member (reference {data:[Contact]}, guide {data:{created:[Contact]}}).
      const { body } = await http.bytes('POST', v1('/contacts'), { body: { users: contacts }, signal: o.signal });
      if (!isDataEnvelope(body)) throw badResponse(label, 'create contacts');
    },

    async listAttributes(o = {}) {
      const { data } = await http.json<unknown>('GET', v1('/custom-attributes'), { signal: o.signal });
      const d = isObj(data) ? data.data : data;
      const list = Array.isArray(d) ? d : isObj(d) && Array.isArray(d.custom_attributes) ? d.custom_attributes : undefined;
      // Every command reads name and type: a list of anything else (numbers, nulls) is not the vendor's.
      if (list?.every((a) => isObj(a) && typeof a.name === 'string' && typeof a.type === 'string')) return list as CustomAttribute[];
      throw badResponse(label, 'list custom attributes');
    },

    async createAttribute(attr, o = {}) {
      const { data } = await http.json<unknown>('POST', v1('/custom-attributes'), { body: attr, signal: o.signal });
      const d = isObj(data) ? data.data : undefined;
      return isObj(d) ? (d as unknown as CustomAttribute) : attr;
    },

    async listContacts(o) {
      const { data } = await http.json<unknown>('GET', v1('/contacts'), { query: { page: o.page, per_page: o.perPage }, signal: o.signal });
      if (!isObj(data) || !isObjList(data.data)) throw badResponse(label, 'list contacts');
      const pages = isObj(data.pages) ? data.pages : {};
      const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
      return {
        contacts: data.data as unknown as Contact[],
        page: num(pages.page) ?? o.page ?? 1,
        perPage: num(pages.per_page) ?? o.perPage ?? (data.data as unknown[]).length,
        total: num(data.total) ?? num(pages.total),
        totalPages: num(pages.total_pages),
      };
    },

    async getContact(externalId, o = {}) {
      const { data } = await http.json<unknown>('GET', v1(`/contacts/${cid(externalId)}`), { signal: o.signal });
      return asContact(data, 'get contact');
    },

    async updateContact(externalId, fields, o = {}) {
      const { data } = await http.json<unknown>('PATCH', v1(`/contacts/${cid(externalId)}`), { body: { data: fields }, signal: o.signal });
      return asContact(data, 'update contact');
    },

    async deleteContact(externalId, o = {}) {
      // Reference: 200 with the record; guide: 204 without a body.
      const { data } = await http.json<unknown>('DELETE', v1(`/contacts/${cid(externalId)}`), { signal: o.signal });
      if (data === null) return undefined;
      return isObj(data) && isObj(data.data) ? (data.data as unknown as Contact) : undefined;
    },

    async chat(o) {
      const stream = o.stream ?? true;
      const body: Obj = { message: o.message, stream };
      if (o.userId !== undefined) body.userId = o.userId;
      if (o.conversationId !== undefined) {
        // Bookbag wants an integer; Chatbase takes the id as given.
        body.conversationId = vendor === 'bookbag' && /^\d+$/.test(o.conversationId) ? Number(o.conversationId) : o.conversationId;
      }
      // A chat message is not an upsert: never repeat one the server may have processed.
      const res = await http.raw('POST', v2('/chat'), { body, signal: o.signal, idempotent: false });
      const ctype = String(res.headers['content-type'] ?? '');
      return readChatResponse(res.body, ctype, label, o.onText, res.signal);
    },

    async listConversations(o) {
      const { data } = await http.json<unknown>('GET', v2(`/users/${cid(o.userId)}/conversations`), {
        query: { cursor: o.cursor, limit: o.limit },
        signal: o.signal,
      });
      if (!isObj(data) || !isObjList(data.data)) throw badResponse(label, 'list conversations');
      const p = isObj(data.pagination) ? data.pagination : {};
      return {
        conversations: data.data as Obj[],
        cursor: typeof p.cursor === 'string' && p.cursor !== '' ? p.cursor : null,
        hasMore: p.hasMore === true,
        total: typeof p.total === 'number' ? p.total : undefined,
      };
    },

    async check(o = {}) {
      if (vendor === 'bookbag' && cfg.agentId) {
        const endpoint = `GET ${v1('/custom-attributes')}`;
        const attrs = await client.listAttributes(o);
        return { ok: true, endpoint, detail: `agent ${cfg.agentId} reachable, ${attrs.length} custom attribute(s)` };
      }
      const { data } = await http.json<unknown>('GET', '/api/v1/get-chatbots', { signal: o.signal });
      const bots = isObj(data) && Array.isArray(data.chatbots) ? data.chatbots : isObj(data) && Array.isArray(data.data) ? data.data : undefined;
      if (!bots) return { ok: true, endpoint: 'GET /api/v1/get-chatbots', detail: 'key accepted' };
      // The list is the chatbots this key may use: an agent id outside it would only come back
      // as a 404/403 from every other command, so "accepted" would be a false all-clear.
      const ids = bots.filter(isObj).map((b) => b.id).filter((id) => typeof id === 'string' || typeof id === 'number').map(String);
      if (cfg.agentId && ids.length === bots.length && !ids.includes(cfg.agentId)) {
        const shown = ids.slice(0, 5).join(', ') + (ids.length > 5 ? ', …' : '');
        throw new VendorError('ERR_AGENT_NOT_FOUND', `The key works, but agent ${cfg.agentId} is not among the ${ids.length} chatbot${ids.length === 1 ? '' : 's'} it can use${ids.length ? ` (${shown})` : ''}.`, {
          details: { agentId: cfg.agentId, chatbots: ids },
          hint: `Check the agent id (--agent-id / CHATID_AGENT_ID or the profile) against the ${label} dashboard, or use an API key of the account that owns agent ${cfg.agentId}.`,
        });
      }
      return { ok: true, endpoint: 'GET /api/v1/get-chatbots', detail: `${bots.length} chatbot(s)${cfg.agentId && ids.includes(cfg.agentId) ? `, agent ${cfg.agentId} among them` : ''}` };
    },
  };
  return client;
}

/**
 * Read a chat answer: JSON (`{data:{parts,metadata}}` or `{text}`), SSE (`data:` frames,
 * Chatbase `delta` or Bookbag `text`, metadata in `message-metadata` or `finish`), or raw
 * `text/plain` chunks. SSE is detected by Content-Type or a leading `data:`.
 */
export async function readChatResponse(
  body: AsyncIterable<Uint8Array | string>,
  contentType: string,
  label: string,
  onText: ((t: string) => void) | undefined,
  signal?: AbortSignal,
): Promise<ChatResult> {
  const result: ChatResult = { text: '', conversationId: undefined, userId: undefined, messageId: undefined, finishReason: undefined, credits: undefined, streamed: true };
  const emitText = (t: string): void => {
    if (t === '') return;
    result.text += t;
    onText?.(t);
  };
  if (/text\/html|application\/xhtml/i.test(contentType)) {
    // A web page with 200 (a wrong base URL on a site that serves its app for every path, a
    // login portal) is no answer of any chat API: it was printed as the model's, exit 0.
    for await (const _ of body) break; // closes the body
    throw new VendorError('ERR_VENDOR_BAD_RESPONSE', `${label} answered the chat with a web page (${contentType.split(';')[0]!.trim()}), not a chat answer.`, {
      hint: 'Check the base URL (--base-url / CHATID_BASE_URL): it should be the API root (unset, for the vendor default, or the sandbox URL), not a website or a login page.',
    });
  }
  if (/application\/json/i.test(contentType)) {
    let text = '';
    try {
      for await (const c of body) text += typeof c === 'string' ? c : Buffer.from(c).toString('utf8');
    } catch (err) {
      throw brokenStream(err, label, '', signal);
    }
    let j: unknown;
    try {
      j = JSON.parse(text);
    } catch {
      throw badResponse(label, 'chat');
    }
    result.streamed = false;
    const d = isObj(j) && isObj(j.data) ? j.data : j;
    if (!isObj(d)) throw badResponse(label, 'chat');
    let t = '';
    if (Array.isArray(d.parts)) for (const p of d.parts) if (isObj(p) && p.type === 'text' && typeof p.text === 'string') t += p.text;
    if (t === '' && typeof d.text === 'string') t = d.text;
    if (typeof d.id === 'string' || typeof d.id === 'number') result.messageId = String(d.id);
    applyMetadata(result, d.metadata ?? d.messageMetadata);
    emitText(t);
    return result;
  }
  const decoder = new TextDecoder();
  let mode: 'sse' | 'text' | undefined = /text\/event-stream/i.test(contentType) ? 'sse' : undefined;
  let pending = '';
  let dataLines: string[] = [];
  let done = false;
  let finished = false;
  let streamError: string | undefined;

  const dispatch = (): void => {
    if (dataLines.length === 0) return;
    const payload = dataLines.join('\n');
    dataLines = [];
    if (payload.trim() === '[DONE]') {
      done = true;
      return;
    }
    let f: unknown;
    try {
      f = JSON.parse(payload);
    } catch {
      emitText(payload); // older streams sent bare text in data: lines
      return;
    }
    if (!isObj(f)) return;
    switch (f.type) {
      case 'text-delta':
        emitText(typeof f.delta === 'string' ? f.delta : typeof f.text === 'string' ? f.text : '');
        break;
      case 'message-start':
      case 'start':
        if (typeof f.messageId === 'string') result.messageId = f.messageId;
        break;
      case 'message-metadata':
        applyMetadata(result, f.messageMetadata ?? f.metadata);
        break;
      case 'finish':
        finished = true;
        applyMetadata(result, f.messageMetadata ?? f.metadata);
        if (typeof f.finishReason === 'string') result.finishReason = f.finishReason;
        break;
      case 'error':
        streamError = typeof f.errorText === 'string' ? f.errorText : typeof f.message === 'string' ? f.message : 'stream error';
        break;
      default:
        if (f.type === undefined && typeof f.text === 'string') emitText(f.text);
        if (typeof f.chatId === 'string' && !result.conversationId) result.conversationId = f.chatId;
    }
  };
  const line = (l: string): void => {
    const s = l.endsWith('\r') ? l.slice(0, -1) : l;
    if (s === '') dispatch();
    else if (s.startsWith('data:')) dataLines.push(s.slice(5).replace(/^ /, ''));
    // event:, id:, retry: and comments carry nothing we need.
  };

  try {
    for await (const chunk of body) {
      const s = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
      if (mode === undefined) {
        pending += s;
        if (pending.length < 5 && !done) continue;
        mode = pending.startsWith('data:') ? 'sse' : 'text';
        const first = pending;
        pending = '';
        if (mode === 'text') emitText(first);
        else feed(first);
        continue;
      }
      if (mode === 'text') emitText(s);
      else feed(s);
    }
  } catch (err) {
    throw brokenStream(err, label, result.text, signal);
  }
  const tail = decoder.decode();
  if (mode === undefined) {
    pending += tail;
    if (pending.startsWith('data:')) {
      mode = 'sse';
      feed(pending);
    } else emitText(pending);
  } else if (mode === 'text') emitText(tail);
  else feed(tail);
  if (mode === 'sse') {
    if (pending !== '') line(pending);
    pending = '';
    dispatch();
  }
  if (streamError !== undefined) {
    throw new VendorError('ERR_VENDOR_STREAM', `${label} reported an error in the chat stream: ${streamError}`, {
      details: { partialText: result.text },
      hint: 'Send the message again; if it keeps failing, check the agent in the vendor dashboard.',
    });
  }
  if (mode === 'sse' && !done && !finished) {
    // The connection closed cleanly (a proxy or server timeout) before the stream's end: the
    // answer may be cut anywhere, which a success would hide.
    throw new NetworkError('ERR_NETWORK', `The ${label} chat stream ended before its end (no finish frame, no [DONE]): the answer may be cut short.`, {
      details: { partialText: result.text },
      hint: 'Not retried, since the message was already processed. Run the command again to ask once more.',
    });
  }
  return result;

  function feed(s: string): void {
    pending += s;
    let i: number;
    while ((i = pending.indexOf('\n')) >= 0) {
      const l = pending.slice(0, i);
      pending = pending.slice(i + 1);
      line(l);
    }
  }
}

/**
 * The connection dropped (or Ctrl-C) while the answer was arriving. An aborted request's body
 * fails with the abort reason itself (Ctrl-C: an Error "received SIGINT"), so `signal` is what
 * tells a cancellation from a broken connection.
 */
function brokenStream(err: unknown, label: string, partialText: string, signal: AbortSignal | undefined): Error {
  if (err instanceof CliError) return err;
  const e = err as { name?: string; code?: string; message?: string } | null;
  if (signal?.aborted || e?.name === 'AbortError' || e?.code === 'UND_ERR_ABORTED') return new CancelledError('Cancelled', { cause: err });
  return new NetworkError('ERR_NETWORK', `The connection to ${label} broke while the answer was arriving (${e?.code ?? e?.message ?? 'error'}).`, {
    cause: err,
    details: { partialText },
    hint: 'Not retried, since the message was already processed. Run the command again to ask once more.',
  });
}

function applyMetadata(r: ChatResult, m: unknown): void {
  if (!isObj(m)) return;
  const id = m.conversationId;
  if (typeof id === 'string' || typeof id === 'number') r.conversationId = String(id);
  if (typeof m.userId === 'string') r.userId = m.userId;
  if (typeof m.messageId === 'string') r.messageId = m.messageId;
  if (typeof m.finishReason === 'string') r.finishReason = m.finishReason;
  if (isObj(m.usage) && typeof m.usage.credits === 'number') r.credits = m.usage.credits;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
/** What follows a `"data"` key in the documented answers: an array, or {created|contacts:[…]}. */
const DATA_MEMBER = /^"data"\s*:\s*(?:\[|\{\s*"(?:created|contacts)"\s*:\s*\[)/;

/**
 * Whether a body looks like the documented upsert answer, judged from its bytes without
 * decoding or parsing them: a JSON object (a UTF-8 BOM allowed) with a `"data"` member holding
 * an array, or an object whose `created` or `contacts` is one. It refuses an HTML page, a bare
 * array, `{"data":null}` and an echo service's `"data":"…"` behind a wrong base URL.
 */
export function isDataEnvelope(body: Buffer): boolean {
  let a = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
  let z = body.length - 1;
  while (a <= z && WS.has(body[a]!)) a++;
  while (z >= a && WS.has(body[z]!)) z--;
  if (!(a < z && body[a] === 0x7b && body[z] === 0x7d)) return false;
  for (let at = body.indexOf('"data"', a, 'latin1'); at >= 0; at = body.indexOf('"data"', at + 6, 'latin1')) {
    if (DATA_MEMBER.test(body.toString('latin1', at, Math.min(at + 64, z)))) return true;
  }
  return false;
}
