/**
 * The request layer every vendor client shares: Bearer auth, JSON bodies, a client-side
 * rate limiter that spreads requests evenly under the vendor's window, retries with backoff and jitter (429, 5xx, connection
 * failures; POST included, since contact writes are upserts), `Retry-After` in seconds and
 * HTTP-date form, `X-RateLimit-Reset`, and vendor error bodies turned into typed errors
 * (../shared/spec/cli.md §8, vendors.md §2–§6).
 *
 * Every wait goes through the injected `sleep` (tests make it instant and record it), time
 * comes from the injected `now`, jitter from the injected `random`: no globals.
 */
import type { Dispatcher, request as undiciRequest } from 'undici';
import { AuthError, CancelledError, NetworkError, VendorError } from '../cli/errors.js';
import type { ClientStats, VendorErrorDetails, VendorIssue } from './types.js';

/** Retry policy. Defaults: 5 retries, 500 ms base doubling up to 30 s, waits of at most 60 s. */
export interface RetryOptions {
  /** Retries after the first attempt (0 = never retry). */
  maxRetries: number;
  /** First backoff step in ms; doubles per attempt, with jitter. */
  baseDelayMs: number;
  /** Ceiling of one backoff step in ms. */
  maxDelayMs: number;
  /**
   * The longest single wait the server may ask for (Retry-After / X-RateLimit-Reset).
   * A longer demand stops at once with ERR_VENDOR_RATE_LIMIT rather than sleeping for it
   * (or retrying before the promised time).
   */
  maxWaitMs: number;
}

export const DEFAULT_RETRY: Readonly<RetryOptions> = { maxRetries: 5, baseDelayMs: 500, maxDelayMs: 30_000, maxWaitMs: 60_000 };

/** At most `limit` requests started in any `windowMs` (see RateLimiter for how they are spread). */
export interface RateLimitOptions {
  limit: number;
  windowMs: number;
}

export interface HttpClientOptions {
  vendor: string;
  dispatcher: Dispatcher;
  baseUrl: string;
  apiKey?: string | undefined;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  /** Wall-clock milliseconds (Retry-After as an HTTP-date, X-RateLimit-Reset as a Unix time). */
  now: () => number;
  /** Milliseconds that never go back, for the rate limiter's spacing (default: `now`). */
  monotonic?: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random: (size: number) => Uint8Array;
  /** Aborts every request (ctx.signal). */
  signal?: AbortSignal | undefined;
  retry?: Partial<RetryOptions> | undefined;
  /** Client-side limiter; undefined = none. */
  rateLimit?: RateLimitOptions | undefined;
  /** Called after each answer (for --verbose): never given headers or bodies, which may hold keys. */
  onResponse?: ((e: { method: string; path: string; status: number; attempt: number }) => void) | undefined;
  /** Called before each wait (for --verbose). */
  onWait?: ((e: { ms: number; reason: string; attempt: number }) => void) | undefined;
  /** Which retry flags the command offers, so error hints name only those (default 'network'). */
  retryFlags?: RetryFlags | undefined;
  /**
   * How long one attempt waits for the response headers, and then for each piece of the body
   * (default 60 s; chat via `raw`, whose answer may be generated first, twice that). undici's own
   * 300 s, retried 5 times, kept a command against a server that accepted the connection and
   * never answered hanging for half an hour.
   */
  timeoutMs?: number | undefined;
  /** The largest 2xx body `json` and `bytes` read (default MAX_BODY_BYTES). */
  maxBodyBytes?: number | undefined;
}

/**
 * The retry flags a command takes: 'network' --max-retries/--max-wait/--rate-limit (every
 * vendor command but these), 'sync' those and --concurrency (contacts sync), 'none' neither
 * (whoami --check, token sign for OpenCX).
 */
export type RetryFlags = 'network' | 'sync' | 'none';

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined> | undefined;
  body?: unknown;
  signal?: AbortSignal | undefined;
  /** Whether auth is sent (default true). */
  auth?: boolean;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /**
   * Whether repeating the request is harmless (default true: reads, and contact writes,
   * which are upserts). When false (chat), only answers that prove nothing was processed
   * are retried: 429, 503, and connection failures before the request was sent.
   */
  idempotent?: boolean;
}

/** A successful response whose body is still unread (streams). */
export interface RawResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  /** What aborts this request (the client's and the request's signals): its body then fails with the abort reason. */
  signal?: AbortSignal | undefined;
}

