import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthError, UsageError } from '../cli/errors.js';
import type { Settings } from '../cli/settings.js';
import type { VendorClientOptions } from './chatbase.js';
import { offers, parseNetworkFlags, requireCapability } from './factory.js';
import { opencxClient } from './opencx.js';
import { replyfulClient } from './replyful.js';

let agent: MockAgent;
beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
});
afterEach(async () => {
  agent.assertNoPendingInterceptors();
  await agent.close();
});
const opts = (baseUrl: string): VendorClientOptions => ({
  dispatcher: agent,
  baseUrl,
  apiKey: 'ocx_live_k',
  now: () => 0,
  sleep: async () => undefined,
  random: (n) => new Uint8Array(n),
});

describe('OpenCX', () => {
  const BASE = 'http://ocx.test';
  it('authenticate-user: sends the body and reads {token, contact} from a 200', async () => {
    agent
      .get(BASE)
      .intercept({ path: '/widget/authenticate-user', method: 'POST', headers: { authorization: 'Bearer ocx_live_k' }, body: '{"email":"a@example.com","name":"Ann"}' })
      .reply(200, { token: 'eyJ.a.b', contact: { id: 'ct_1' } });
    expect(await opencxClient(opts(BASE)).authenticateUser({ email: 'a@example.com', name: 'Ann', phone: undefined })).toEqual({ token: 'eyJ.a.b', contact: { id: 'ct_1' }, status: 200 });
  });
  it('accepts a 201 with only {token} (older versions)', async () => {
    agent.get(BASE).intercept({ path: '/widget/authenticate-user', method: 'POST' }).reply(201, { token: 'eyJ.x.y' });
    expect(await opencxClient(opts(BASE)).authenticateUser({ email: 'a@example.com' })).toEqual({ token: 'eyJ.x.y', contact: undefined, status: 201 });
  });
  it('401 {statusCode,message,error} is AuthError; 403 (scope) too', async () => {
    agent.get(BASE).intercept({ path: '/widget/authenticate-user', method: 'POST' }).reply(401, { statusCode: 401, message: 'Unauthorized', error: 'Unauthorized' });
    agent.get(BASE).intercept({ path: '/widget/authenticate-user', method: 'POST' }).reply(403, { statusCode: 403, message: 'Forbidden resource', error: 'Forbidden' });
    const c = opencxClient(opts(BASE));
    const e = await c.authenticateUser({ email: 'a@example.com' }).catch((err) => err);
    expect([e.constructor, e.code, e.details.vendorMessage]).toEqual([AuthError, 'ERR_VENDOR_AUTH', 'Unauthorized']);
    await expect(c.authenticateUser({ email: 'a@example.com' })).rejects.toMatchObject({ code: 'ERR_VENDOR_AUTH', details: { status: 403 } });
  });
  it('a 2xx without a token is ERR_VENDOR_BAD_RESPONSE', async () => {
    agent.get(BASE).intercept({ path: '/widget/authenticate-user', method: 'POST' }).reply(200, {});
    await expect(opencxClient(opts(BASE)).authenticateUser({ email: 'a@example.com' })).rejects.toMatchObject({ code: 'ERR_VENDOR_BAD_RESPONSE' });
  });
  it('check: a 400 to an empty body means the key passed; a 401 means it did not', async () => {
    agent.get(BASE).intercept({ path: '/widget/authenticate-user', method: 'POST', body: '{}' }).reply(400, { statusCode: 400, message: ['email must be a string'], error: 'Bad Request' });
    agent.get(BASE).intercept({ path: '/widget/authenticate-user', method: 'POST', body: '{}' }).reply(401, { statusCode: 401, message: 'Unauthorized' });
    const c = opencxClient(opts(BASE));
    expect(await c.check()).toMatchObject({ ok: true });
    await expect(c.check()).rejects.toBeInstanceOf(AuthError);
  });
});

