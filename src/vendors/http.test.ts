import { MockAgent } from 'undici';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthError, CancelledError, NetworkError, VendorError } from '../cli/errors.js';
import { createHttpClient, type HttpClientOptions, parseReset, parseRetryAfter, parseVendorErrorBody, SlidingWindowLimiter } from './http.js';

const BASE = 'http://api.test';
const NOW = Date.parse('2026-01-01T00:00:00Z');
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

function client(o: Partial<HttpClientOptions> = {}) {
  return createHttpClient({
    vendor: 'Chatbase',
    dispatcher: agent,
    baseUrl: BASE,
    apiKey: 'key_1',
    now: () => NOW,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: (n) => Uint8Array.from({ length: n }, (_, i) => (i === 0 ? 0x80 : 0)), // jitter = exactly half
    ...o,
  });
}
const pool = () => agent.get(BASE);

describe('parsing helpers', () => {
  it('reads Retry-After in seconds and HTTP-date form', () => {
    expect(parseRetryAfter('7', NOW)).toBe(7000);
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', NOW)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', NOW)).toBe(0);
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
  });
  it('reads reset headers as Unix ms, Unix s or delta s', () => {
    expect(parseReset(String(NOW + 4_500), NOW)).toBe(4_500);
    expect(parseReset(String(NOW / 1000 + 9), NOW)).toBe(9_000);
    expect(parseReset('12', NOW)).toBe(12_000);
    expect(parseReset('x', NOW)).toBeUndefined();
  });
  it('understands every vendor error body', () => {
    expect(parseVendorErrorBody('{"message":"Invalid request body","issues":[{"field":"custom_attributes.age","message":"Expected number, received string"}]}')).toEqual({
      message: 'Invalid request body',
      code: undefined,
      issues: [{ field: 'custom_attributes.age', message: 'Expected number, received string' }],
    });
    expect(parseVendorErrorBody('{"error":{"code":"AGENT_NOT_FOUND","message":"Agent not found"}}')).toEqual({ message: 'Agent not found', code: 'AGENT_NOT_FOUND', issues: [] });
    expect(parseVendorErrorBody('{"success":false,"error":{"code":"validation_error","message":"bad","details":[{"path":["message"],"message":"Required"}]}}')).toEqual({
      message: 'bad',
      code: 'validation_error',
      issues: [{ field: 'message', message: 'Required' }],
    });
    expect(parseVendorErrorBody('{"error":{"type":"validation_error","code":"invalid_query_parameter","message":"limit too big","param":"limit"}}')).toEqual({
      message: 'limit too big',
      code: 'invalid_query_parameter',
      issues: [{ field: 'limit', message: 'limit too big' }],
    });
    expect(parseVendorErrorBody('{"statusCode":401,"message":"Unauthorized","error":"Unauthorized"}')).toEqual({ message: 'Unauthorized', code: undefined, issues: [] });
    expect(parseVendorErrorBody('{"statusCode":400,"message":["email must be an email"],"error":"Bad Request"}')).toEqual({
      message: 'email must be an email',
      code: undefined,
      issues: [{ message: 'email must be an email' }],
    });
    expect(parseVendorErrorBody('Bad Gateway')).toEqual({ message: 'Bad Gateway', code: undefined, issues: [] });
  });
});