export interface HttpClient {
  readonly stats: ClientStats;
  readonly vendor: string;
  /** Send a request; resolve with the parsed JSON body (or null for an empty one) of a 2xx. */
  json<T>(method: Dispatcher.HttpMethod, path: string, o?: RequestOptions): Promise<{ status: number; data: T; headers: RawResponse['headers'] }>;
  /**
   * Send a request; resolve with the raw bytes of a 2xx body, read inside the retry loop like
   * `json` but never decoded or parsed (acknowledgements whose content is not needed).
   */
  bytes(method: Dispatcher.HttpMethod, path: string, o?: RequestOptions): Promise<{ status: number; body: Buffer; headers: RawResponse['headers'] }>;
  /** Send a request; resolve with a 2xx response whose body the caller reads (chat streams). */
  raw(method: Dispatcher.HttpMethod, path: string, o?: RequestOptions): Promise<RawResponse>;
}

const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Failures that prove the request never reached the server: safe to retry even a non-idempotent call. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function errorCode(err: unknown, codes: ReadonlySet<string>): string | undefined {
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && codes.has(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

const CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
]);

/**
 * A TLS failure in words a user can act on, or undefined when it is not one. OpenSSL's own
 * message for an https:// URL on a plain-HTTP port ("80FC…:error:0A00010B:SSL
 * routines:ssl3_get_record:wrong version number:../deps/openssl/…") named neither the cause
 * nor the fix.
 */
export function tlsProblem(err: unknown): { what: string; hint: string } | undefined {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const msg = typeof e?.message === 'string' ? e.message.trim() : '';
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_HTTP_REQUEST' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    return {
      what: `the server did not answer in TLS (${code}): the port probably speaks plain HTTP`,
      hint: 'Use http:// for a plain-HTTP server such as the chatid sandbox (http://127.0.0.1:4010), or check the port; vendor APIs use https:// on port 443.',
    };
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return { what: `its TLS certificate is for another host (${code}: ${msg})`, hint: 'Check the host name in the base URL (--base-url / CHATID_BASE_URL): it must be the one the certificate names.' };
  }
  if (CERT_CODES.has(code)) {
    return {
      what: `its TLS certificate is not trusted (${code}: ${msg})`,
      hint: 'If a company proxy or a test server signs with its own CA, point NODE_EXTRA_CA_CERTS at that CA\'s PEM file; otherwise check the base URL (--base-url / CHATID_BASE_URL).',
    };
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) {
    return { what: `the TLS handshake failed (${code})`, hint: 'Check the base URL\'s scheme and port (--base-url / CHATID_BASE_URL), and any proxy between you and the vendor.' };
  }
  return undefined;
}

/** Whether an error thrown by undici is a connection failure worth retrying. */
export function isRetryableNetworkError(err: unknown): boolean {
  return errorCode(err, RETRYABLE_CODES) !== undefined;
}

/**
 * Parse `Retry-After` (delta seconds or an HTTP-date) into ms from `nowMs`; undefined if absent or unreadable.
 * @example parseRetryAfter('120', 0) // 120000
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/**
 * Parse a rate-limit reset header into ms from `nowMs`. Chatbase/Bookbag send Unix ms,
 * Replyful delta seconds; Unix seconds are accepted too. Told apart by magnitude.
 * @example parseReset('1767225605000', 1767225600000) // 5000
 */
export function parseReset(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined || !/^\d+(\.\d+)?$/.test(value.trim())) return undefined;
  const n = Number(value.trim());
  if (n >= 1e12) return Math.max(0, Math.ceil(n - nowMs)); // Unix ms
  if (n >= 1e9) return Math.max(0, Math.ceil(n * 1000 - nowMs)); // Unix s
  return Math.ceil(n * 1000); // delta s
}

