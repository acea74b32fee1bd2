import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { UsageError } from '../cli/errors.js';
import { decodeBase64Strict } from '../core/base64.js';
import { parseSecretKey } from '../core/secret-key.js';
import { failure, type Failure } from './errors.js';
import { ByteSink, hasLargeArray, putJson } from './json-body.js';
import type { Family, Route, Runtime, SandboxReply, SandboxRequest } from './http.js';
import {
  FAULT_KINDS,
  type FaultKind,
  type RequestLogEntry,
  SANDBOX_API_KEY,
  SANDBOX_BOOKBAG_AGENT_ID,
  SANDBOX_CHATBASE_AGENT_ID,
  SANDBOX_IDENTITY_SECRET,
  SANDBOX_TEAMWEB_KEY,
  type SandboxOptions,
  type SandboxProvider,
} from './options.js';
import { Persister } from './persist.js';
import { seededRandom } from './prng.js';
import { type RateDecision, SlidingWindowLimiter } from './rate-limit.js';
import { allRoutes } from './routes/all.js';
import { SandboxState } from './state.js';

/** A running sandbox. */
export interface Sandbox {
  /** `http://127.0.0.1:<port>`: the base URL for CHATID_BASE_URL. */
  readonly url: string;
  readonly port: number;
  readonly provider: SandboxProvider;
  /** The accepted Bearer keys; the first is the one to advertise. */
  readonly apiKeys: readonly string[];
  readonly agentIds: readonly string[];
  /** Everything stored: contacts and attributes per agent, conversations. */
  readonly state: SandboxState;
  /** One entry per request, in arrival order (empty with `requestLog: false`). Tests may clear it (`requests.length = 0`). */
  readonly requests: RequestLogEntry[];
  /** Requests received so far, including any not kept in `requests`. */
  readonly requestCount: number;
  /** Change fault injection while running (e.g. turn it off to read the final state). */
  setFaults(o: { faultRate?: number; faults?: FaultKind[]; retryAfterSeconds?: number; retryAfterFormat?: 'seconds' | 'http-date' }): void;
  /** Wait until the state is saved to `dataFile` (no-op without one). */
  flush(): Promise<void>;
  /** Stop listening, drop open connections and save the state. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** Response bodies from this size up are encoded into reused buffers (see send()); at most MAX_SPARES are kept. */
const SPARE_MIN = 64 * 1024;
const MAX_SPARES = 8;

interface CompiledRoute extends Route {
  regex: RegExp;
  names: string[];
}

function compile(r: Route): CompiledRoute {
  const names: string[] = [];
  const src = r.pattern
    .split('/')
    .map((seg) => {
      if (!seg.startsWith(':')) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(seg.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { ...r, regex: new RegExp(`^${src}/?$`), names };
}

/** Which error style an unmatched path gets. */
function familyOf(path: string): Family {
  if (path.startsWith('/api/v2/')) return 'v2';
  if (path.startsWith('/api/v1/chat')) return 'v1-chat';
  if (path.startsWith('/api/v1/')) return 'v1';
  if (path.startsWith('/widget/')) return 'opencx';
  if (path.startsWith('/v1/')) return 'replyful';
  return 'open';
}

function checkOptions(o: SandboxOptions, provider: SandboxProvider, agentIds: string[]): void {
  const bad = (what: string, hint: string): never => {
    throw new UsageError('ERR_SANDBOX_OPTION', what, { hint });
  };
  if (o.faultRate !== undefined && !(o.faultRate >= 0 && o.faultRate <= 1)) bad(`faultRate must be between 0 and 1, got ${o.faultRate}.`, 'Use e.g. 0.2 for 20% of requests.');
  for (const f of o.faults ?? []) if (!FAULT_KINDS.includes(f)) bad(`Unknown fault kind "${f}".`, `Use any of ${FAULT_KINDS.join(', ')}.`);
  if (o.faults !== undefined && o.faults.length === 0) bad('faults is empty.', `Use any of ${FAULT_KINDS.join(', ')}.`);
  if (o.rateLimit && !(Number.isInteger(o.rateLimit.limit) && o.rateLimit.limit > 0 && o.rateLimit.windowMs > 0)) bad('rateLimit needs a positive integer limit and windowMs.', 'E.g. { limit: 100, windowMs: 10000 }.');
  if (o.latencyMs !== undefined && !(o.latencyMs >= 0)) bad('latencyMs must be ≥ 0.', 'E.g. 50.');
  if (o.apiKeys !== undefined && o.apiKeys.length === 0) bad('apiKeys is empty.', 'Give at least one key.');
  if (agentIds.length === 0) bad('No agent id.', 'Give at least one agent id.');
  if (provider === 'bookbag') for (const id of agentIds) if (!/^\d+$/.test(id)) bad(`Bookbag agent ids are numeric, got "${id}".`, `E.g. ${SANDBOX_BOOKBAG_AGENT_ID}.`);
}

/**
 * Start a sandbox on 127.0.0.1. Resolves once it is listening; rejects with the listen
 * error (e.g. `EADDRINUSE`) or a `UsageError` for bad options.
 *
 * @example
 * const sb = await startSandbox({ provider: 'bookbag', rateLimit: { limit: 5, windowMs: 1000 } });
 * const res = await request(`${sb.url}/api/v1/chatbots/${sb.agentIds[0]}/contacts`, {
 *   headers: { authorization: `Bearer ${sb.apiKeys[0]}` } });
 * await sb.close();
 */
export async function startSandbox(o: SandboxOptions = {}): Promise<Sandbox> {
  const provider: SandboxProvider = o.provider ?? 'chatbase';
  const agentIds = o.agentIds ?? (o.agentId !== undefined ? [o.agentId] : [provider === 'bookbag' ? SANDBOX_BOOKBAG_AGENT_ID : SANDBOX_CHATBASE_AGENT_ID]);
  checkOptions(o, provider, agentIds);
  const apiKeys = o.apiKeys ?? [SANDBOX_API_KEY];
  const identityKey = parseSecretKey(o.identitySecret ?? SANDBOX_IDENTITY_SECRET).bytes;
  const teamwebKey = decodeBase64Strict(o.teamwebKey ?? SANDBOX_TEAMWEB_KEY);
  if (teamwebKey?.length !== 32) {
    throw new UsageError('ERR_SANDBOX_OPTION', 'The TeamWeb key must be standard base64 of exactly 32 bytes.', { hint: 'Generate one with `chatid secret rotate --generate` on a TeamWeb profile, or omit it to use the sandbox default.' });
  }
  const scopes = o.keyScopes ?? {};
  const keySet = new Set([...apiKeys, ...Object.keys(scopes)]);
  const keyAllowsAgent = (key: string | undefined, agentId: string): boolean => {
    const agents = key === undefined ? undefined : scopes[key]?.agents;
    return agents === undefined || agents.includes(agentId);
  };
  const now = o.now ?? (() => Math.round(performance.timeOrigin + performance.now()));
  const log = o.log ?? (() => undefined);
  let faultRate = o.faultRate ?? 0;
  let faults: FaultKind[] = o.faults ?? [...FAULT_KINDS];
  let retryAfterSeconds = o.retryAfterSeconds ?? 1;
  let retryAfterFormat = o.retryAfterFormat ?? 'seconds';
  const retryAfter = (seconds: number, at: number): string =>
    retryAfterFormat === 'http-date' ? new Date(Math.ceil((at + seconds * 1000) / 1000) * 1000).toUTCString() : String(seconds);
  const random = seededRandom(o.seed ?? 1);
  // Without an explicit limit each vendor's own window (vendors.md): 100 per 10 s on the
  // Chatbase/Bookbag paths, 100 per 60 s on Replyful's and OpenCX's. An explicit one applies to all.
  const limiter = o.rateLimit === false ? undefined : new SlidingWindowLimiter(o.rateLimit?.limit ?? 100, o.rateLimit?.windowMs ?? 10_000);
  // Two vendors, two counts: OpenCX calls do not spend a key's Replyful allowance.
  const perMinute = o.rateLimit === undefined ? { replyful: new SlidingWindowLimiter(100, 60_000), opencx: new SlidingWindowLimiter(100, 60_000) } : undefined;
  const limiterFor = (family: Family): SlidingWindowLimiter | undefined => (perMinute && (family === 'replyful' || family === 'opencx') ? perMinute[family] : limiter);

  const state = new SandboxState();
  let loaded = false;
  if (o.dataFile) {
    try {
      loaded = await Persister.load(state, o.dataFile);
    } catch (e) {
      throw new UsageError('ERR_SANDBOX_DATA', `Cannot load sandbox data from ${o.dataFile}: ${(e as Error).message}`, {
        cause: e,
        hint: 'Point --data at a file the sandbox wrote, or at a new path to start empty.',
      });
    }
  }
  const createdAt = new Date(now()).toISOString();
  for (const id of agentIds) {
    if (state.agent(id)) continue;
    const agent = state.addAgent(id);
    for (const a of o.attributes ?? []) {
      agent.attributes.set(a.name, { name: a.name, type: a.type, label: a.label ?? a.name, ...(a.description !== undefined ? { description: a.description } : {}), archived: a.archived ?? false, created_at: createdAt });
    }
  }
  if (!loaded && o.dataFile) state.changed();
  const persister = o.dataFile ? new Persister(state, o.dataFile, (e) => log(`error: cannot save ${o.dataFile}: ${(e as Error).message} (the sandbox goes on serving from memory and saves again at the next change; make the file's directory writable again to keep the state)`)) : undefined;

  const spares: Buffer[] = [];
  let isoAt = Number.NaN;
  let isoText = '';
  const rt: Runtime = {
    state,
    provider,
    now,
    iso: () => {
      // A contacts write stamps up to 1000 records within the same millisecond: format it once.
      const t = now();
      if (t !== isoAt) {
        isoAt = t;
        isoText = new Date(t).toISOString();
      }
      return isoText;
    },
    log,
    uuid: () => randomUUID(),
    identityKey,
    teamwebKey,
    keyAllowsAgent,
    contactQuota: o.contactQuota ?? Number.POSITIVE_INFINITY,
    signingSecret: randomUUID() + randomUUID(),
  };
  const routes = allRoutes.map(compile);
  const requests: RequestLogEntry[] = [];
  let requestCounter = 0;
  let requestCount = 0;
  const keepLog = o.requestLog !== false;
  const sockets = new Set<Socket>();
  // Aborted by close(): a request still in its --latency wait ends there (its socket is gone)
  // instead of holding the process open, which made Ctrl-C exit 130 with requests in flight.
  const stopping = new AbortController();
  // One listener per waiting request: no limit (the default 10 warned of a leak that is none).
  setMaxListeners(0, stopping.signal);

  /** The vendor's rate-limit headers; without a limit (an injected 429 with the limiter off) no `*-Limit` one, since there is none to name. */
  function rateHeaders(family: Family, d: Pick<RateDecision, 'remaining' | 'resetAt'> & { limit: number | undefined }, at: number): Record<string, string> {
    const replyful = family === 'replyful';
    const h: Record<string, string> = {};
    if (d.limit !== undefined) h[replyful ? 'RateLimit-Limit' : 'X-RateLimit-Limit'] = String(d.limit);
    h[replyful ? 'RateLimit-Remaining' : 'X-RateLimit-Remaining'] = String(d.remaining);
    h[replyful ? 'RateLimit-Reset' : 'X-RateLimit-Reset'] = replyful ? String(Math.max(0, Math.ceil((d.resetAt - at) / 1000))) : String(d.resetAt);
    return h;
  }

  function reset(res: ServerResponse): void {
    const s = res.socket as (Socket & { resetAndDestroy?: () => void }) | null;
    if (s?.resetAndDestroy) s.resetAndDestroy();
    else s?.destroy();
  }

  async function send(res: ServerResponse, reply: SandboxReply, requestId: string, family: Family): Promise<void> {
    const headers: Record<string, string> = { ...(family === 'replyful' ? { 'Request-Id': requestId } : { 'x-request-id': requestId }), ...(reply.headers ?? {}) };
    if (reply.chunks) {
      res.writeHead(reply.status, headers);
      for (const chunk of reply.chunks) {
        if (res.destroyed) return;
        res.write(chunk);
        await delay(1);
      }
      res.end();
      return;
    }
    if (reply.text === undefined) headers['content-type'] ??= 'application/json; charset=utf-8';
    // A contacts write answers with ~250 KB: it is encoded into a buffer kept for the next one
    // (memory fresh from the system is paid for again on every first touch, which cost more
    // than the encoding), and its JSON is written there piece by piece (json-body.ts).
    let text: string | undefined;
    if (reply.text !== undefined) text = reply.text;
    else if (!hasLargeArray(reply.json)) text = JSON.stringify(reply.json ?? {});
    if (text !== undefined && text.length < SPARE_MIN) {
      headers['content-length'] = String(Buffer.byteLength(text, 'utf8'));
      res.writeHead(reply.status, headers);
      res.end(text);
      return;
    }
    const out = new ByteSink(spares.pop() ?? Buffer.allocUnsafeSlow(SPARE_MIN * 4));
    if (text !== undefined) out.put(text);
    else putJson(reply.json, out);
    headers['content-length'] = String(out.length);
    res.writeHead(reply.status, headers);
    const buf = out.buf;
    // 'finish': the bytes were handed to the OS, so the buffer is free again.
    res.end(buf.subarray(0, out.length), () => {
      if (spares.length < MAX_SPARES) spares.push(buf);
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = now();
    const requestId = `req_${(++requestCounter).toString().padStart(6, '0')}`;
    // A target is a path: resolved against a base, "//x" would be read as a host ("//" even throws).
    const target = req.url ?? '/';
    const url = new URL(target.startsWith('/') ? `http://127.0.0.1${target}` : target, 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const entry: RequestLogEntry = { method, path: url.pathname, status: 0, at };
    requestCount++;
    if (keepLog) requests.push(entry);
    const started = performance.now();
    const finish = (status: number): void => {
      entry.status = status;
      log(`${method} ${url.pathname}${url.search} → ${status === 0 ? 'connection reset' : status}${entry.fault ? ` [fault ${entry.fault}]` : ''} ${Math.round(performance.now() - started)}ms`);
    };

    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(c as Buffer);
    }
    const route = routes.find((r) => r.method === method && r.regex.test(url.pathname));
    const family = route?.family ?? familyOf(url.pathname);
    const fail = async (f: Failure, extra: Record<string, string> = {}): Promise<void> => {
      const { status, body } = f === 'server' && route?.serverError && provider === 'chatbase' ? { status: 500, body: { message: route.serverError } } : failure(family, f, requestId);
      await send(res, { status, json: body, headers: extra }, requestId, family);
      finish(status);
    };
    if (o.latencyMs && !route?.exempt) {
      try {
        await delay(o.latencyMs, undefined, { signal: stopping.signal });
      } catch {
        return; // closing
      }
    }
    if (!route) return fail('not-found');
    if (tooLarge) return fail('too-large');

    let fault: FaultKind | undefined;
    if (!route.exempt && faultRate > 0 && random() < faultRate) {
      fault = faults[Math.floor(random() * faults.length)] ?? faults[0];
      entry.fault = fault;
    }
    if (fault === 'reset-before') {
      reset(res);
      return finish(0);
    }
    if (fault === '429') {
      // Remaining and reset consistent with Retry-After, for clients that wait for the reset
      // header instead; the limit only when one is set (`--rate-limit off` has none to name).
      const d = { limit: limiterFor(family)?.limit, remaining: 0, resetAt: at + retryAfterSeconds * 1000 };
      return fail('rate-limit', { ...rateHeaders(family, d, at), 'Retry-After': retryAfter(retryAfterSeconds, at) });
    }
    if (fault === '500') return fail('server');
    if (fault === '503') return fail('unavailable', { 'Retry-After': retryAfter(retryAfterSeconds, at) });

    let apiKey: string | undefined;
    if (route.auth) {
      const h = req.headers.authorization;
      const m = h === undefined ? undefined : /^Bearer (.+)$/.exec(h);
      if (!m) return fail('missing-key');
      if (!keySet.has(m[1] as string)) return fail('invalid-key');
      apiKey = m[1];
    }
    let rateHdrs: Record<string, string> = {};
    const windowed = limiterFor(family);
    if (windowed && !route.exempt) {
      const d = windowed.take(apiKey ?? `ip:${req.socket.remoteAddress ?? ''}`, at);
      rateHdrs = rateHeaders(family, d, at);
      if (!d.allowed) return fail('rate-limit', { ...rateHdrs, 'Retry-After': retryAfter(d.retryAfterSeconds, at) });
    }
    const params: Record<string, string> = {};
    const m = route.regex.exec(url.pathname);
    route.names.forEach((n, i) => {
      const raw = m?.[i + 1] ?? '';
      try {
        params[n] = decodeURIComponent(raw);
      } catch {
        params[n] = raw; // a malformed %-escape names nothing that exists: the handler 404s
      }
    });
    const scope = apiKey === undefined ? undefined : scopes[apiKey];
    const agentParam = params.chatbotId ?? params.agentId;
    if (agentParam !== undefined && !keyAllowsAgent(apiKey, agentParam)) {
      if (family === 'v2') return fail('forbidden', rateHdrs);
      // v1: another agent's data does not exist for this key (Bookbag answers 404).
      const body = provider === 'bookbag' ? { message: 'Resource not found' } : { message: 'Chatbot not found' };
      await send(res, { status: 404, json: body, headers: rateHdrs }, requestId, family);
      return finish(404);
    }
    if (scope?.readOnly && method !== 'GET') return fail('forbidden', rateHdrs);
    const sreq: SandboxRequest = { method, path: url.pathname, query: url.searchParams, params, headers: req.headers, raw: Buffer.concat(chunks), apiKey, requestId };
    let reply: SandboxReply;
    try {
      reply = await route.handler(sreq, rt);
    } catch (e) {
      log(`error: ${method} ${url.pathname}: ${(e as Error).stack ?? String(e)}`);
      return fail('server');
    }
    if (reply.items !== undefined) entry.items = reply.items;
    persister?.poke();
    if (fault === 'reset-after') {
      // The change is stored; the client never hears about it.
      reset(res);
      return finish(0);
    }
    await send(res, { ...reply, headers: { ...rateHdrs, ...(reply.headers ?? {}) } }, requestId, family);
    finish(reply.status);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      log(`error: ${(e as Error).message}`);
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'Internal server error' }));
      } else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen(o.port ?? 0, '127.0.0.1', () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (o.port ?? 0);
  let closing: Promise<void> | undefined;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    provider,
    apiKeys,
    agentIds,
    state,
    requests,
    get requestCount() {
      return requestCount;
    },
    setFaults(n) {
      if (n.faultRate !== undefined) {
        if (!(n.faultRate >= 0 && n.faultRate <= 1)) throw new UsageError('ERR_SANDBOX_OPTION', `faultRate must be between 0 and 1, got ${n.faultRate}.`, { hint: 'Give the share of requests to fail, e.g. 0.2 for one in five.' });
        faultRate = n.faultRate;
      }
      if (n.faults !== undefined) faults = [...n.faults];
      if (n.retryAfterSeconds !== undefined) retryAfterSeconds = n.retryAfterSeconds;
      if (n.retryAfterFormat !== undefined) retryAfterFormat = n.retryAfterFormat;
    },
    flush: async () => {
      await persister?.flush();
    },
    close() {
      closing ??= (async () => {
        stopping.abort();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await closed;
        await persister?.flush();
      })();
      return closing;
    },
  };
}
