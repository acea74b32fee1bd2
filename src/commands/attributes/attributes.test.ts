import { afterEach, describe, expect, it } from 'vitest';
import { createTestCtx, runCli, type TestCtx } from '../../../test/helpers/test-ctx.js';

const BASE = 'http://cb.test';
const ENV = { CHATID_PROVIDER: 'chatbase', CHATID_API_KEY: 'cb_key', CHATID_AGENT_ID: 'bot1', CHATID_BASE_URL: BASE };
let ctx: TestCtx;
afterEach(() => ctx.mockAgent.assertNoPendingInterceptors());

describe('attributes list', () => {
  it('prints the schema', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/custom-attributes' }).reply(200, {
      message: 'Success',
      data: [
        { name: 'plan', type: 'text', label: 'Plan' },
        { name: 'seats', type: 'number', label: 'Seats', archived: true },
      ],
    });
    const r = await runCli(['attributes', 'list'], ctx);
    expect([r.exitCode, r.stdout]).toEqual([0, 'NAME   TYPE    LABEL\nplan   text    Plan\nseats  number  Seats  archived\n']);
  });
  it('--json gives {attributes}', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/custom-attributes' }).reply(200, { data: [] });
    expect((await runCli(['attributes', 'list', '--json'], ctx)).json()).toEqual({ attributes: [] });
  });
  it('404 Chatbot not found: exit 1 with the vendor message', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/custom-attributes' }).reply(404, { message: 'Chatbot not found' });
    const r = await runCli(['attributes', 'list', '--json'], ctx);
    expect([r.exitCode, r.json().error.code, r.json().error.vendorMessage]).toEqual([1, 'ERR_VENDOR_REJECTED', 'Chatbot not found']);
    expect(r.json().error.hint).toMatch(/agent id/);
  });
  it('OpenCX has no attributes: exit 2', async () => {
    ctx = createTestCtx({ env: { ...ENV, CHATID_PROVIDER: 'opencx' } });
    const r = await runCli(['attributes', 'list', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_NOT_SUPPORTED']);
  });
});

describe('attributes create', () => {
  it('posts the attribute, label defaulting to the name', async () => {
    ctx = createTestCtx({ env: ENV });
    const attr = { name: 'signup_date', type: 'date', label: 'signup_date', description: 'First login' };
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/custom-attributes', method: 'POST', body: JSON.stringify(attr) }).reply(200, { message: 'Success', data: attr });
    const r = await runCli(['attributes', 'create', '--name', 'signup_date', '--type', 'date', '--description', 'First login', '--json'], ctx);
    expect([r.exitCode, r.json()]).toEqual([0, { attribute: attr }]);
  });
  it('human output', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/custom-attributes', method: 'POST' }).reply(200, { data: { name: 'plan', type: 'text', label: 'Plan' } });
    expect((await runCli(['attributes', 'create', '--name', 'plan', '--type', 'text', '--label', 'Plan'], ctx)).stdout).toBe('Created attribute plan (text).\n');
  });
  it.each([
    [['--name', '1plan', '--type', 'text'], 'ERR_ATTRIBUTE_NAME'],
    [['--name', 'plan', '--type', 'string'], 'ERR_ATTRIBUTE_TYPE'],
    [['--name', 'plan'], 'ERR_USAGE_MISSING_MANDATORY_OPTION_VALUE'],
    // A blank label would show the attribute with no name in the dashboard.
    [['--name', 'plan', '--type', 'text', '--label', ''], 'ERR_ATTRIBUTE_LABEL'],
    [['--name', 'plan', '--type', 'text', '--label', '  '], 'ERR_ATTRIBUTE_LABEL'],
  ])('refuses %j locally with exit 2', async (args, code) => {
    ctx = createTestCtx({ env: ENV });
    const r = await runCli(['attributes', 'create', ...args, '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, code]);
  });
  it('a vendor 400 ("Invalid name or type") keeps its message', async () => {
    ctx = createTestCtx({ env: { ...ENV, CHATID_PROVIDER: 'bookbag', CHATID_AGENT_ID: '42' } });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/42/custom-attributes', method: 'POST' }).reply(400, { message: 'Invalid name or type' });
    const r = await runCli(['attributes', 'create', '--name', 'plan', '--type', 'text', '--json'], ctx);
    expect([r.exitCode, r.json().error.vendorMessage, r.json().error.status]).toEqual([1, 'Invalid name or type', 400]);
  });
});
