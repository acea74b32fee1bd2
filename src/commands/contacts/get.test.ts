import { afterEach, describe, expect, it } from 'vitest';
import { createTestCtx, runCli, type TestCtx } from '../../../test/helpers/test-ctx.js';

const BASE = 'http://cb.test';
const ENV = { CHATID_PROVIDER: 'chatbase', CHATID_API_KEY: 'cb_key', CHATID_AGENT_ID: 'bot1', CHATID_BASE_URL: BASE };
const contact = { id: 'id1', external_id: 'User_1', name: 'Ann', email: 'ann@example.com', phonenumber: null, custom_attributes: { plan: 'pro', seats: 3 } };
let ctx: TestCtx;
afterEach(() => ctx.mockAgent.assertNoPendingInterceptors());

describe('contacts get', () => {
  it('prints the contact, attributes included', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts/User_1' }).reply(200, { message: 'Success', data: contact });
    const r = await runCli(['contacts', 'get', 'User_1'], ctx);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('external_id  User_1\nid           id1\nname         Ann\nemail        ann@example.com\nphonenumber  -\nattr.plan    pro\nattr.seats   3\n');
  });
  it('a record without external id, with null or non-string fields, prints "-" or the value', async () => {
    ctx = createTestCtx({ env: ENV });
    const odd = { id: 7, external_id: null, name: null, email: 'ann@example.com', phonenumber: 4915112345, custom_attributes: { vip: null, 'n\u001b]0;x\u0007': 'a\nb' }, stripe_accounts: [{ stripe_id: 'cus_1' }] };
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts/User_1' }).reply(200, { message: 'Success', data: odd });
    const r = await runCli(['contacts', 'get', 'User_1'], ctx);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toBe('external_id             -\nid                      7\nname                    -\nemail                   ann@example.com\nphonenumber             4915112345\nattr.vip                null\nattr.n\\u001b]0;x\\u0007  a\\nb\nstripe                  - cus_1\n');
  });
  it('--json gives {contact}', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts/User_1' }).reply(200, { message: 'Success', data: contact });
    expect((await runCli(['contacts', 'get', 'User_1', '--json'], ctx)).json()).toEqual({ contact });
  });
  it('404 is ERR_CONTACT_NOT_FOUND, exit 1, with the vendor message', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts/user_1' }).reply(404, { message: 'Contact not found' });
    const r = await runCli(['contacts', 'get', 'user_1', '--json'], ctx);
    const e = r.json().error;
    expect([r.exitCode, e.code, e.status, e.vendorMessage]).toEqual([1, 'ERR_CONTACT_NOT_FOUND', 404, 'Contact not found']);
    expect(e.hint).toMatch(/case-sensitive/);
  });
  it('404 "Chatbot not found" is about the agent, not the contact: the vendor error stays, pointing at --agent-id', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts/user_1' }).reply(404, { message: 'Chatbot not found' });
    const r = await runCli(['contacts', 'get', 'user_1', '--json'], ctx);
    const e = r.json().error;
    expect([r.exitCode, e.code, e.status, e.vendorMessage]).toEqual([1, 'ERR_VENDOR_REJECTED', 404, 'Chatbot not found']);
    expect(e.message).not.toMatch(/No contact/);
    expect(e.hint).toMatch(/agent id/);
  });
  it('404 for an id with whitespace around it: the hint says so and shows the trimmed id', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts/%20user_1%09' }).reply(404, { message: 'Contact not found' });
    const e = (await runCli(['contacts', 'get', ' user_1\t', '--json'], ctx)).json().error;
    expect(e.code).toBe('ERR_CONTACT_NOT_FOUND');
    expect(e.message).toBe('No contact with external id " user_1\\t" on agent bot1 (Contact not found).');
    expect(e.hint).toBe('The id has whitespace around it, which external ids (and contacts sync) do not: try `chatid contacts get user_1`.');
  });
  it('a missing argument at a terminal is exit 2 (ERR_CONTACTS_USER_ID_REQUIRED), as is an empty stdin', async () => {
    ctx = createTestCtx({ env: ENV, stdinTTY: true });
    let r = await runCli(['contacts', 'get', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_CONTACTS_USER_ID_REQUIRED']);
    ctx = createTestCtx({ env: ENV, stdin: '' });
    r = await runCli(['contacts', 'get', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_CONTACTS_USER_ID_REQUIRED']);
  });
  // cli.md §4: an id argument given as "-" or left out while stdin is not a TTY is read from stdin.
  it.each([[['contacts', 'get']], [['contacts', 'get', '-']]])('%j reads the id from stdin (final newline dropped)', async (argv) => {
    ctx = createTestCtx({ env: ENV, stdin: 'User_1\n' });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts/User_1' }).reply(200, { message: 'Success', data: contact });
    const r = await runCli([...argv, '--json'], ctx);
    expect([r.exitCode, r.json()]).toEqual([0, { contact }]);
  });
  it('several ids on stdin are exit 2 (ERR_CONTACTS_STDIN_LINES), with a hint that fits contacts get', async () => {
    ctx = createTestCtx({ env: ENV, stdin: 'u1\nu2\n' });
    const r = await runCli(['contacts', 'get', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_CONTACTS_STDIN_LINES']);
    expect(r.json().error.hint).not.toContain('--batch');
  });
  it('an id on stdin that is not UTF-8, or too large, is exit 2 before any request, with hints that fit contacts get', async () => {
    ctx = createTestCtx({ env: ENV, stdin: Buffer.from([0x75, 0xe9, 0x0a]) });
    const bad = await runCli(['contacts', 'get', '--json'], ctx);
    expect([bad.exitCode, bad.json().error.code]).toEqual([2, 'ERR_CONTACTS_STDIN_NOT_TEXT']);
    ctx = createTestCtx({ env: ENV, stdin: 'u'.repeat(70_000) });
    const big = await runCli(['contacts', 'get', '--json'], ctx);
    expect([big.exitCode, big.json().error.code]).toEqual([2, 'ERR_INPUT_TOO_LARGE']);
    expect(big.json().error.hint).not.toContain('--batch');
    expect(big.json().error.hint).toContain('xargs -n1 chatid contacts get');
  });
  it('an id given as an argument leaves stdin alone', async () => {
    ctx = createTestCtx({ env: ENV, stdin: 'other\n' });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts/User_1' }).reply(200, { data: contact });
    expect((await runCli(['contacts', 'get', 'User_1', '--json'], ctx)).json()).toEqual({ contact });
  });
  it('no agent id is exit 2 (ERR_AGENT_ID_REQUIRED)', async () => {
    ctx = createTestCtx({ env: { ...ENV, CHATID_AGENT_ID: undefined } });
    const r = await runCli(['contacts', 'get', 'u1', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_AGENT_ID_REQUIRED']);
  });
  it('uses the profile when the environment says nothing', async () => {
    ctx = createTestCtx({ profiles: { dev: { provider: 'bookbag', agentId: '7', baseUrl: 'http://bb.test', apiKey: 'oc_test_x' } }, activeProfile: 'dev' });
    ctx.mockAgent.get('http://bb.test').intercept({ path: '/api/v1/chatbots/7/contacts/u1', headers: { authorization: 'Bearer oc_test_x' } }).reply(200, { data: { ...contact, external_id: 'u1' } });
    expect((await runCli(['contacts', 'get', 'u1', '--json'], ctx)).json().contact.external_id).toBe('u1');
  });
});
