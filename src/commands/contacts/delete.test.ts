import { afterEach, describe, expect, it } from 'vitest';
import { CancelledError } from '../../cli/errors.js';
import { createTestCtx, runCli, type TestCtx } from '../../../test/helpers/test-ctx.js';

const BASE = 'http://cb.test';
const ENV = { CHATID_PROVIDER: 'chatbase', CHATID_API_KEY: 'cb_key', CHATID_AGENT_ID: 'bot1', CHATID_BASE_URL: BASE };
const contact = { id: 'id1', external_id: 'u1', name: 'Ann' };
const tty = { stdinTTY: true, stdoutTTY: true, stderrTTY: true };
let ctx: TestCtx;
afterEach(() => ctx.mockAgent.assertNoPendingInterceptors());

describe('contacts delete', () => {
  it('--yes deletes without asking (200 with the record)', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts/u1', method: 'DELETE' }).reply(200, { message: 'Success', data: contact });
    const r = await runCli(['contacts', 'delete', 'u1', '--yes', '--json'], ctx);
    expect([r.exitCode, r.json()]).toEqual([0, { deleted: true, externalId: 'u1', contact }]);
  });
  it('accepts a 204', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts/u1', method: 'DELETE' }).reply(204, '');
    const r = await runCli(['contacts', 'delete', 'u1', '-y'], ctx);
    expect([r.exitCode, r.stdout]).toEqual([0, 'Deleted contact u1.\n']);
  });
  it('asks on a terminal, and deletes on yes', async () => {
    ctx = createTestCtx({ env: ENV, ...tty, answers: [true] });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts/u1', method: 'DELETE' }).reply(200, { data: contact });
    const r = await runCli(['contacts', 'delete', 'u1'], ctx);
    expect(r.exitCode).toBe(0);
    expect(ctx.asked[0]).toMatch(/Delete contact "u1"/);
  });
  it('a "no" deletes nothing and exits 130', async () => {
    ctx = createTestCtx({ env: ENV, ...tty, answers: [false] });
    const r = await runCli(['contacts', 'delete', 'u1'], ctx);
    expect(r.exitCode).toBe(130);
  });
  it('Ctrl-C at the prompt exits 130', async () => {
    ctx = createTestCtx({ env: ENV, ...tty, answers: [new CancelledError()] });
    expect((await runCli(['contacts', 'delete', 'u1'], ctx)).exitCode).toBe(130);
  });
  it('without a terminal and without --yes: exit 2, nothing sent', async () => {
    ctx = createTestCtx({ env: ENV });
    const r = await runCli(['contacts', 'delete', 'u1', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_CONFIRMATION_REQUIRED']);
  });
  it('404 is ERR_CONTACT_NOT_FOUND', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts/zz', method: 'DELETE' }).reply(404, { message: 'Contact not found' });
    const r = await runCli(['contacts', 'delete', 'zz', '--yes', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([1, 'ERR_CONTACT_NOT_FOUND']);
  });
  it('404 "Chatbot not found" (a wrong agent id) is not reported as a missing contact', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts/zz', method: 'DELETE' }).reply(404, { message: 'Chatbot not found' });
    const e = (await runCli(['contacts', 'delete', 'zz', '--yes', '--json'], ctx)).json().error;
    expect([e.code, e.vendorMessage]).toEqual(['ERR_VENDOR_REJECTED', 'Chatbot not found']);
    expect(e.hint).toMatch(/agent id/);
  });
  it('a 403 exits 4', async () => {
    ctx = createTestCtx({ env: ENV });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts/u1', method: 'DELETE' }).reply(403, { message: 'Forbidden' });
    expect((await runCli(['contacts', 'delete', 'u1', '--yes'], ctx)).exitCode).toBe(4);
  });

  it.each([[['contacts', 'delete', '--yes']], [['contacts', 'delete', '-', '--yes']]])('%j reads the id from stdin (cli.md §4)', async (argv) => {
    ctx = createTestCtx({ env: ENV, stdin: 'u1\n' });
    ctx.mockAgent.get(BASE).intercept({ path: '/api/v1/chatbots/bot1/contacts/u1', method: 'DELETE' }).reply(200, { data: contact });
    const r = await runCli([...argv, '--json'], ctx);
    expect([r.exitCode, r.json()]).toEqual([0, { deleted: true, externalId: 'u1', contact }]);
  });
  it('an id from stdin still needs --yes (stdin is not a terminal to ask on); several ids are refused', async () => {
    ctx = createTestCtx({ env: ENV, stdin: 'u1\n' });
    let r = await runCli(['contacts', 'delete', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_CONFIRMATION_REQUIRED']);
    ctx = createTestCtx({ env: ENV, stdin: 'u1\nu2' });
    r = await runCli(['contacts', 'delete', '--yes', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_CONTACTS_STDIN_LINES']);
    expect(r.json().error.hint).toContain('xargs -n1 chatid contacts delete --yes');
  });
  it('refuses an empty or dot-segment id or agent id with exit 2, sending nothing (URL resolution would move the DELETE)', async () => {
    const cases: Array<[Record<string, string>, string, string]> = [
      [{}, '..', 'ERR_ID_INVALID'],
      [{}, '.', 'ERR_ID_INVALID'],
      [{}, '', 'ERR_ID_INVALID'],
      [{ CHATID_AGENT_ID: '..' }, 'u1', 'ERR_AGENT_ID_INVALID'],
      [{ CHATID_AGENT_ID: '.' }, 'u1', 'ERR_AGENT_ID_INVALID'],
    ];
    for (const [env, id, code] of cases) {
      ctx = createTestCtx({ env: { ...ENV, ...env } });
      ctx.mockAgent.disableNetConnect();
      const r = await runCli(['contacts', 'delete', id, '--yes', '--json'], ctx);
      expect([id, r.exitCode, r.json().error.code]).toEqual([id, 2, code]);
      // A bad agent id is refused where the settings are resolved (vendors/factory.ts), naming its source.
      expect(r.json().error.message).toMatch(code === 'ERR_ID_INVALID' ? /cannot name a resource in a URL path, and nothing was sent/ : /^Invalid agent id from CHATID_AGENT_ID: .*URL path/);
    }
  });
});
