import { createServer } from 'node:http';
import { Agent, MockAgent } from 'undici';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthError, CancelledError, NetworkError, VendorError } from '../cli/errors.js';
import { createHttpClient, httpError, type HttpClientOptions, parseReset, parseRetryAfter, parseVendorErrorBody, RateLimiter, rateLimitMargin } from './http.js';

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

describe('answers a user can act on', () => {
  it('a redirect is not followed: ERR_VENDOR_REDIRECT names where it points and the base URL to use', async () => {
    pool().intercept({ path: '/api/v1/x?a=1' }).reply(308, 'Moved', { headers: { location: 'https://api.test/api/v1/x?a=1' } });
    const e = await client().json('GET', '/api/v1/x', { query: { a: 1 } }).catch((err) => err);
    expect(e).toBeInstanceOf(VendorError);
    expect([e.code, e.exitCode, e.details.status]).toEqual(['ERR_VENDOR_REDIRECT', 1, 308]);
    expect(e.message).toContain('a redirect to https://api.test/api/v1/x?a=1');
    expect(e.hint).toContain('If https://api.test is Chatbase');
    expect(e.hint).toContain('--base-url');
    // A redirect elsewhere, or without a Location, says to check the base URL; nothing is retried.
    pool().intercept({ path: '/y', method: 'POST' }).reply(301, '');
    const e2 = await client().json('POST', '/y', { body: {} }).catch((err) => err);
    expect([e2.code, e2.message]).toEqual(['ERR_VENDOR_REDIRECT', expect.stringContaining('a redirect without a Location')]);
    expect(sleeps).toEqual([]);
  });
  it('an HTML error page is quoted by its title, on one line', () => {
    const page = '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>' + 'x'.repeat(2000) + '</body></html>';
    expect(parseVendorErrorBody(page).message).toBe('502 Bad Gateway');
    expect(parseVendorErrorBody('<html><body><p>Access &amp; denied\n  by proxy</p></body></html>').message).toBe('Access & denied by proxy');
    expect(parseVendorErrorBody('upstream\nconnect error').message).toBe('upstream connect error');
    expect(parseVendorErrorBody('y'.repeat(1000)).message).toHaveLength(301);
  });
  it('a TLS failure says what it is and what to change, not OpenSSL\'s internals', async () => {
    const openssl = '80FCCFFD3B7F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n';
    pool().intercept({ path: '/x' }).replyWithError(Object.assign(new Error(openssl), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' }));
    const e = await client().json('GET', '/x').catch((err) => err);
    expect([e.code, e.exitCode]).toEqual(['ERR_NETWORK', 1]);
    expect(e.message).toBe('Could not reach Chatbase at http://api.test: the server did not answer in TLS (ERR_SSL_WRONG_VERSION_NUMBER): the port probably speaks plain HTTP.');
    expect(e.hint).toContain('Use http://');
    pool().intercept({ path: '/x' }).replyWithError(Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }));
    const e2 = await client().json('GET', '/x').catch((err) => err);
    expect(e2.message).toContain('its TLS certificate is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate)');
    expect(e2.hint).toContain('NODE_EXTRA_CA_CERTS');
    expect(sleeps).toEqual([]);
  });
  it('stops reading a 2xx body past the cap instead of holding all of it', async () => {
    const big = Buffer.alloc(5000, 0x20);
    // Chunked, no Content-Length: counted as it arrives.
    pool().intercept({ path: '/x' }).reply(200, Buffer.concat([big, big, big, big]));
    const e = await client({ maxBodyBytes: 10_000 }).json('GET', '/x').catch((err) => err);
    expect([e.code, e.exitCode]).toEqual(['ERR_VENDOR_BAD_RESPONSE', 1]);
    expect(e.message).toBe('Chatbase answered 200 to GET /x with a body over 10000 bytes; stopped reading it.');
    // A Content-Length past the cap stops before reading; the bytes reader is capped too.
    pool().intercept({ path: '/y', method: 'POST' }).reply(200, Buffer.alloc(20_000, 0x20), { headers: { 'content-length': '20000' } });
    await expect(client({ maxBodyBytes: 10_000 }).bytes('POST', '/y', { body: {} })).rejects.toMatchObject({ code: 'ERR_VENDOR_BAD_RESPONSE' });
    // Under the cap, as before (a BOM is skipped).
    pool().intercept({ path: '/z' }).reply(200, '\ufeff{"ok":true}');
    expect((await client({ maxBodyBytes: 10_000 }).json('GET', '/z')).data).toEqual({ ok: true });
    expect(sleeps).toEqual([]);
  });
  it('gives up on a server that never answers after the attempt timeout, retrying it', async () => {
    const seen: number[] = [];
    const server = createServer(() => void seen.push(1)); // accepts, never answers
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const dispatcher = new Agent();
    try {
      const port = (server.address() as { port: number }).port;
      const e = await client({ dispatcher, baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 150, retry: { maxRetries: 1 } }).json('GET', '/x').catch((err) => err);
      expect([e.code, e.exitCode]).toEqual(['ERR_NETWORK', 1]);
      expect(e.message).toBe(`Could not reach Chatbase at http://127.0.0.1:${port} (UND_ERR_HEADERS_TIMEOUT: no answer within 150 ms) after 2 attempts.`);
      expect(seen).toHaveLength(2);
    } finally {
      await dispatcher.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
  it('counts one attempt as one', async () => {
    pool().intercept({ path: '/x' }).replyWithError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    const e = await client({ retry: { maxRetries: 0 } }).json('GET', '/x').catch((err) => err);
    expect(e.message).toMatch(/after 1 attempt\.$/);
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
  it('backs off on a 429 whose reset is already past (clock skew) instead of retrying at once', async () => {
    pool().intercept({ path: '/x' }).reply(429, { message: 'Rate limit exceeded' }, { headers: { 'x-ratelimit-reset': String(NOW - 5_000) } });
    pool().intercept({ path: '/x' }).reply(429, { message: 'Rate limit exceeded' }, { headers: { 'retry-after': '0' } });
    pool().intercept({ path: '/x' }).reply(200, {});
    await client().json('GET', '/x');
    expect(sleeps).toEqual([375, 750]); // the backoff steps of 500 and 1000 ms, jitter at half
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
  it('with a limiter, the Retry-After pause is kept on the monotonic clock, however far the wall clock is from it', async () => {
    pool().intercept({ path: '/x' }).reply(429, {}, { headers: { 'retry-after': '2' } });
    pool().intercept({ path: '/x' }).reply(200, {});
    pool().intercept({ path: '/y' }).reply(200, {});
    pool().intercept({ path: '/z' }).reply(429, {}, { headers: { 'x-ratelimit-remaining': '5' } });
    pool().intercept({ path: '/z' }).reply(200, {}, { headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '3' } });
    pool().intercept({ path: '/w' }).reply(200, {});
    let wall = NOW; // ~1.8e12 ms since 1970
    let mono = 1_000; // ~1 s since the process started
    const c = client({ rateLimit: { limit: 100, windowMs: 10_000 }, now: () => wall, monotonic: () => mono, sleep: async (ms) => void (sleeps.push(ms), (mono += ms), (wall += ms)) });
    await c.json('GET', '/x');
    await c.json('GET', '/y');
    // 2 s for /x's retry, then /y waits nothing more: the pause ended on the same clock it was set on.
    expect(sleeps).toEqual([2000]);
    sleeps = [];
    await c.json('GET', '/z'); // a 429 without a wait backs off; the 200 says the window is spent for 3 s
    await c.json('GET', '/w');
    expect(sleeps.slice(-1)).toEqual([3000]);
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

describe('error hints name only the flags the command takes', () => {
  it.each([
    ['sync', 429, /lower --concurrency, or raise --max-retries \/ --max-wait/],
    ['network', 429, /^Wait a minute and run again, or raise --max-retries \/ --max-wait\.$/],
    ['none', 429, /^Wait a minute and run again\.$/],
    ['network', 503, /or raise --max-retries\.$/],
    ['none', 503, /^This is on Acme's side\. Try again later\.$/],
  ] as const)('%s, %i', (flags, status, hint) => {
    expect(httpError('Acme', status, '{}', 'GET', '/x', false, flags).hint).toMatch(hint);
  });
  it('a Bookbag v1 404 also names a key scoped to other agents, which gets the same answer', () => {
    expect(httpError('Bookbag', 404, '{"message":"Resource not found"}', 'GET', '/api/v1/chatbots/7/contacts').hint).toMatch(/Check the agent id .* A Bookbag key limited to other agents gets this 404 too/);
    expect(httpError('Chatbase', 404, '{"message":"Chatbot not found"}', 'GET', '/api/v1/chatbots/7/contacts').hint).toBe('Check the agent id (--agent-id / CHATID_AGENT_ID), the base URL and the id you passed.');
  });
  it('says a message once when the issues only repeat it (NestJS lists, Replyful param)', () => {
    const nest = httpError('OpenCX', 400, '{"statusCode":400,"message":["email must be an email","name is too long"],"error":"Bad Request"}', 'POST', '/widget/authenticate-user');
    expect(nest.message).toBe('OpenCX answered 400 to POST /widget/authenticate-user: email must be an email; name is too long');
    expect(nest.details).toMatchObject({ issues: [{ message: 'email must be an email' }, { message: 'name is too long' }] }); // kept for --json
    const param = httpError('Replyful', 422, '{"error":{"type":"validation_error","code":"invalid_query_parameter","message":"limit must be at most 100","param":"limit"}}', 'GET', '/v1/conversations');
    expect(param.message).toBe('Replyful answered 422 to GET /v1/conversations: limit must be at most 100 (invalid_query_parameter) [field: limit]');
    const own = httpError('Chatbase', 400, '{"message":"Invalid request body","issues":[{"field":"users.0.email","message":"Invalid email"}]}', 'POST', '/c');
    expect(own.message).toBe('Chatbase answered 400 to POST /c: Invalid request body [users.0.email: Invalid email]');
  });
});

describe('client-side rate limit', () => {
  /** Starts of requests asking at `asks` (ms), one after another, as the client makes them. */
  const startsFor = (l: RateLimiter, asks: number[]): number[] => {
    const starts: number[] = [];
    let last = Number.NEGATIVE_INFINITY;
    for (const a of asks) {
      const t = Math.max(a, last); // they queue: none starts before the one ahead of it
      const s = l.earliest(t);
      l.record(s);
      starts.push(s);
      last = s;
    }
    return starts;
  };

  it('adds a margin of 1 % to the window, at least 50 ms and at most 1 s', () => {
    expect([rateLimitMargin(1000), rateLimitMargin(10_000), rateLimitMargin(60_000), rateLimitMargin(200_000)]).toEqual([50, 100, 600, 1000]);
    expect(new RateLimiter({ limit: 95, windowMs: 10_000 })).toMatchObject({ windowMs: 10_100, burst: 47 });
  });
  it('lets half the allowance go at once, then spreads the starts evenly instead of sending the whole allowance at each window edge', () => {
    const l = new RateLimiter({ limit: 10, windowMs: 20_000 }); // window 20.2 s: one start per 2020 ms, a burst of 5
    const starts = startsFor(l, Array(30).fill(0));
    // The pace holds from the first start: after the burst the sixth waits until it catches up,
    // and the next window begins with one start, not with another burst.
    expect(starts.slice(0, 12)).toEqual([0, 0, 0, 0, 0, 10_100, 12_120, 14_140, 16_160, 18_180, 20_200, 22_220]);
    for (let i = 6; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeCloseTo(2020, 6);
    // After a quiet spell the burst is back.
    expect(startsFor(l, Array(6).fill(200_000))).toEqual([200_000, 200_000, 200_000, 200_000, 200_000, 210_100]);
  });
  it('property: no start precedes its request, and any limit + 1 starts span the window and its margin', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 1, max: 70_000 }), fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 300 }), (limit, windowMs, gaps) => {
        const l = new RateLimiter({ limit, windowMs });
        const asks: number[] = [];
        let t = 0;
        for (const g of gaps) asks.push((t += g));
        const starts = startsFor(l, asks);
        starts.forEach((s, i) => expect(s).toBeGreaterThanOrEqual(asks[i]!));
        const span = windowMs + rateLimitMargin(windowMs);
        for (let i = limit; i < starts.length; i++) expect(starts[i]! - starts[i - limit]!).toBeGreaterThanOrEqual(span - 1e-6);
        // Evenly spread: beyond the burst, k + 1 starts in a row span at least (k - burst + 1) intervals.
        for (let i = l.burst; i < starts.length; i++) expect(starts[i]! - starts[i - l.burst]!).toBeGreaterThanOrEqual(l.intervalMs - 1e-6);
      }),
    );
  });
  it('property: late timers, quiet spells and server pauses never fit limit + 1 starts in the window and its margin', () => {
    const ask = fc.record({ gap: fc.integer({ min: 0, max: 3000 }), late: fc.integer({ min: 0, max: 400 }), pause: fc.option(fc.integer({ min: 0, max: 4000 }), { freq: 6 }) });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 100, max: 5_000 }), fc.array(ask, { maxLength: 60 }), (limit, windowMs, asks) => {
        const l = new RateLimiter({ limit, windowMs });
        const starts: number[] = [];
        let t = 0;
        let last = Number.NEGATIVE_INFINITY;
        for (const a of asks) {
          t += a.gap;
          if (a.pause !== null) l.pauseUntil(t + a.pause); // the server said: wait
          const s = l.earliest(Math.max(t, last)) + a.late; // the timer fires late; the start is recorded as it really is
          l.record(s);
          starts.push(s);
          last = s;
        }
        const span = windowMs + rateLimitMargin(windowMs);
        for (let i = limit; i < starts.length; i++) expect(starts[i]! - starts[i - limit]!).toBeGreaterThanOrEqual(span - 1e-6);
      }),
      { numRuns: 400 },
    );
  });

  it('counts from when a request really started: a timer that fires late cannot squeeze the next one closer', async () => {
    const l = new RateLimiter({ limit: 2, windowMs: 1000 }); // one start per 525 ms
    let clock = 0;
    const late = async (ms: number) => {
      clock += ms + 40; // every timer 40 ms late
    };
    const starts: number[] = [];
    for (let i = 0; i < 4; i++) {
      await l.acquire(() => clock, late);
      starts.push(clock);
    }
    // Each 525 ms after the previous one's real start (0, 565, …), not after its planned one (0, 525, …).
    expect(starts).toEqual([0, 565, 1130, 1695]);
  });
  it('a request cancelled while it waits gives its turn to the next one', async () => {
    const l = new RateLimiter({ limit: 1, windowMs: 1000 });
    const waits: number[] = [];
    await l.acquire(() => 0, async () => undefined);
    const cancelled = l.acquire(
      () => 0,
      async () => {
        throw new CancelledError('Cancelled');
      },
    );
    const next = l.acquire(
      () => 0,
      async (ms) => {
        waits.push(ms);
      },
    );
    await expect(cancelled).rejects.toBeInstanceOf(CancelledError);
    await next;
    expect(waits).toEqual([1050]);
  });
  it('makes a burst wait through ctx.sleep, and counts the wait', async () => {
    for (let i = 0; i < 5; i++) pool().intercept({ path: '/x' }).reply(200, {});
    const c = client({ rateLimit: { limit: 2, windowMs: 10_000 } });
    for (let i = 0; i < 5; i++) await c.json('GET', '/x');
    // fixed clock: each request waits, from the same "now", for its place 5.05 s after the last
    // (10 s and a 100 ms margin, over 2)
    expect(sleeps).toEqual([5050, 10_100, 15_150, 20_200]);
    expect(c.stats).toEqual({ requests: 5, retries: 0, waitedMs: 50_500 });
  });
  it('spaces requests on the monotonic clock: a wall clock stepped back an hour does not stall the next one', async () => {
    for (let i = 0; i < 4; i++) pool().intercept({ path: '/x' }).reply(200, {});
    let wall = NOW;
    let mono = 0;
    const c = client({ rateLimit: { limit: 2, windowMs: 1000 }, now: () => wall, monotonic: () => mono, sleep: async (ms) => void (sleeps.push(ms), (mono += ms), (wall += ms)) });
    await c.json('GET', '/x');
    await c.json('GET', '/x');
    wall -= 3_600_000; // NTP steps the wall clock back an hour
    await c.json('GET', '/x');
    await c.json('GET', '/x');
    expect(Math.max(...sleeps)).toBeLessThanOrEqual(1050); // paced (1 s + 50 ms margin over 2), never an hour
    // Control: on the wall clock alone the same step back waits an hour, so the part above
    // shows the monotonic clock is the one used.
    for (let i = 0; i < 3; i++) pool().intercept({ path: '/x' }).reply(200, {});
    sleeps = [];
    wall = NOW;
    const w = client({ rateLimit: { limit: 1, windowMs: 1000 }, now: () => wall, sleep: async (ms) => void (sleeps.push(ms), (wall += ms)) });
    await w.json('GET', '/x');
    wall -= 3_600_000;
    await w.json('GET', '/x');
    expect(Math.max(...sleeps)).toBeGreaterThan(3_600_000);
    await w.json('GET', '/x');
  });

  it('holds requests when the server says the window is spent (X-RateLimit-Remaining: 0)', async () => {
    pool().intercept({ path: '/x' }).reply(200, {}, { headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW + 1234) } });
    pool().intercept({ path: '/x' }).reply(200, {});
    const c = client({ rateLimit: { limit: 100, windowMs: 10_000 } });
    await c.json('GET', '/x');
    await c.json('GET', '/x');
    expect(sleeps).toEqual([1234]);
  });
  it("holds requests on Replyful's RateLimit-Remaining: 0 too (reset in delta seconds)", async () => {
    pool().intercept({ path: '/x' }).reply(200, {}, { headers: { 'ratelimit-remaining': '0', 'ratelimit-reset': '7' } });
    pool().intercept({ path: '/x' }).reply(200, {});
    const c = client({ vendor: 'Replyful', rateLimit: { limit: 95, windowMs: 60_000 } });
    await c.json('GET', '/x');
    await c.json('GET', '/x');
    expect(sleeps).toEqual([7000]);
  });
  it('concurrent callers queue in order of arrival', async () => {
    for (let i = 0; i < 5; i++) pool().intercept({ path: '/x' }).reply(200, {});
    const c = client({ rateLimit: { limit: 2, windowMs: 10_000 } });
    await Promise.all(Array.from({ length: 5 }, () => c.json('GET', '/x')));
    expect(sleeps).toEqual([5050, 10_100, 15_150, 20_200]);
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
