// The vendor clients and their commands against the real sandbox on loopback: a real
// undici Agent, real HTTP, the CLI run in-process. The Retry-After tests use real sleeps
// and measure at the server (its request log) that no request comes before the promised time.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as realSleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { type Sandbox, SANDBOX_API_KEY, SANDBOX_BOOKBAG_AGENT_ID, SANDBOX_CHATBASE_AGENT_ID, type SandboxOptions, startSandbox } from '../../src/sandbox/index.js';
import { resolveVendorSettings, createContactsApi } from '../../src/vendors/factory.js';
import { createTestCtx, runCli, type TestCtx } from '../helpers/test-ctx.js';

let sb: Sandbox | undefined;
let agent: Agent | undefined;
afterEach(async () => {
  await agent?.close();
  await sb?.close();
  sb = undefined;
  agent = undefined;
});

async function setup(o: SandboxOptions = {}, env: Record<string, string> = {}): Promise<{ sb: Sandbox; ctx: () => TestCtx }> {
  sb = await startSandbox({ port: 0, ...o });
  agent = new Agent();
  const s = sb;
  const base = {
    CHATID_PROVIDER: s.provider,
    CHATID_BASE_URL: s.url,
    CHATID_API_KEY: SANDBOX_API_KEY,
    CHATID_AGENT_ID: s.agentIds[0]!,
    ...env,
  };
  return { sb: s, ctx: () => createTestCtx({ env: base, dispatcher: agent }) };
}

/** A context with the real clock and real sleeps (still recorded). */
function realTime(ctx: TestCtx): TestCtx {
  ctx.clock = { now: () => new Date() };
  ctx.sleep = async (ms, signal) => {
    ctx.sleeps.push(ms);
    await realSleep(ms, undefined, signal ? { signal } : undefined);
  };
  return ctx;
}