describe('requests', () => {
  it('sends Bearer auth and JSON, and returns the parsed body', async () => {
    pool()
      .intercept({ path: '/api/v1/x?page=2', method: 'POST', headers: { authorization: 'Bearer key_1', 'content-type': 'application/json' }, body: '{"a":1}' })
      .reply(200, { ok: true });
    const c = client();
    const r = await c.json('POST', '/api/v1/x', { query: { page: 2, skip: undefined }, body: { a: 1 } });
    expect(r).toMatchObject({ status: 200, data: { ok: true } });
    expect(c.stats).toEqual({ requests: 1, retries: 0, waitedMs: 0 });
  });
  it('returns null for an empty 204', async () => {
    pool().intercept({ path: '/x', method: 'DELETE' }).reply(204, '');
    expect((await client().json('DELETE', '/x')).data).toBeNull();
  });
  it('401 and 403 become AuthError ERR_VENDOR_AUTH (exit 4) with the vendor message', async () => {
    pool().intercept({ path: '/x' }).reply(401, { message: 'Unauthorized access' });
    pool().intercept({ path: '/x' }).reply(403, { error: { code: 'AUTH_INSUFFICIENT_PERMISSIONS', message: 'no' } });
    const c = client();
    const e1 = await c.json('GET', '/x').catch((e) => e);
    expect(e1).toBeInstanceOf(AuthError);
    expect([e1.code, e1.exitCode, e1.details.status, e1.details.vendorMessage]).toEqual(['ERR_VENDOR_AUTH', 4, 401, 'Unauthorized access']);
    const e2 = await c.json('GET', '/x').catch((e) => e);
    expect([e2.code, e2.details.status, e2.details.vendorCode]).toEqual(['ERR_VENDOR_AUTH', 403, 'AUTH_INSUFFICIENT_PERMISSIONS']);
    expect(c.stats.retries).toBe(0);
  });
  it.each([400, 404, 409, 422])('%i becomes VendorError ERR_VENDOR_REJECTED, not retried', async (status) => {
    pool().intercept({ path: '/x', method: 'POST' }).reply(status, { message: 'Invalid request body', issues: [{ field: 'email', message: 'bad email' }] });
    const e = await client().json('POST', '/x', { body: {} }).catch((err) => err);
    expect(e).toBeInstanceOf(VendorError);
    expect([e.code, e.exitCode, e.details]).toEqual(['ERR_VENDOR_REJECTED', 1, { status, vendorMessage: 'Invalid request body', issues: [{ field: 'email', message: 'bad email' }], vendor: 'Chatbase' }]);
    expect(e.hint).toBeTruthy();
  });
  it('a 409 hint says what conflicts: an attribute name, or a contact email or id', async () => {
    const hintFor = async (path: string) => {
      pool().intercept({ path, method: 'POST' }).reply(409, { message: 'conflict' });
      return ((await client().json('POST', path, { body: {} }).catch((err) => err)) as VendorError).hint;
    };
    expect(await hintFor('/api/v1/chatbots/b/custom-attributes')).toMatch(/^An attribute with this name exists already/);
    expect(await hintFor('/api/v1/chatbots/b/contacts')).toMatch(/^Another record already uses this email or external id/);
    expect(await hintFor('/api/v1/chatbots/b/contacts/c1')).toMatch(/^Another record already uses this email or external id/);
    expect(await hintFor('/x')).toMatch(/^It conflicts with a record the vendor has already/);
    // An id that happens to read like the other kind does not change what was written.
    expect(await hintFor('/api/v1/chatbots/custom-attributes/contacts/c1')).toMatch(/^Another record already uses this email or external id/);
  });
  it('a 2xx that is not JSON is ERR_VENDOR_BAD_RESPONSE', async () => {
    pool().intercept({ path: '/x' }).reply(200, '<html>');
    await expect(client().json('GET', '/x')).rejects.toMatchObject({ code: 'ERR_VENDOR_BAD_RESPONSE' });
  });
});