function header(h: RawResponse['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The client-side limiter. Requests start one at a time, in the order they asked, each at the
 * earliest moment that keeps
 *
 * - at most `limit` starts in any `windowMs + margin` (a sliding window over the times
 *   requests really started, not the times they were given: a timer that fires late, or a
 *   busy event loop, cannot squeeze the next ones closer), and
 * - starts spread evenly, `(windowMs + margin) / limit` apart (a GCRA: the pace is kept from
 *   the first start, so after a burst of up to half the limit at once, allowed while the
 *   window holds fewer starts than that, the next ones wait until the pace catches up; a
 *   short job is not slowed, a long one is even), and
 * - nothing before a time the server named (`pauseUntil`).
 *
 * Why spread them: a server counts arrivals, which trail starts by a varying delay (a new
 * connection, its own event loop). Sending the whole allowance at each window edge, as a
 * plain sliding window does, puts `limit` requests right on the edge, and any of them that
 * arrives a millisecond late makes a later one the server's `limit + 1`-th: with a client
 * limit of 4/2 s against a server's 5/2 s, 4 workers got 7 429s in 30 requests. Spread out,
 * a client limit below the server's leaves a whole interval of slack per request, and the
 * margin covers that delay when the two limits are equal.
 */
export class RateLimiter {
  readonly limit: number;
  /** The window the client keeps to: the server's plus a margin for the start-to-arrival delay. */
  readonly windowMs: number;
  /** Spacing of starts once the burst is spent. */
  readonly intervalMs: number;
  /** Starts allowed back to back after a quiet spell: half the limit. */
  readonly burst: number;
  /** No request starts before this time (ms). */
  pausedUntil = 0;
  /** Start times of the last `limit` requests, oldest first. */
  private readonly starts: number[] = [];
  /** GCRA's theoretical arrival time: the pace says the next start is due then. */
  private due = Number.NEGATIVE_INFINITY;
  private tail: Promise<void> = Promise.resolve();

  constructor(o: RateLimitOptions) {
    this.limit = o.limit;
    this.windowMs = o.windowMs + rateLimitMargin(o.windowMs);
    this.intervalMs = this.windowMs / o.limit;
    this.burst = Math.max(1, Math.floor(o.limit / 2));
  }

  /** The earliest start allowed at or after `t`, given the starts so far (pure). */
  earliest(t: number): number {
    const n = this.starts.length;
    // The burst only while the window holds fewer than `burst` starts: once busy, the pace
    // alone, so a window's allowance never bunches up at its edge again.
    const busy = n >= this.burst && this.starts[n - this.burst]! > t - this.windowMs;
    let at = Math.max(t, this.pausedUntil, busy ? this.due : this.due - (this.burst - 1) * this.intervalMs);
    if (n >= this.limit) at = Math.max(at, this.starts[n - this.limit]! + this.windowMs);
    return at;
  }

  /** Note a request that started at `t`. */
  record(t: number): void {
    this.starts.push(t);
    if (this.starts.length > this.limit) this.starts.shift();
    this.due = Math.max(this.due, t) + this.intervalMs;
  }

  /**
   * Wait for this request's turn and start time, then record it. `sleep` does the waiting
   * (and may throw to cancel); `now` is read again after it, and a clock that has not moved
   * as far as the wait (tests, a timer a millisecond early) counts as having reached it.
   */
  async acquire(now: () => number, sleep: (ms: number) => Promise<void>): Promise<void> {
    const before = this.tail;
    let done!: () => void;
    this.tail = new Promise<void>((r) => (done = r));
    try {
      await before;
      let t = now();
      for (let at = this.earliest(t); at > t; at = this.earliest(t)) {
        await sleep(at - t);
        t = Math.max(now(), at); // pauseUntil may have moved meanwhile: look again
      }
      this.record(t);
    } finally {
      done();
    }
  }

  /** Push every future start to at least `atMs` (the server said the window is spent). */
  pauseUntil(atMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, atMs);
  }
}

/** What the client adds to a window for the delay between a start here and the arrival the server counts: 1 %, within 50 ms..1 s. */
export function rateLimitMargin(windowMs: number): number {
  return Math.min(1000, Math.max(50, Math.round(windowMs / 100)));
}

/** Map a vendor error body to message, code and issues, whatever the vendor's shape. */
export function parseVendorErrorBody(text: string): { message: string | undefined; code: string | undefined; issues: VendorIssue[] } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    const t = plainText(text);
    return { message: t ? t : undefined, code: undefined, issues: [] };
  }
  const out: { message: string | undefined; code: string | undefined; issues: VendorIssue[] } = { message: undefined, code: undefined, issues: [] };
  if (!body || typeof body !== 'object') return out;
  const b = body as Record<string, unknown>;
  const err = b.error;
  if (err && typeof err === 'object') {
    // {error:{code,message,details?}} (Chatbase/Bookbag v2, Bookbag v1 chat), {error:{type,code,message,param}} (Replyful)
    const e = err as Record<string, unknown>;
    if (typeof e.message === 'string') out.message = e.message;
    if (typeof e.code === 'string') out.code = e.code;
    else if (typeof e.type === 'string') out.code = e.type;
    if (typeof e.param === 'string') out.issues.push({ field: e.param, message: out.message ?? '' });
    out.issues.push(...asIssues(e.details));
  }
  if (typeof b.message === 'string') out.message ??= b.message;
  // NestJS (OpenCX) puts validation messages in an array.
  if (Array.isArray(b.message)) {
    const msgs = b.message.filter((m): m is string => typeof m === 'string');
    out.message ??= msgs.join('; ');
    out.issues.push(...msgs.map((m) => ({ message: m })));
  }
  if (typeof err === 'string') out.message ??= err;
  out.issues.push(...asIssues(b.issues));
  return out;
}