describe('Chatbase sandbox: contacts, attributes, chat, conversations', () => {
  it('attributes create/list, contacts list/get/delete', async () => {
    const { sb, ctx } = await setup();
    expect(sb.agentIds[0]).toBe(SANDBOX_CHATBASE_AGENT_ID);
    let r = await runCli(['attributes', 'create', '--name', 'plan', '--type', 'text', '--label', 'Plan', '--json'], ctx());
    expect([r.exitCode, r.json().attribute]).toMatchObject([0, { name: 'plan', type: 'text', label: 'Plan' }]);
    r = await runCli(['attributes', 'list', '--json'], ctx());
    expect(r.json().attributes.map((a: { name: string }) => a.name)).toContain('plan');

    const c = ctx();
    const api = await createContactsApi(c, await resolveVendorSettings(c, {}));
    await api.upsertContacts(Array.from({ length: 25 }, (_, i) => ({ external_id: `u${i}`, name: `User ${i}`, custom_attributes: { plan: 'pro' } })));

    r = await runCli(['contacts', 'list', '--per-page', '10', '--page', '3', '--json'], ctx());
    expect(r.json()).toMatchObject({ page: 3, perPage: 10, total: 25, totalPages: 3 });
    expect(r.json().contacts).toHaveLength(5);
    r = await runCli(['contacts', 'list', '--all', '--per-page', '10', '--json'], ctx());
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l).external_id).sort()).toEqual(Array.from({ length: 25 }, (_, i) => `u${i}`).sort());

    r = await runCli(['contacts', 'get', 'u7', '--json'], ctx());
    expect(r.json().contact).toMatchObject({ external_id: 'u7', name: 'User 7', custom_attributes: { plan: 'pro' } });
    r = await runCli(['contacts', 'delete', 'u7', '--yes', '--json'], ctx());
    expect([r.exitCode, r.json().deleted]).toEqual([0, true]);
    r = await runCli(['contacts', 'get', 'u7', '--json'], ctx());
    expect([r.exitCode, r.json().error.code]).toEqual([1, 'ERR_CONTACT_NOT_FOUND']);
  });

  it('a wrongly typed attribute value: 400 with issues, exit 1 naming the field', async () => {
    const { ctx } = await setup({ attributes: [{ name: 'age', type: 'number' }] });
    const c = ctx();
    const api = await createContactsApi(c, await resolveVendorSettings(c, {}));
    const e = await api.upsertContacts([{ external_id: 'x', custom_attributes: { age: 'old' } }]).catch((err) => err);
    expect([e.code, e.details.status]).toEqual(['ERR_VENDOR_REJECTED', 400]);
    expect(e.details.issues.length).toBeGreaterThan(0);
  });

  it('chat streams, and the conversation shows up for the user', async () => {
    const { ctx } = await setup();
    let r = await runCli(['chat', 'Hello there', '--user-id', 'user_1'], ctx());
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim().length).toBeGreaterThan(0);
    r = await runCli(['chat', 'Hello again', '--user-id', 'user_1', '--json'], ctx());
    const doc = r.json();
    expect(doc).toMatchObject({ userId: 'user_1', provider: 'chatbase', streamed: true });
    expect(typeof doc.conversationId).toBe('string');
    expect(doc.text.length).toBeGreaterThan(0);
    r = await runCli(['chat', 'x', '--user-id', 'user_1', '--no-stream', '--json'], ctx());
    expect(r.json()).toMatchObject({ streamed: false, userId: 'user_1' });
    r = await runCli(['conversations', 'list', '--user-id', 'user_1', '--limit', '1', '--all', '--json'], ctx());
    expect(r.json().conversations).toHaveLength(3);
    expect(r.json().conversations.map((c: { id: unknown }) => String(c.id))).toContain(doc.conversationId);
  });

  it('a stream that ends with an error frame: exit 1, ERR_VENDOR_STREAM', async () => {
    const { ctx } = await setup();
    const r = await runCli(['chat', '/error', '--user-id', 'u1', '--json'], ctx());
    expect([r.exitCode, r.json().error.code]).toEqual([1, 'ERR_VENDOR_STREAM']);
    // The answer never came, so the conversation holds the user's message alone.
    const list = await runCli(['conversations', 'list', '--user-id', 'u1', '--json'], ctx());
    expect(list.json().conversations).toMatchObject([{ title: '/error', messageCount: 1 }]);
  });

  it('a wrong key: exit 4 from every command, and whoami --check says so', async () => {
    const { ctx } = await setup({}, { CHATID_API_KEY: 'sk_wrong' });
    for (const argv of [['contacts', 'list'], ['attributes', 'list'], ['chat', 'hi', '--user-id', 'u'], ['conversations', 'list', '--user-id', 'u'], ['whoami', '--check']]) {
      const r = await runCli([...argv, '--json'], ctx());
      expect([argv.join(' '), r.exitCode]).toEqual([argv.join(' '), 4]);
    }
  });

  it('whoami --check with the right key: exit 0', async () => {
    const { ctx } = await setup();
    const r = await runCli(['whoami', '--check', '--json'], ctx());
    expect([r.exitCode, r.json().check.ok, r.json().check.endpoint]).toEqual([0, true, 'GET /api/v1/get-chatbots']);
  });

  it('whoami --check with a key scoped to another agent, or an unknown agent: not "accepted" (exit 1), as chat would fail', async () => {
    const { ctx } = await setup({ agentIds: ['a', 'b'], keyScopes: { k_b: { agents: ['b'] } } }, { CHATID_API_KEY: 'k_b', CHATID_AGENT_ID: 'a' });
    const r = await runCli(['whoami', '--check', '--json'], ctx());
    expect([r.exitCode, r.json().check.ok, r.json().error.code]).toEqual([1, false, 'ERR_AGENT_NOT_FOUND']);
    expect(r.json().error.message).toMatch(/agent a is not among the 1 chatbot it can use \(b\)/);
    expect((await runCli(['chat', 'hi', '--user-id', 'u1', '--json'], ctx())).exitCode).toBe(4);
    const ok = await runCli(['whoami', '--check', '--json', '--agent-id', 'b'], ctx());
    expect([ok.exitCode, ok.json().check.detail]).toEqual([0, '1 chatbot(s), agent b among them']);
    const unknown = await runCli(['whoami', '--check', '--json', '--agent-id', 'zz'], ctx());
    expect([unknown.exitCode, unknown.json().error.code]).toEqual([1, 'ERR_AGENT_NOT_FOUND']);
  });

  it('an unknown agent: 404 with the vendor message', async () => {
    const { ctx } = await setup({}, { CHATID_AGENT_ID: 'nope' });
    const r = await runCli(['attributes', 'list', '--json'], ctx());
    expect([r.exitCode, r.json().error.status]).toEqual([1, 404]);
  });
});