describe('retries', () => {
  it('retries a POST after 429 with Retry-After in seconds, waiting exactly that long', async () => {
    pool().intercept({ path: '/x', method: 'POST' }).reply(429, { message: 'Rate limit exceeded' }, { headers: { 'retry-after': '3' } });
    pool().intercept({ path: '/x', method: 'POST' }).reply(200, { ok: 1 });
    const c = client({ rateLimit: undefined });
    expect((await c.json('POST', '/x', { body: [] })).data).toEqual({ ok: 1 });
    expect(sleeps).toEqual([3000]);
    expect(c.stats).toEqual({ requests: 2, retries: 1, waitedMs: 3000 });
  });
  it('honours Retry-After as an HTTP-date', async () => {
    pool().intercept({ path: '/x' }).reply(429, {}, { headers: { 'retry-after': 'Thu, 01 Jan 2026 00:00:42 GMT' } });
    pool().intercept({ path: '/x' }).reply(200, {});
    await client().json('GET', '/x');
    expect(sleeps).toEqual([42_000]);
  });
  it('honours X-RateLimit-Reset (Unix ms) on a 429 without Retry-After', async () => {
    pool().intercept({ path: '/x' }).reply(429, { error: { code: 'RATE_LIMIT_TOO_MANY_REQUESTS', message: 'slow down' } }, { headers: { 'x-ratelimit-reset': String(NOW + 2_500) } });
    pool().intercept({ path: '/x' }).reply(200, {});
    await client().json('GET', '/x');
    expect(sleeps).toEqual([2_500]);
  });
  it('with a limiter, a Retry-After pauses the whole client until the promised time', async () => {
    pool().intercept({ path: '/x' }).reply(429, {}, { headers: { 'retry-after': '5' } });
    pool().intercept({ path: '/x' }).reply(200, {});
    pool().intercept({ path: '/y' }).reply(200, {});
    const c = client({ rateLimit: { limit: 100, windowMs: 10_000 } });
    await c.json('GET', '/x');
    await c.json('GET', '/y'); // the fixed clock has not moved: /y must wait too
    expect(sleeps).toEqual([5000, 5000]);
  });
  it('backs off exponentially with jitter on 5xx, then succeeds', async () => {
    pool().intercept({ path: '/x', method: 'POST' }).reply(500, { message: 'Internal server error' });
    pool().intercept({ path: '/x', method: 'POST' }).reply(502, 'Bad Gateway');
    pool().intercept({ path: '/x', method: 'POST' }).reply(503, '');
    pool().intercept({ path: '/x', method: 'POST' }).reply(200, { ok: true });
    const c = client();
    await c.json('POST', '/x', { body: {} });
    // step 500, 1000, 2000 ms; equal jitter with random 0.5 → 3/4 of each step
    expect(sleeps).toEqual([375, 750, 1500]);
    expect(c.stats).toEqual({ requests: 4, retries: 3, waitedMs: 2625 });
  });
  it('jitter comes from the injected random source', async () => {
    pool().intercept({ path: '/x' }).reply(500, '');
    pool().intercept({ path: '/x' }).reply(200, {});
    await client({ random: (n) => new Uint8Array(n) }).json('GET', '/x');
    expect(sleeps).toEqual([250]);
  });
  it('stops after maxRetries with ERR_VENDOR_SERVER and the last vendor message', async () => {
    for (let i = 0; i < 3; i++) pool().intercept({ path: '/x' }).reply(500, { message: 'Error retrieving chatbot contacts' });
    const c = client({ retry: { maxRetries: 2 } });
    const e = await c.json('GET', '/x').catch((err) => err);
    expect([e.code, e.exitCode, e.details.status, e.details.vendorMessage]).toEqual(['ERR_VENDOR_SERVER', 1, 500, 'Error retrieving chatbot contacts']);
    expect(c.stats).toMatchObject({ requests: 3, retries: 2 });
  });
  it('stops after maxRetries on 429 with ERR_VENDOR_RATE_LIMIT', async () => {
    for (let i = 0; i < 2; i++) pool().intercept({ path: '/x' }).reply(429, { message: 'Rate limit exceeded' }, { headers: { 'retry-after': '1' } });
    const e = await client({ retry: { maxRetries: 1 } }).json('GET', '/x').catch((err) => err);
    expect([e.code, e.details.status]).toEqual(['ERR_VENDOR_RATE_LIMIT', 429]);
  });
  it('refuses a Retry-After beyond the cap without sleeping or retrying early', async () => {
    pool().intercept({ path: '/x' }).reply(429, { message: 'Rate limit exceeded' }, { headers: { 'retry-after': '3600' } });
    const c = client({ retry: { maxWaitMs: 60_000 } });
    const e = await c.json('GET', '/x').catch((err) => err);
    expect(e).toBeInstanceOf(VendorError);
    expect(e.code).toBe('ERR_VENDOR_RATE_LIMIT');
    expect(e.message).toMatch(/3600 s/);
    expect(e.hint).toMatch(/--max-wait/);
    expect(sleeps).toEqual([]);
    expect(c.stats.requests).toBe(1);
  });
  it('a raised cap waits the long Retry-After', async () => {
    pool().intercept({ path: '/x' }).reply(503, '', { headers: { 'retry-after': '120' } });
    pool().intercept({ path: '/x' }).reply(200, {});
    await client({ retry: { maxWaitMs: 300_000 } }).json('GET', '/x');
    expect(sleeps).toEqual([120_000]);
  });
  it('retries connection failures (ECONNRESET, ECONNREFUSED, UND_ERR_SOCKET), POST included', async () => {
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'UND_ERR_SOCKET']) {
      pool().intercept({ path: '/x', method: 'POST' }).replyWithError(Object.assign(new Error(`boom ${code}`), { code }));
    }
    pool().intercept({ path: '/x', method: 'POST' }).reply(200, { ok: true });
    const c = client();
    expect((await c.json('POST', '/x', { body: {} })).data).toEqual({ ok: true });
    expect(c.stats).toMatchObject({ requests: 4, retries: 3 });
  });
  it('gives up on connection failures with NetworkError ERR_NETWORK', async () => {
    for (let i = 0; i < 2; i++) pool().intercept({ path: '/x' }).replyWithError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
    const e = await client({ retry: { maxRetries: 1 } }).json('GET', '/x').catch((err) => err);
    expect(e).toBeInstanceOf(NetworkError);
    expect([e.code, e.exitCode]).toEqual(['ERR_NETWORK', 1]);
  });
  it('an abort is a cancellation, not retried', async () => {
    const ac = new AbortController();
    ac.abort();
    const e = await client({ signal: ac.signal }).json('GET', '/x').catch((err) => err);
    expect(e).toBeInstanceOf(CancelledError);
  });
});