/**
 * A non-JSON error body as one short line. A proxy's or load balancer's HTML error page
 * (a 502 from nginx, a captive portal) was quoted whole, tags and newlines included, up to
 * 500 characters: its <title> or first heading says it, otherwise its text without tags.
 */
function plainText(text: string): string {
  let t = text;
  if (/^\s*<(!doctype|html|head|body|title|h\d|center|p)\b/i.test(t)) {
    const named = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(t) ?? /<h\d[^>]*>([\s\S]*?)<\/h\d>/i.exec(t);
    t = (named?.[1] ?? t.replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, ' ')).replace(/<[^>]*>/g, ' ');
    t = t.replace(/&nbsp;/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  }
  t = t.replace(/\s+/g, ' ').trim();
  return t.length > 300 ? `${t.slice(0, 300)}…` : t;
}

function asIssues(v: unknown): VendorIssue[] {
  if (!Array.isArray(v)) return [];
  const out: VendorIssue[] = [];
  for (const i of v) {
    if (typeof i === 'string') out.push({ message: i });
    else if (i && typeof i === 'object') {
      const o = i as Record<string, unknown>;
      const field = typeof o.field === 'string' ? o.field : Array.isArray(o.path) ? o.path.join('.') : typeof o.path === 'string' ? o.path : undefined;
      const message = typeof o.message === 'string' ? o.message : JSON.stringify(o);
      out.push(field !== undefined ? { field, message } : { message });
    }
  }
  return out;
}

/** Details carried by every VendorError/AuthError a client throws. */
export type HttpErrorDetails = VendorErrorDetails & { vendor: string };

/** Turn a non-2xx status and body into the typed error the contract names (src/vendors/types.ts). */
export function httpError(vendor: string, status: number, bodyText: string, method: string, path: string, notRetried = false, flags: RetryFlags = 'network'): AuthError | VendorError {
  const { message, code, issues } = parseVendorErrorBody(bodyText);
  const vendorMessage = message ?? `HTTP ${status}`;
  const details: HttpErrorDetails = { status, vendorMessage, issues, vendor };
  if (code !== undefined) details.vendorCode = code;
  const said = `${vendor} answered ${status} to ${method} ${path}: ${vendorMessage}${code ? ` (${code})` : ''}`;
  // Each thing said once: issues made of the message itself (NestJS's list of messages, a
  // Replyful `param` with the message) add only their field, if they have one.
  const said1 = (i: VendorIssue): boolean => vendorMessage.includes(i.message);
  const listed = issues.filter((i) => i.field !== undefined || !said1(i));
  const first = listed.slice(0, 3).map((i) => (i.field === undefined ? i.message : said1(i) ? `field: ${i.field}` : `${i.field}: ${i.message}`));
  const issueText = first.length ? ` [${first.join('; ')}${listed.length > 3 ? `; +${listed.length - 3} more` : ''}]` : '';
  if (status === 401 || status === 403) {
    return new AuthError('ERR_VENDOR_AUTH', said, {
      details,
      hint:
        status === 401
          ? `The API key was rejected. Check CHATID_API_KEY or the profile's key (\`chatid whoami\` shows which one is used and where it comes from); create a new key in the ${vendor} dashboard if it was revoked.`
          : vendor === 'OpenCX'
            ? 'The key is valid but lacks the scope this needs: use an OpenCX org API key with full access or resource:write (Settings → Access).'
            : `The key is valid but not allowed here (scope, plan or agent). Use a key with access to this agent, or check the agent id.`,
    });
  }
  if (status === 429) {
    return new VendorError('ERR_VENDOR_RATE_LIMIT', `${said}; still rate limited after the retries.`, {
      details,
      hint:
        flags === 'none'
          ? 'Wait a minute and run again.'
          : `Wait a minute and run again${flags === 'sync' ? ', lower --concurrency' : ''}, or raise --max-retries / --max-wait.`,
    });
  }
  if (status >= 500) {
    if (notRetried) {
      return new VendorError('ERR_VENDOR_SERVER', `${said}. Not retried: the request may have been processed, and repeating it could send it twice.`, {
        details,
        hint: `This is on ${vendor}'s side. Check whether it went through, then send it again if not.`,
      });
    }
    return new VendorError('ERR_VENDOR_SERVER', `${said}; the server kept failing after the retries.`, {
      details,
      hint: `This is on ${vendor}'s side. Try again later${flags === 'none' ? '' : ', or raise --max-retries'}.`,
    });
  }
  const hint =
    status === 404
      ? // Bookbag answers a key limited to other agents with this same 404 on v1 (vendors.md §3).
        `Check the agent id (--agent-id / CHATID_AGENT_ID), the base URL and the id you passed.${vendor === 'Bookbag' && path.startsWith('/api/v1/') ? ' A Bookbag key limited to other agents gets this 404 too: check the key\'s agent scope in the dashboard.' : ''}`
      : status === 409
        ? conflictHint(path)
        : 'Fix the request as the vendor says and run again.';
  return new VendorError('ERR_VENDOR_REJECTED', `${said}${issueText}`, { details, hint });
}

