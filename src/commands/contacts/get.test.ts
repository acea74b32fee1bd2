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
  it('a missing argument is exit 2', async () => {
    ctx = createTestCtx({ env: ENV });
    expect((await runCli(['contacts', 'get'], ctx)).exitCode).toBe(2);
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