describe('Bookbag sandbox', () => {
  it('chat with a numeric agent, continue the conversation by its integer id', async () => {
    const { sb, ctx } = await setup({ provider: 'bookbag' });
    expect(sb.agentIds[0]).toBe(SANDBOX_BOOKBAG_AGENT_ID);
    const first = (await runCli(['chat', 'hi', '--user-id', 'bb_user', '--json'], ctx())).json();
    expect(first).toMatchObject({ provider: 'bookbag', userId: 'bb_user' });
    // Bookbag conversation ids are integers: chat and conversations list give the same number.
    expect(Number.isSafeInteger(first.conversationId)).toBe(true);
    const second = (await runCli(['chat', 'more', '--user-id', 'bb_user', '--conversation-id', String(first.conversationId), '--json'], ctx())).json();
    expect(second.conversationId).toBe(first.conversationId);
    const convs = (await runCli(['conversations', 'list', '--user-id', 'bb_user', '--json'], ctx())).json();
    expect(convs.conversations.map((c: { id: unknown }) => c.id)).toEqual([first.conversationId]);
    const bad = await runCli(['chat', 'more', '--conversation-id', 'abc', '--json'], ctx());
    expect([bad.exitCode, bad.json().error.code]).toEqual([2, 'ERR_CHAT_CONVERSATION_ID']);
  });
  it('contacts upsert by external id', async () => {
    const { ctx } = await setup({ provider: 'bookbag' });
    const c = ctx();
    const api = await createContactsApi(c, await resolveVendorSettings(c, {}));
    await api.upsertContacts([{ external_id: 'a', name: 'First' }]);
    await api.upsertContacts([{ external_id: 'a', name: 'Second' }]);
    const r = await runCli(['contacts', 'get', 'a', '--json'], ctx());
    expect(r.json().contact.name).toBe('Second');
  });
});

describe('OpenCX and Replyful sandbox', () => {
  it('OpenCX: token sign prints the minted token; whoami --check passes; a wrong key exits 4', async () => {
    const { ctx } = await setup({}, { CHATID_PROVIDER: 'opencx' });
    let r = await runCli(['token', 'sign', '--email', 'ann@example.com', '--name', 'Ann', '--json'], ctx());
    expect(r.exitCode).toBe(0);
    expect(r.json().token.split('.')).toHaveLength(3);
    r = await runCli(['whoami', '--check', '--json'], ctx());
    expect([r.exitCode, r.json().check.ok]).toEqual([0, true]);
    const bad = createTestCtx({ env: { CHATID_PROVIDER: 'opencx', CHATID_BASE_URL: sb!.url, CHATID_API_KEY: 'ocx_live_wrong' }, dispatcher: agent });
    r = await runCli(['whoami', '--check', '--json'], bad);
    expect(r.exitCode).toBe(4);
  });
  it('Replyful: whoami --check uses GET /v1/conversations?limit=1', async () => {
    const { sb, ctx } = await setup({}, { CHATID_PROVIDER: 'replyful' });
    const r = await runCli(['whoami', '--check', '--json'], ctx());
    expect([r.exitCode, r.json().check.ok]).toEqual([0, true]);
    expect(sb.requests.map((q) => `${q.method} ${q.path}`)).toContain('GET /v1/conversations');
  });
});