/**
 * A 3xx. Redirects are not followed: the Authorization header would go along to wherever the
 * server points (and a POST may turn into a GET). Said as what it is, with the base URL to
 * use, instead of "HTTP 301 … Fix the request as the vendor says".
 */
export function redirectError(vendor: string, status: number, location: string | undefined, method: string, path: string, target: string, base: string, bodyText = ''): VendorError {
  let to: URL | undefined;
  try {
    if (location) to = new URL(location, target);
  } catch {
    to = undefined;
  }
  const shown = to ? to.href : location;
  const said = `${vendor} answered ${status} to ${method} ${path}, a redirect${shown ? ` to ${shown.length > 200 ? `${shown.slice(0, 200)}…` : shown}` : ' without a Location'}; chatid does not follow redirects, so the API key is never sent on to another address.`;
  let suggested: string | undefined;
  if (to && (to.protocol === 'https:' || to.protocol === 'http:')) {
    // The same request under another prefix: that prefix is the base URL to use.
    const tail = target.slice(base.length);
    suggested = to.href.endsWith(tail) && tail !== '' ? to.href.slice(0, to.href.length - tail.length) : to.origin;
  }
  const { message, code } = parseVendorErrorBody(bodyText);
  const details: HttpErrorDetails = { status, vendorMessage: message ?? `HTTP ${status}`, issues: [], vendor };
  if (code !== undefined) details.vendorCode = code;
  return new VendorError('ERR_VENDOR_REDIRECT', said, {
    details,
    hint:
      suggested !== undefined && suggested !== base
        ? `If ${suggested} is ${vendor}'s API, use it as the base URL (--base-url / CHATID_BASE_URL); otherwise check the base URL.`
        : 'Check the base URL (--base-url / CHATID_BASE_URL): it should be the API itself, not a page that forwards to it.',
  });
}

/** What a 409 means depends on what was written: an attribute's name, or a contact's email or id. */
function conflictHint(path: string): string {
  if (/\/chatbots\/[^/]+\/custom-attributes(\/|\?|$)/.test(path)) return 'An attribute with this name exists already (`chatid attributes list`); its type cannot change, so pick another name or use the one there.';
  if (/\/chatbots\/[^/]+\/contacts(\/|\?|$)/.test(path)) return 'Another record already uses this email or external id; change one of them.';
  return 'It conflicts with a record the vendor has already; check what exists, then change the request.';
}

function isAbort(err: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted) return true;
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'AbortError' || (err as { code?: unknown } | null)?.code === 'UND_ERR_ABORTED';
}

function anySignal(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  if (!a) return b;
  if (!b) return a;
  return AbortSignal.any([a, b]);
}

/** A retryable failure of one attempt: either a status to retry or a network error. */
interface AttemptFailure {
  kind: 'status' | 'network';
  status?: number;
  bodyText?: string;
  headers?: RawResponse['headers'];
  error?: unknown;
}