describe('Replyful', () => {
  const BASE = 'http://rf.test';
  it('check: GET /v1/conversations?limit=1', async () => {
    agent.get(BASE).intercept({ path: '/v1/conversations?limit=1', headers: { authorization: 'Bearer ocx_live_k' } }).reply(200, { object: 'list', data: [], hasMore: false, nextCursor: null });
    expect(await replyfulClient(opts(BASE)).check()).toEqual({ ok: true, endpoint: 'GET /v1/conversations?limit=1', detail: 'key accepted; no conversations yet' });
  });
  it('maps {error:{type,code,message}} 401 to AuthError with the code', async () => {
    agent.get(BASE).intercept({ path: '/v1/conversations?limit=1' }).reply(401, { error: { type: 'authentication_error', code: 'invalid_api_key', message: 'Invalid API key', docUrl: 'x', requestId: 'r' } });
    await expect(replyfulClient(opts(BASE)).check()).rejects.toMatchObject({ code: 'ERR_VENDOR_AUTH', details: { status: 401, vendorCode: 'invalid_api_key', vendorMessage: 'Invalid API key' } });
  });
  it('422 validation_error is ERR_VENDOR_REJECTED with the param as an issue', async () => {
    agent.get(BASE).intercept({ path: '/v1/conversations?limit=1' }).reply(422, { error: { type: 'validation_error', code: 'invalid_query_parameter', message: 'limit must be ≤ 100', param: 'limit' } });
    await expect(replyfulClient(opts(BASE)).check()).rejects.toMatchObject({ code: 'ERR_VENDOR_REJECTED', details: { status: 422, issues: [{ field: 'limit', message: 'limit must be ≤ 100' }] } });
  });
});

describe('factory', () => {
  const settings = (provider: string): Settings => ({ provider: { value: provider, source: 'env' } }) as unknown as Settings;
  it('knows which provider offers what', () => {
    expect(offers('chatbase', 'contacts')).toBe(true);
    expect(offers('bookbag', 'conversations')).toBe(true);
    expect(offers('replyful', 'contacts')).toBe(false);
    expect(offers('replyful', 'check')).toBe(true);
    expect(offers('opencx', 'server-token')).toBe(true);
    expect(offers('teamweb', 'check')).toBe(false);
  });
  it('refuses a capability the provider lacks with exit 2 and a clear message', () => {
    for (const p of ['teamweb', 'replyful', 'generic', 'opencx']) {
      const e = (() => {
        try {
          requireCapability(settings(p), 'contacts');
        } catch (err) {
          return err as UsageError;
        }
        return undefined;
      })();
      expect(e).toBeInstanceOf(UsageError);
      expect([e!.code, e!.exitCode]).toEqual(['ERR_NOT_SUPPORTED', 2]);
      expect(e!.message).toContain(`not offered for ${p}`);
    }
  });
  it('parses --max-retries, --max-wait and --rate-limit', () => {
    expect(parseNetworkFlags({})).toEqual({});
    expect(parseNetworkFlags({ maxRetries: '0', maxWait: '5m', rateLimit: '50/10s' })).toEqual({ retry: { maxRetries: 0, maxWaitMs: 300_000 }, rateLimit: { limit: 50, windowMs: 10_000 } });
    // The sandbox's --rate-limit takes a bare unit: the client's does too.
    expect(parseNetworkFlags({ rateLimit: '5/s' })).toEqual({ rateLimit: { limit: 5, windowMs: 1000 } });
    expect(parseNetworkFlags({ rateLimit: '90/m' })).toEqual({ rateLimit: { limit: 90, windowMs: 60_000 } });
    for (const bad of [{ maxRetries: '-1' }, { maxRetries: 'x' }, { maxWait: '60' }, { rateLimit: '90' }, { rateLimit: '0/10s' }, { rateLimit: '5/0s' }]) {
      expect(() => parseNetworkFlags(bad)).toThrow(UsageError);
    }
  });
});