describe('faults and rate limits, measured at the server', () => {
  it('contacts writes survive 429, 5xx and resets: every contact stored once, with its values', async () => {
    const { sb, ctx } = await setup({ faultRate: 0.4, seed: 3, retryAfterSeconds: 0 });
    const c = ctx();
    const api = await createContactsApi(c, await resolveVendorSettings(c, {}), { retry: { maxRetries: 20 } });
    for (let b = 0; b < 10; b++) {
      await api.upsertContacts(Array.from({ length: 50 }, (_, i) => ({ external_id: `f${b}_${i}`, name: `N${b}_${i}` })));
    }
    sb.setFaults({ faultRate: 0 });
    const all = (await runCli(['contacts', 'list', '--all', '--per-page', '1000', '--json'], ctx())).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(all).toHaveLength(500);
    expect(new Set(all.map((x: { external_id: string }) => x.external_id)).size).toBe(500);
    expect(all.every((x: { external_id: string; name: string }) => x.name === `N${x.external_id.slice(1)}`)).toBe(true);
    expect(sb.requests.some((q) => q.fault !== undefined)).toBe(true);
    expect(api.stats.retries).toBe(sb.requests.filter((q) => q.fault !== undefined || q.status >= 500 || q.status === 429).length);
  });

  it('Retry-After (injected 429 and 503): the retry arrives no earlier than promised', async () => {
    const { sb, ctx } = await setup({ faultRate: 1, faults: ['429'], retryAfterSeconds: 1 });
    const c = realTime(ctx());
    const inner = c.sleep;
    // The first wait turns the faults off, so the retry is answered normally.
    c.sleep = async (ms, signal) => {
      sb.setFaults({ faultRate: 0 });
      await inner(ms, signal);
    };
    const r = await runCli(['attributes', 'list', '--json'], c);
    expect(r.exitCode).toBe(0);
    const log = sb.requests.filter((q) => q.path.includes('custom-attributes'));
    expect(log.map((q) => q.status)).toEqual([429, 200]);
    expect(log[1]!.at - log[0]!.at).toBeGreaterThanOrEqual(1000);
    // One wait, up to the promised time: the limiter holds until (answer's time + 1 s), so a
    // millisecond spent between reading the answer and waiting comes off the wait (it was
    // [999] in one run), while the gap seen at the server stays ≥ 1000 ms (above).
    expect(c.sleeps).toHaveLength(1);
    expect(c.sleeps[0]).toBeGreaterThan(950);
    expect(c.sleeps[0]).toBeLessThanOrEqual(1000);

    sb.requests.length = 0;
    sb.setFaults({ faultRate: 1, faults: ['503'], retryAfterSeconds: 2 });
    const c2 = realTime(ctx());
    const inner2 = c2.sleep;
    c2.sleep = async (ms, signal) => {
      sb.setFaults({ faultRate: 0 });
      await inner2(ms, signal);
    };
    expect((await runCli(['attributes', 'list'], c2)).exitCode).toBe(0);
    expect(sb.requests.map((q) => q.status)).toEqual([503, 200]);
    expect(sb.requests[1]!.at - sb.requests[0]!.at).toBeGreaterThanOrEqual(2000);
  });

  it('Retry-After as an HTTP-date: the retry arrives no earlier than that date', async () => {
    const { sb, ctx } = await setup({ faultRate: 1, faults: ['429'], retryAfterSeconds: 2, retryAfterFormat: 'http-date' });
    const c = realTime(ctx());
    const inner = c.sleep;
    c.sleep = async (ms, signal) => {
      sb.setFaults({ faultRate: 0 });
      await inner(ms, signal);
    };
    expect((await runCli(['attributes', 'list'], c)).exitCode).toBe(0);
    const [first, second] = sb.requests;
    expect([first!.status, second!.status]).toEqual([429, 200]);
    // The sandbox promises ceil((arrival + 2 s) / 1 s): whole seconds, as HTTP-dates are.
    const promised = Math.ceil((first!.at + 2000) / 1000) * 1000;
    expect(second!.at).toBeGreaterThanOrEqual(promised);
    expect(c.sleeps).toHaveLength(1);
  });

  it("the server's own limit: after each 429 the next request waits the promised time and is accepted", async () => {
    const { sb, ctx } = await setup({ rateLimit: { limit: 3, windowMs: 1500 } });
    const c = realTime(ctx());
    // Client limiter far above the server's, so the server has to say no.
    const r = await runCli(['attributes', 'list', '--rate-limit', '1000/1s', '--json'], c);
    expect(r.exitCode).toBe(0);
    for (let i = 0; i < 7; i++) expect((await runCli(['attributes', 'list', '--rate-limit', '1000/1s'], c)).exitCode).toBe(0);
    const st = sb.requests.map((q) => q.status);
    expect(st.filter((s) => s === 200)).toHaveLength(8);
    expect(st).toContain(429);
    // Never two refusals in a row: every wait was long enough by the server's own clock.
    for (let i = 1; i < st.length; i++) if (st[i - 1] === 429) expect(st[i]).toBe(200);
  });

  it('the client-side limiter keeps a burst under the server limit: no 429 at all', async () => {
    const { sb, ctx } = await setup({ rateLimit: { limit: 4, windowMs: 1000 } });
    const c = realTime(ctx());
    const api = await createContactsApi(c, await resolveVendorSettings(c, {}), { rateLimit: { limit: 4, windowMs: 1100 } });
    await Promise.all(Array.from({ length: 10 }, (_, i) => api.upsertContacts([{ external_id: `r${i}` }])));
    expect(sb.requests.filter((q) => q.status === 429)).toHaveLength(0);
    expect(sb.requests).toHaveLength(10);
    expect(api.stats.waitedMs).toBeGreaterThan(0);
  });

  it('contacts sync with --rate-limit below the server limit: no 429 at any concurrency (requests spread, not sent at each window edge)', async () => {
    // With the allowance sent at each window edge, 4/1s against the server's 5/1s with 8
    // workers drew 429s (7 retries in 30 requests at 4/2s): arrivals trail starts unevenly.
    const { sb, ctx } = await setup({ rateLimit: { limit: 5, windowMs: 1000 } });
    const c = realTime(ctx());
    const dir = await mkdtemp(join(tmpdir(), 'chatid-spread-'));
    try {
      await writeFile(join(dir, 'in.csv'), `external_id\n${Array.from({ length: 28 }, (_, i) => `s${i}`).join('\n')}\n`);
      c.cwd = dir;
      const r = await runCli(['contacts', 'sync', 'in.csv', '--batch-size', '2', '--concurrency', '8', '--rate-limit', '4/1s', '--json'], c);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.json()).toMatchObject({ read: 28, synced: 28, batches: 14, retries: 0 });
      const writes = sb.requests.filter((q) => q.method === 'POST');
      expect(writes.map((q) => q.status)).toEqual(Array(14).fill(200));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a Retry-After beyond --max-wait stops at once with a clear message', async () => {
    const { sb, ctx } = await setup({ faultRate: 1, faults: ['429'], retryAfterSeconds: 120 });
    const r = await runCli(['attributes', 'list', '--json'], ctx());
    expect([r.exitCode, r.json().error.code]).toEqual([1, 'ERR_VENDOR_RATE_LIMIT']);
    expect(r.json().error.message).toMatch(/120 s/);
    expect(sb.requests).toHaveLength(1);
  });
});
