import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { type Sandbox, SANDBOX_API_KEY, SANDBOX_CHATBASE_AGENT_ID, type SandboxOptions, startSandbox } from '../../src/sandbox/index.js';

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
const CB = `/api/v1/chatbots/${SANDBOX_CHATBASE_AGENT_ID}`;

async function call(method: string, path: string, body?: unknown, key = SANDBOX_API_KEY) {
  // A fresh connection each time, so a reset never poisons the next request.
  const dispatcher = new Agent({ pipelining: 0 });
  try {
    const res = await request(`${sb!.url}${path}`, {
      method: method as 'GET',
      dispatcher,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, json: text ? JSON.parse(text) : undefined };
  } finally {
    await dispatcher.close().catch(() => undefined);
  }
}

describe('sandbox: rate limit', () => {
  it('counts per key in a sliding window and answers 429 with Retry-After', async () => {
    let t = 1_000_000;
    await start({ rateLimit: { limit: 3, windowMs: 10_000 }, now: () => t, apiKeys: ['k1', 'k2'] });
    const seen: Array<[number, string | string[] | undefined, string | string[] | undefined]> = [];
    for (let i = 0; i < 3; i++) {
      const r = await call('GET', `${CB}/contacts`, undefined, 'k1');
      seen.push([r.status, r.headers['x-ratelimit-remaining'], r.headers['x-ratelimit-limit']]);
      t += 1000;
    }
    expect(seen).toEqual([
      [200, '2', '3'],
      [200, '1', '3'],
      [200, '0', '3'],
    ]);
    const limited = await call('GET', `${CB}/contacts`, undefined, 'k1');
    expect(limited.status).toBe(429);
    expect(limited.json).toEqual({ message: 'Rate limit exceeded' });
    // oldest request at 1_000_000 leaves the window at 1_010_000; now is 1_003_000
    expect(limited.headers['retry-after']).toBe('7');
    expect(limited.headers['x-ratelimit-reset']).toBe('1010000');
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    // another key has its own window; health is never limited
    expect((await call('GET', `${CB}/contacts`, undefined, 'k2')).status).toBe(200);
    expect((await call('GET', '/api/v2/health')).status).toBe(200);
    t = 1_010_001; // the first request left the window
    const again = await call('GET', `${CB}/contacts`, undefined, 'k1');
    expect([again.status, again.headers['x-ratelimit-remaining']]).toEqual([200, '0']);
    expect(sb!.requests.filter((r) => r.status === 429)).toHaveLength(1);
  });

  it("by default keeps each vendor's window: 100 per 10 s on /api paths, 100 per 60 s for Replyful and OpenCX", async () => {
    let t = 5_000_000;
    await start({ now: () => t });
    const replyful = await call('GET', '/v1/conversations?limit=1');
    expect([replyful.status, replyful.headers['ratelimit-limit'], replyful.headers['ratelimit-reset']]).toEqual([200, '100', '60']);
    const opencx = await call('POST', '/widget/authenticate-user', { email: 'ann@example.com' });
    expect([opencx.status, opencx.headers['x-ratelimit-reset']]).toEqual([200, String(t + 60_000)]);
    const chatbase = await call('GET', `${CB}/contacts`);
    expect([chatbase.status, chatbase.headers['x-ratelimit-reset'], chatbase.headers['x-ratelimit-remaining']]).toEqual([200, String(t + 10_000), '99']);
    // Windows are counted apart: Replyful's 100 per minute are not spent by the /api or OpenCX calls.
    for (let i = 0; i < 99; i++) expect((await call('GET', '/v1/conversations?limit=1')).status).toBe(200);
    t += 30_000; // past 10 s, inside the minute
    const limited = await call('GET', '/v1/conversations?limit=1');
    expect([limited.status, limited.headers['retry-after']]).toEqual([429, '30']);
    // An explicit limit applies to every path.
    t = 9_000_000;
    await start({ now: () => t, rateLimit: { limit: 1, windowMs: 10_000 } });
    expect((await call('GET', '/v1/conversations?limit=1')).headers['ratelimit-reset']).toBe('10');
  });

  it('can be turned off', async () => {
    await start({ rateLimit: false });
    const r = await call('GET', `${CB}/contacts`);
    expect([r.status, r.headers['x-ratelimit-limit']]).toEqual([200, undefined]);
  });
});

describe('sandbox: faults', () => {
  const batch = { users: [{ external_id: 'a', name: 'A' }, { external_id: 'b', name: 'B' }] };

  it('reset-after stores the batch, then resets the connection', async () => {
    await start({ faultRate: 1, faults: ['reset-after'] });
    await expect(call('POST', `${CB}/contacts`, batch)).rejects.toThrow();
    expect(sb!.state.contacts(SANDBOX_CHATBASE_AGENT_ID).map((c) => c.external_id)).toEqual(['a', 'b']);
    expect(sb!.requests).toEqual([expect.objectContaining({ method: 'POST', status: 0, fault: 'reset-after', items: 2 })]);
  });

  it('reset-before stores nothing', async () => {
    await start({ faultRate: 1, faults: ['reset-before'] });
    await expect(call('POST', `${CB}/contacts`, batch)).rejects.toThrow();
    expect(sb!.state.contacts(SANDBOX_CHATBASE_AGENT_ID)).toEqual([]);
    expect(sb!.requests[0]).toMatchObject({ status: 0, fault: 'reset-before' });
  });

  it('injects 429 with Retry-After, 500 and 503 in the vendor words, storing nothing', async () => {
    await start({ faultRate: 1, faults: ['429'], retryAfterSeconds: 3 });
    const r429 = await call('POST', `${CB}/contacts`, batch);
    expect([r429.status, r429.headers['retry-after'], r429.json]).toEqual([429, '3', { message: 'Rate limit exceeded' }]);
    expect([r429.headers['x-ratelimit-remaining'], Number(r429.headers['x-ratelimit-reset']) - sb!.requests[0]!.at]).toEqual(['0', 3000]);
    sb!.setFaults({ faults: ['500'] });
    const r500 = await call('POST', `${CB}/contacts`, batch);
    expect([r500.status, r500.json]).toEqual([500, { message: 'Internal server error' }]);
    const list500 = await call('GET', `${CB}/contacts`);
    expect([list500.status, list500.json]).toEqual([500, { message: 'Error retrieving chatbot contacts' }]);
    sb!.setFaults({ faults: ['503'] });
    const r503 = await call('POST', `${CB}/contacts`, batch);
    expect(r503.status).toBe(503);
    const v2 = await call('GET', `/api/v2/agents/${SANDBOX_CHATBASE_AGENT_ID}/users/u/conversations`);
    expect([v2.status, v2.json.error.code]).toEqual([503, 'INTERNAL_SERVER_ERROR']);
    expect(sb!.state.contacts(SANDBOX_CHATBASE_AGENT_ID)).toEqual([]);
    expect((await call('GET', '/api/v2/health')).status).toBe(200);
    sb!.setFaults({ faultRate: 0 });
    expect((await call('POST', `${CB}/contacts`, batch)).status).toBe(200);
    expect(sb!.requests.map((r) => r.fault ?? null)).toEqual(['429', '500', '500', '503', '503', null, null]);
  });

  it('an injected 429 names the limit only when one is set', async () => {
    await start({ faultRate: 1, faults: ['429'], rateLimit: { limit: 7, windowMs: 1000 } });
    const limited = await call('GET', `${CB}/contacts`);
    expect([limited.status, limited.headers['x-ratelimit-limit'], limited.headers['x-ratelimit-remaining']]).toEqual([429, '7', '0']);
    await start({ faultRate: 1, faults: ['429'], rateLimit: false });
    const off = await call('GET', `${CB}/contacts`);
    // No limit to name; remaining and reset still agree with Retry-After.
    expect([off.status, off.headers['x-ratelimit-limit'], off.headers['x-ratelimit-remaining'], off.headers['retry-after']]).toEqual([429, undefined, '0', '1']);
    expect(Number(off.headers['x-ratelimit-reset']) - sb!.requests[0]!.at).toBe(1000);
    const replyful = await call('GET', '/v1/conversations?limit=1');
    expect([replyful.status, replyful.headers['ratelimit-limit'], replyful.headers['ratelimit-remaining'], replyful.headers['ratelimit-reset']]).toEqual([429, undefined, '0', '1']);
  });

  it('can write Retry-After as an HTTP-date, never earlier than the delay', async () => {
    await start({ faultRate: 1, faults: ['429'], retryAfterSeconds: 2, retryAfterFormat: 'http-date', now: () => 1_700_000_000_400 });
    const r = await call('GET', `${CB}/contacts`);
    expect(r.status).toBe(429);
    expect(r.headers['retry-after']).toBe(new Date(1_700_000_003_000).toUTCString());
    sb!.setFaults({ retryAfterFormat: 'seconds' });
    expect((await call('GET', `${CB}/contacts`)).headers['retry-after']).toBe('2');
  });

  it('draws the same faults for the same seed, at about the given rate', async () => {
    const run = async (seed: number) => {
      await start({ faultRate: 0.3, faults: ['429', '500'], seed, rateLimit: false });
      const out: number[] = [];
      for (let i = 0; i < 60; i++) out.push((await call('GET', `${CB}/contacts`)).status);
      return out;
    };
    const a = await run(42);
    const b = await run(42);
    const c = await run(43);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const faulted = a.filter((s) => s !== 200).length;
    expect(faulted).toBeGreaterThan(6);
    expect(faulted).toBeLessThan(30);
  });

  it('under concurrency, exactly the batches answered 200 or reset after the store are stored', async () => {
    await start({ faultRate: 0.5, seed: 11, rateLimit: false });
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, async (_, b) => {
        const users = Array.from({ length: 50 }, (_, i) => ({ external_id: `b${b}_${i}` }));
        try {
          return { b, status: (await call('POST', `${CB}/contacts`, { users })).status };
        } catch {
          return { b, status: 0 };
        }
      }),
    );
    const stored = new Set(sb!.state.contacts(SANDBOX_CHATBASE_AGENT_ID).map((c) => c.external_id.split('_')[0]));
    expect(sb!.requests).toHaveLength(40);
    const kinds = new Set(sb!.requests.map((r) => r.fault ?? 'none'));
    expect(kinds).toEqual(new Set(['none', '429', '500', '503', 'reset-before', 'reset-after']));
    const expected = new Set<string>();
    // the handler ran (items logged) exactly for the answered and the reset-after requests
    expect(sb!.requests.filter((r) => r.items === 50)).toHaveLength(sb!.requests.filter((r) => r.status === 200 || r.fault === 'reset-after').length);
    // every stored batch was answered 200 or reset after the store; every other one is absent
    const resetAfter = sb!.requests.filter((r) => r.fault === 'reset-after').length;
    for (const o of outcomes) if (o.status === 200) expected.add(`b${o.b}`);
    expect(stored.size).toBe(expected.size + resetAfter);
    for (const id of expected) expect(stored.has(id)).toBe(true);
    expect(outcomes.filter((o) => o.status === 0)).toHaveLength(sb!.requests.filter((r) => r.status === 0).length);
    expect(sb!.state.contacts(SANDBOX_CHATBASE_AGENT_ID)).toHaveLength(stored.size * 50);
  });

  it('adds latency', async () => {
    await start({ latencyMs: 30 });
    const t0 = performance.now();
    expect((await call('GET', `${CB}/contacts`)).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
  });

  it('refuses bad options', async () => {
    await expect(startSandbox({ faultRate: 2 })).rejects.toMatchObject({ code: 'ERR_SANDBOX_OPTION' });
    await expect(startSandbox({ faults: ['boom' as never] })).rejects.toMatchObject({ code: 'ERR_SANDBOX_OPTION' });
    await expect(startSandbox({ rateLimit: { limit: 0, windowMs: 1 } })).rejects.toMatchObject({ code: 'ERR_SANDBOX_OPTION' });
  });
});

