import { afterEach, describe, expect, it } from 'vitest';
import { createTestCtx, runCli, type TestCtx } from '../../test/helpers/test-ctx.js';

const BASE = 'http://bb.test';
const ENV = { CHATID_PROVIDER: 'bookbag', CHATID_API_KEY: 'oc_test_k', CHATID_BASE_URL: BASE };
let ctx: TestCtx;
afterEach(() => ctx.mockAgent.assertNoPendingInterceptors());

// profile add refuses a non-numeric Bookbag agent id; an id from the environment or a profile
// written for another provider gets the same rule where every vendor command opens its client.
describe('the agent id rule where vendor clients are opened', () => {
  it.each([
    [['contacts', 'list']],
    [['contacts', 'get', 'u1']],
    [['attributes', 'list']],
    [['chat', 'hi', '--user-id', 'u1']],
    [['conversations', 'list', '--user-id', 'u1']],
    [['whoami', '--check']],
  ])('Bookbag with CHATID_AGENT_ID=agA: %j exits 2 before any request', async (argv) => {
    ctx = createTestCtx({ env: { ...ENV, CHATID_AGENT_ID: 'agA' } });
    const r = await runCli([...argv, '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_AGENT_ID_INVALID']);
    expect(r.json().error.message).toBe('Invalid agent id from CHATID_AGENT_ID: Bookbag agent ids are numeric, "agA" is not.');
  });

  it('CHATID_PROVIDER=bookbag over a Chatbase profile: names the profile and the override in the hint', async () => {
    ctx = createTestCtx({
      env: { CHATID_PROVIDER: 'bookbag' },
      profiles: { dev: { provider: 'chatbase', agentId: 'agA', baseUrl: BASE, apiKey: 'cb_key' } },
      activeProfile: 'dev',
    });
    const r = await runCli(['contacts', 'list', '--json'], ctx);
    const e = r.json().error;
    expect([r.exitCode, e.code]).toEqual([2, 'ERR_AGENT_ID_INVALID']);
    expect(e.message).toContain('from profile "dev"');
    expect(e.hint).toContain('unset CHATID_PROVIDER');
  });

  it('--agent-id is checked the same way, and named', async () => {
    ctx = createTestCtx({ env: ENV });
    const r = await runCli(['contacts', 'list', '--agent-id', '4 2', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_AGENT_ID_INVALID']);
    expect(r.json().error.message).toMatch(/^Invalid agent id from --agent-id:/);
  });

  it.each([
    [['chat', 'hi', '--user-id', 'u1'], { CHATID_AGENT_ID: 'abc def' }, 'CHATID_AGENT_ID'],
    [['contacts', 'list', '--agent-id', 'abc def'], {}, '--agent-id'],
    [['attributes', 'list', '--agent-id', 'abc\u001b[2Jdef'], {}, '--agent-id'],
  ])('Chatbase: %j with whitespace or a control character in the id (%j) exits 2 before any request', async (argv, env, from) => {
    ctx = createTestCtx({ env: { ...ENV, CHATID_PROVIDER: 'chatbase', ...env } });
    const r = await runCli([...argv, '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_AGENT_ID_INVALID']);
    expect(r.json().error.message).toMatch(new RegExp(`^Invalid agent id from ${from}: the agent id "abc(\\\\u001b\\[2J| )def" has (a space|an escape character) inside`));
    expect(r.json().error.hint).toMatch(/^Copy the id from the Chatbase dashboard/);
    const human = await runCli(argv, createTestCtx({ env: { ...ENV, CHATID_PROVIDER: 'chatbase', ...env } }));
    expect(human.exitCode).toBe(2);
    expect(human.stderr).not.toContain('\u001b');
  });

  it('a numeric Bookbag id and a non-numeric Chatbase id still reach the vendor', async () => {
    ctx = createTestCtx({ env: { ...ENV, CHATID_AGENT_ID: '42' } });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/42/custom-attributes' }).reply(200, { data: [] });
    expect((await runCli(['attributes', 'list', '--json'], ctx)).exitCode).toBe(0);
    ctx = createTestCtx({ env: { ...ENV, CHATID_PROVIDER: 'chatbase', CHATID_AGENT_ID: 'agA' } });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/agA/custom-attributes' }).reply(200, { data: [] });
    expect((await runCli(['attributes', 'list', '--json'], ctx)).exitCode).toBe(0);
  });
});

describe('--verbose lines of the vendor clients', () => {
  it('a wait is said in whole milliseconds, not with the limiter\'s fractions', async () => {
    const { clientOptions, resolveVendorSettings } = await import('./factory.js');
    ctx = createTestCtx({ env: { ...ENV, CHATID_AGENT_ID: '42' } });
    ctx.ui.verbose = true;
    const o = await clientOptions(ctx, await resolveVendorSettings(ctx, {}));
    o.onWait?.({ ms: 4757.5943482631565, reason: 'client rate limit', attempt: 0 });
    expect(ctx.stderr.text).toContain('waiting 4758 ms before the next request (client rate limit)');
  });
});