describe('client-side rate limit', () => {
  it('allows `limit` starts per window and queues the rest', () => {
    const l = new SlidingWindowLimiter({ limit: 3, windowMs: 1000 });
    expect([l.reserve(0), l.reserve(0), l.reserve(0), l.reserve(0), l.reserve(0)]).toEqual([0, 0, 0, 1000, 1000]);
    expect(l.reserve(1000)).toBe(0); // slots at 0 expired; 1000,1000 reserved + this = 3
    expect(l.reserve(1000)).toBe(1000);
  });
  it('never starts more than `limit` requests in any window (sliding)', () => {
    const l = new SlidingWindowLimiter({ limit: 90, windowMs: 10_000 });
    const starts: number[] = [];
    let t = 0;
    for (let i = 0; i < 1000; i++) {
      t += i % 7; // callers arriving at irregular times
      starts.push(t + l.reserve(t));
    }
    for (let i = 90; i < starts.length; i++) expect(starts[i]! - starts[i - 90]!).toBeGreaterThanOrEqual(10_000);
  });
  it('makes a burst wait through ctx.sleep, and counts the wait', async () => {
    for (let i = 0; i < 5; i++) pool().intercept({ path: '/x' }).reply(200, {});
    const c = client({ rateLimit: { limit: 2, windowMs: 10_000 } });
    for (let i = 0; i < 5; i++) await c.json('GET', '/x');
    // fixed clock: requests 3-4 wait one window, request 5 two windows
    expect(sleeps).toEqual([10_000, 10_000, 20_000]);
    expect(c.stats).toEqual({ requests: 5, retries: 0, waitedMs: 40_000 });
  });
  it('holds requests when the server says the window is spent (X-RateLimit-Remaining: 0)', async () => {
    pool().intercept({ path: '/x' }).reply(200, {}, { headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW + 1234) } });
    pool().intercept({ path: '/x' }).reply(200, {});
    const c = client({ rateLimit: { limit: 100, windowMs: 10_000 } });
    await c.json('GET', '/x');
    await c.json('GET', '/x');
    expect(sleeps).toEqual([1234]);
  });
  it('property: starts never precede arrival, and no window holds more than `limit` starts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 5000 }), fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 200 }), (limit, windowMs, gaps) => {
        const l = new SlidingWindowLimiter({ limit, windowMs });
        let t = 0;
        const starts: number[] = [];
        for (const g of gaps) {
          t += g;
          const w = l.reserve(t);
          expect(w).toBeGreaterThanOrEqual(0);
          starts.push(t + w);
        }
        for (let i = limit; i < starts.length; i++) expect(starts[i]! - starts[i - limit]!).toBeGreaterThanOrEqual(windowMs);
      }),
    );
  });
  it('concurrent callers queue in order of arrival', async () => {
    for (let i = 0; i < 5; i++) pool().intercept({ path: '/x' }).reply(200, {});
    const c = client({ rateLimit: { limit: 2, windowMs: 10_000 } });
    await Promise.all(Array.from({ length: 5 }, () => c.json('GET', '/x')));
    expect([...sleeps].sort((a, b) => a - b)).toEqual([10_000, 10_000, 20_000]);
    expect(c.stats.requests).toBe(5);
  });
});

describe('cancellation', () => {
  it('Ctrl-C during a retry wait is a cancellation (exit 130), with no further request', async () => {
    pool().intercept({ path: '/x' }).reply(503, '', { headers: { 'retry-after': '30' } });
    const ac = new AbortController();
    const c = client({
      signal: ac.signal,
      sleep: async (_ms, signal) => {
        ac.abort();
        signal?.throwIfAborted();
      },
    });
    const e = await c.json('GET', '/x').catch((err) => err);
    expect(e).toBeInstanceOf(CancelledError);
    expect([e.exitCode, c.stats.requests]).toEqual([130, 1]);
  });
  it('a per-call signal aborts only that call', async () => {
    const ac = new AbortController();
    ac.abort();
    pool().intercept({ path: '/y' }).reply(200, { ok: 1 });
    const c = client();
    await expect(c.json('GET', '/x', { signal: ac.signal })).rejects.toBeInstanceOf(CancelledError);
    expect((await c.json('GET', '/y')).data).toEqual({ ok: 1 });
  });
});