describe('sandbox: persistence', () => {
  it('saves atomically with mode 0600 and loads it back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chatid-sb-'));
    const file = join(dir, 'data.json');
    await start({ dataFile: file, attributes: [{ name: 'age', type: 'number' }] });
    expect((await call('POST', `${CB}/contacts`, { users: [{ external_id: 'a', email: 'a@example.com', custom_attributes: { age: 5 } }] })).status).toBe(200);
    await sb!.close();
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await readFile(file, 'utf8'));
    expect(saved.version).toBe(1);
    await start({ dataFile: file });
    const got = await call('GET', `${CB}/contacts/a`);
    expect(got.json.data).toMatchObject({ external_id: 'a', email: 'a@example.com', custom_attributes: { age: 5 } });
    expect(sb!.state.attributes(SANDBOX_CHATBASE_AGENT_ID).map((a) => a.name)).toEqual(['age']);
    // the email index survives the round trip
    expect((await call('POST', `${CB}/contacts`, { users: [{ external_id: 'b', email: 'a@example.com' }] })).status).toBe(409);
  });

  it('round-trips thousands of contacts, conversations and counters, leaving no temporary file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chatid-sb-'));
    const file = join(dir, 'data.json');
    await start({ dataFile: file, provider: 'bookbag', rateLimit: false });
    const BB = '/api/v1/chatbots/1001';
    for (let b = 0; b < 5; b++) {
      const users = Array.from({ length: 1000 }, (_, i) => ({ external_id: `u${b * 1000 + i}`, name: `N ${b * 1000 + i}`, email: `u${b * 1000 + i}@example.com` }));
      expect((await call('POST', `${BB}/contacts`, { users })).status).toBe(200);
    }
    expect((await call('POST', '/api/v2/agents/1001/chat', { message: 'hi', userId: 'u1', stream: false })).status).toBe(200);
    await sb!.flush();
    const before = sb!.state.toJSON();
    await sb!.close();
    expect((await readdir(dir)).sort()).toEqual(['data.json']);
    await start({ dataFile: file, provider: 'bookbag' });
    expect(sb!.state.toJSON()).toEqual(before);
    // ids keep counting where they stopped
    const next = await call('POST', `${BB}/contacts`, { users: [{ external_id: 'new' }] });
    expect(next.json.data[0].id).toBe('contact_5001');
    expect((await call('GET', '/api/v2/agents/1001/users/u1/conversations')).json.pagination.total).toBe(1);
  });

  it('refuses a file that is not sandbox data', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chatid-sb-'));
    const file = join(dir, 'bad.json');
    await writeFile(file, '{"hello":1}');
    await expect(startSandbox({ dataFile: file })).rejects.toMatchObject({ code: 'ERR_SANDBOX_DATA' });
    await writeFile(file, 'not json');
    await expect(startSandbox({ dataFile: file })).rejects.toMatchObject({ code: 'ERR_SANDBOX_DATA' });
  });
});