/**
 * The most a 2xx body may hold. The largest documented answer, a page of 1000 contacts, is a
 * few MB; a server sending gigabytes (a wrong base URL, a runaway proxy) made the client hold
 * all of it (1.3 GB for 600 MB) and then fail with V8's "Cannot create a string longer than
 * 0x1fffffe8 characters" reported as a network error.
 */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** How long one attempt waits for headers, then between body pieces (HttpClientOptions.timeoutMs). */
export const DEFAULT_TIMEOUT_MS = 60_000;
const MAX_ERROR_BODY_BYTES = 1024 * 1024;

/**
 * Read a body up to `limit` bytes. Beyond it: undefined, the rest unread and the connection
 * dropped, or with `truncate` the first `limit` bytes. A Content-Length above the limit stops at once.
 */
async function readCapped(body: Dispatcher.ResponseData['body'], headers: RawResponse['headers'], limit: number, truncate = false): Promise<Buffer | undefined> {
  const declared = Number(header(headers, 'content-length'));
  if (!truncate && Number.isFinite(declared) && declared > limit) {
    body.destroy();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const c = chunk as Buffer;
    if (size + c.length > limit) {
      if (truncate) chunks.push(c.subarray(0, limit - size));
      body.destroy();
      return truncate ? Buffer.concat(chunks) : undefined;
    }
    chunks.push(c);
    size += c.length;
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
}

/** UTF-8 text of a body, without a leading BOM (as undici's body.text()). */
function utf8(b: Buffer): string {
  const start = b.length > 2 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  return b.toString('utf8', start);
}

/** undici, loaded on the first request (off the start-up path) and kept: each `import()` of the bundled module copies its exports again. */
let undici: Promise<{ request: typeof undiciRequest }> | undefined;

/**
 * Build the shared client. `json` reads the body inside the retry loop (a reset while the
 * body arrives is retried too); `raw` hands the body to the caller once headers say 2xx.
 */
export function createHttpClient(o: HttpClientOptions): HttpClient {
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...stripUndefined(o.retry ?? {}) };
  const flags = o.retryFlags ?? 'network';
  const stats: ClientStats = { requests: 0, retries: 0, waitedMs: 0 };
  const limiter = o.rateLimit ? new RateLimiter(o.rateLimit) : undefined;
  const mono = o.monotonic ?? o.now;
  const base = o.baseUrl.replace(/\/+$/, '');
  const maxBody = o.maxBodyBytes ?? MAX_BODY_BYTES;
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  function jitterUnit(): number {
    const b = o.random(4);
    return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  }

  async function wait(ms: number, reason: string, attempt: number, signal: AbortSignal | undefined): Promise<void> {
    if (ms <= 0) return;
    o.onWait?.({ ms, reason, attempt });
    stats.waitedMs += ms;
    try {
      await o.sleep(ms, signal);
    } catch (err) {
      throw new CancelledError('Cancelled while waiting to retry', { cause: err });
    }
  }

  function backoff(attempt: number): number {
    const step = Math.min(retry.maxDelayMs, retry.maxWaitMs, retry.baseDelayMs * 2 ** attempt);
    // Equal jitter: half fixed, half random, so waits never collapse to zero.
    return Math.round(step / 2 + ((jitterUnit() / 0x1_0000_0000) * step) / 2);
  }

  function url(path: string, query: RequestOptions['query']): string {
    let u = `${base}${path.startsWith('/') ? path : `/${path}`}`;
    if (query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
      const s = q.toString();
      if (s) u += `?${s}`;
    }
    return u;
  }

  async function send<R extends 'text' | 'bytes' | 'none'>(
    method: Dispatcher.HttpMethod,
    path: string,
    ro: RequestOptions,
    read: R,
  ): Promise<{ res: RawResponse; body: R extends 'text' ? string : R extends 'bytes' ? Buffer : undefined; signal: AbortSignal | undefined }> {
    type Body = R extends 'text' ? string : R extends 'bytes' ? Buffer : undefined;
    const { request } = await (undici ??= import('undici'));
    const signal = anySignal(o.signal, ro.signal);
    const headers: Record<string, string> = { accept: 'application/json, text/event-stream, text/plain', ...o.headers, ...ro.headers };
    if (ro.auth !== false && o.apiKey) headers.authorization = `Bearer ${o.apiKey}`;
    let body: string | undefined;
    if (ro.body !== undefined) {
      body = JSON.stringify(ro.body);
      headers['content-type'] = 'application/json';
    }
    const target = url(path, ro.query);
    const timeout = read === 'none' ? 2 * timeoutMs : timeoutMs;
    let waitReason: string | undefined;
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw new CancelledError('Cancelled', { cause: signal.reason });
      if (limiter) {
        const reason = waitReason ?? 'client rate limit';
        await limiter.acquire(mono, (ms) => wait(ms, reason, attempt, signal));
        waitReason = undefined;
      }
      stats.requests++;
      let failure: AttemptFailure;
      try {
        const res = await request(target, { method, headers, body, dispatcher: o.dispatcher, signal, headersTimeout: timeout, bodyTimeout: timeout });
        noteRateHeaders(res.headers);
        o.onResponse?.({ method, path, status: res.statusCode, attempt });
        if (res.statusCode >= 200 && res.statusCode < 300) {
          if (read === 'none') return { res, body: undefined as Body, signal };
          const buf = await readCapped(res.body, res.headers, maxBody);
          if (buf === undefined) {
            throw new VendorError('ERR_VENDOR_BAD_RESPONSE', `${o.vendor} answered ${res.statusCode} to ${method} ${path} with a body over ${maxBody >= 1024 * 1024 ? `${maxBody / 1024 / 1024} MiB` : `${maxBody} bytes`}; stopped reading it.`, {
              hint: 'Check the base URL: it should point at the vendor API (or the chatid sandbox). For a long list, ask for smaller pages.',
            });
          }
          return { res, body: (read === 'bytes' ? buf : utf8(buf)) as Body, signal };
        }
        // An error body is only quoted: its first MiB is plenty.
        const text = await readCapped(res.body, {}, MAX_ERROR_BODY_BYTES, true).then((b) => utf8(b ?? Buffer.alloc(0)), () => '');
        if (res.statusCode >= 300 && res.statusCode < 400) throw redirectError(o.vendor, res.statusCode, header(res.headers, 'location'), method, path, target, base, text);
        const retryable = ro.idempotent === false ? res.statusCode === 429 || res.statusCode === 503 : res.statusCode === 429 || res.statusCode >= 500;
        if (retryable) {
          failure = { kind: 'status', status: res.statusCode, bodyText: text, headers: res.headers };
        } else {
          throw httpError(o.vendor, res.statusCode, text, method, path, ro.idempotent === false && res.statusCode >= 500, flags);
        }
      } catch (err) {
        if (err instanceof AuthError || err instanceof VendorError) throw err;
        if (isAbort(err, signal)) throw new CancelledError('Cancelled', { cause: err });
        if (ro.idempotent === false && isRetryableNetworkError(err) && errorCode(err, NOT_SENT_CODES) === undefined) {
          throw new NetworkError('ERR_NETWORK', `The connection to ${o.vendor} broke before an answer (${(err as { code?: string }).code ?? 'error'}); not retried, since the request may have been processed.`, {
            cause: err,
            hint: 'Check whether it went through, then send it again if not.',
          });
        }
        if (!isRetryableNetworkError(err)) {
          const tls = tlsProblem(err);
          if (tls) throw new NetworkError('ERR_NETWORK', `Could not reach ${o.vendor} at ${base}: ${tls.what}.`, { cause: err, hint: tls.hint });
          throw new NetworkError('ERR_NETWORK', `Could not reach ${o.vendor} at ${base}: ${(err as Error).message ?? String(err)}`, {
            cause: err,
            hint: 'Check the base URL (--base-url / CHATID_BASE_URL) and your network.',
          });
        }
        failure = { kind: 'network', error: err };
      }
      const final = attempt >= retry.maxRetries;
      if (failure.kind === 'network') {
        if (final) {
          const e = failure.error as { code?: string; message?: string };
          const timedOut = e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT';
          const why = timedOut ? `${e.code}: no ${e.code === 'UND_ERR_HEADERS_TIMEOUT' ? 'answer' : 'data'} within ${timeout >= 1000 ? `${Math.round(timeout / 1000)} s` : `${timeout} ms`}` : `${e.code ?? 'connection failed'}: ${e.message ?? ''}`;
          throw new NetworkError('ERR_NETWORK', `Could not reach ${o.vendor} at ${base} (${why}) after ${attempt + 1} attempt${attempt === 0 ? '' : 's'}.`, {
            cause: failure.error,
            hint: 'Check the base URL (--base-url / CHATID_BASE_URL) and your network, then run again.',
          });
        }
        stats.retries++;
        await wait(backoff(attempt), `connection failure (${(failure.error as { code?: string }).code ?? 'error'})`, attempt, signal);
        continue;
      }
      const h = failure.headers ?? {};
      const nowMs = o.now();
      const asked = parseRetryAfter(header(h, 'retry-after'), nowMs) ?? (failure.status === 429 ? parseReset(header(h, 'x-ratelimit-reset') ?? header(h, 'ratelimit-reset'), nowMs) : undefined);
      if (final) throw httpError(o.vendor, failure.status!, failure.bodyText ?? '', method, path, false, flags);
      if (asked !== undefined && asked > retry.maxWaitMs) {
        const err = httpError(o.vendor, failure.status!, failure.bodyText ?? '', method, path, false, flags);
        throw new VendorError(
          failure.status === 429 ? 'ERR_VENDOR_RATE_LIMIT' : 'ERR_VENDOR_SERVER',
          `${o.vendor} asked to wait ${Math.ceil(asked / 1000)} s before retrying (${failure.status}), more than the ${Math.ceil(retry.maxWaitMs / 1000)} s cap; stopped.`,
          { details: err.details, hint: flags === 'none' ? 'Run again later.' : 'Run again later, or allow a longer wait with --max-wait <duration>.', cause: err },
        );
      }
      stats.retries++;
      // A time already past (a reset stamp behind our clock, Retry-After: 0) is no reason to
      // retry at once: five 429s came back within milliseconds. It gets the backoff instead.
      const ms = asked !== undefined && asked > 0 ? asked : backoff(attempt);
      if (limiter && asked !== undefined && asked > 0) {
        // Hold every request of this client (other workers too) until the promised time;
        // the limiter does the waiting at the top of the loop.
        limiter.pauseUntil(mono() + ms); // a wall-clock wait, kept on the limiter's own clock
        waitReason = `HTTP ${failure.status}`;
        continue;
      }
      await wait(ms, `HTTP ${failure.status}`, attempt, signal);
    }
  }

  function noteRateHeaders(h: RawResponse['headers']): void {
    if (!limiter) return;
    // The server says the window is spent: hold the next request until it resets.
    // Chatbase/Bookbag send X-RateLimit-*, Replyful the unprefixed RateLimit-* (reset in delta seconds).
    const prefix = header(h, 'x-ratelimit-remaining') !== undefined ? 'x-' : '';
    if (header(h, `${prefix}ratelimit-remaining`)?.trim() === '0') {
      const nowMs = o.now();
      const reset = parseReset(header(h, `${prefix}ratelimit-reset`), nowMs);
      if (reset !== undefined && reset <= retry.maxWaitMs) limiter.pauseUntil(mono() + reset);
    }
  }

  return {
    stats,
    vendor: o.vendor,
    async json<T>(method: Dispatcher.HttpMethod, path: string, ro: RequestOptions = {}) {
      const { res, body: text } = await send(method, path, ro, 'text');
      let data: unknown = null;
      if (text && text.trim() !== '') {
        try {
          data = JSON.parse(text);
        } catch (err) {
          throw new VendorError('ERR_VENDOR_BAD_RESPONSE', `${o.vendor} answered ${res.statusCode} to ${method} ${path} with a body that is not JSON.`, {
            cause: err,
            hint: 'Check the base URL: it should point at the vendor API (or the chatid sandbox).',
          });
        }
      }
      return { status: res.statusCode, data: data as T, headers: res.headers };
    },
    async bytes(method: Dispatcher.HttpMethod, path: string, ro: RequestOptions = {}) {
      const { res, body } = await send(method, path, ro, 'bytes');
      return { status: res.statusCode, body, headers: res.headers };
    },
    async raw(method: Dispatcher.HttpMethod, path: string, ro: RequestOptions = {}) {
      const { res, signal } = await send(method, path, ro, 'none');
      return { statusCode: res.statusCode, headers: res.headers, body: res.body, signal };
    },
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A VendorError for a 2xx whose body does not have the documented shape. */
export function badResponse(vendor: string, what: string): VendorError {
  return new VendorError('ERR_VENDOR_BAD_RESPONSE', `${vendor} answered with an unexpected body for ${what}.`, {
    hint: 'Check the base URL and provider: the server may not be this vendor (or the chatid sandbox).',
  });
}
