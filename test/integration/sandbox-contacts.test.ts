import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { type Sandbox, SANDBOX_API_KEY, SANDBOX_BOOKBAG_AGENT_ID, SANDBOX_CHATBASE_AGENT_ID, type SandboxOptions, startSandbox } from '../../src/sandbox/index.js';

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

async function start(o: SandboxOptions = {}): Promise<Sandbox> {
  sb = await startSandbox({ port: 0, ...o });
  return sb;
}

const auth = { authorization: `Bearer ${SANDBOX_API_KEY}` };

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = auth) {
  const res = await request(`${sb!.url}${path}`, {
    method: method as 'GET',
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, json, text };
}

const CB = `/api/v1/chatbots/${SANDBOX_CHATBASE_AGENT_ID}`;
const BB = `/api/v1/chatbots/${SANDBOX_BOOKBAG_AGENT_ID}`;
const ATTRS: SandboxOptions['attributes'] = [
  { name: 'plan', type: 'text' },
  { name: 'age', type: 'number' },
  { name: 'vip', type: 'boolean' },
  { name: 'since', type: 'date' },
  { name: 'old', type: 'text', archived: true },
];

describe('sandbox: Chatbase v1 contacts', () => {
  it('creates, upserts by external_id, keeps absent fields and deletes null ones', async () => {
    await start({ attributes: ATTRS });
    const r1 = await call('POST', `${CB}/contacts`, {
      users: [{ external_id: 'u1', name: 'Ann', email: 'ann@example.com', phonenumber: '+15550001', custom_attributes: { plan: 'pro', age: 31, vip: 'true', since: '2024-01-02', nope: 1 }, extra: 'dropped' }],
    });
    expect(r1.status).toBe(200);
    expect(r1.json.message).toBe('Success');
    expect(r1.json.data).toHaveLength(1);
    const c = r1.json.data[0];
    expect(c).toMatchObject({ external_id: 'u1', name: 'Ann', email: 'ann@example.com', phonenumber: '+15550001', custom_attributes: { plan: 'pro', age: 31, vip: true, since: '2024-01-02T00:00:00.000Z' } });
    expect(c.extra).toBeUndefined();
    expect(c.custom_attributes.nope).toBeUndefined();
    expect(typeof c.id).toBe('string');
    expect(typeof c.created_at).toBe('string');

    const r2 = await call('POST', `${CB}/contacts`, { users: [{ external_id: 'u1', name: null, custom_attributes: { age: null, vip: 0 } }] });
    expect(r2.status).toBe(200);
    const stored = sb!.state.contact(SANDBOX_CHATBASE_AGENT_ID, 'u1')!;
    expect(stored.id).toBe(c.id);
    expect(stored.name).toBeUndefined();
    expect(stored.email).toBe('ann@example.com');
    expect(stored.custom_attributes).toEqual({ plan: 'pro', vip: false, since: '2024-01-02T00:00:00.000Z' });
    expect(sb!.state.contacts(SANDBOX_CHATBASE_AGENT_ID)).toHaveLength(1);
  });

  it('rejects a wrongly typed or archived attribute with issues and stores nothing', async () => {
    await start({ attributes: ATTRS });
    const r = await call('POST', `${CB}/contacts`, {
      users: [{ external_id: 'ok' }, { external_id: 'bad', custom_attributes: { age: '31' } }, { external_id: 'arch', custom_attributes: { old: 'x' } }, { external_id: 'mail', email: 'not-an-email' }],
    });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({
      message: 'Invalid request body',
      issues: [
        { field: 'users.1.custom_attributes.age', message: 'Expected number, received string' },
        { field: 'users.2.custom_attributes.old', message: 'Custom attribute "old" is archived' },
        { field: 'users.3.email', message: 'Invalid email' },
      ],
    });
    expect(sb!.state.contacts(SANDBOX_CHATBASE_AGENT_ID)).toHaveLength(0);
    const arch = await call('POST', `${CB}/contacts`, { users: [{ external_id: 'a', custom_attributes: { old: null } }] });
    expect(arch.status).toBe(200);
  });

  it('requires external_id and 1..1000 users', async () => {
    await start();
    const missing = await call('POST', `${CB}/contacts`, { users: [{ name: 'x' }] });
    expect(missing.status).toBe(400);
    expect(missing.json.issues).toEqual([{ field: 'users.0.external_id', message: 'Required' }]);
    const none = await call('POST', `${CB}/contacts`, { users: [] });
    expect([none.status, none.json.issues[0].field]).toEqual([400, 'users']);
    const noBody = await call('POST', `${CB}/contacts`, 'not json');
    expect([noBody.status, noBody.json.message]).toEqual([400, 'Invalid request body']);
    const many = Array.from({ length: 1001 }, (_, i) => ({ external_id: `u${i}` }));
    const tooMany = await call('POST', `${CB}/contacts`, { users: many });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.issues).toEqual([{ field: 'users', message: 'Array must contain at most 1000 element(s)' }]);
    const full = await call('POST', `${CB}/contacts`, { users: many.slice(0, 1000) });
    expect(full.status).toBe(200);
    expect(full.json.data).toHaveLength(1000);
    expect(sb!.state.contacts(SANDBOX_CHATBASE_AGENT_ID)).toHaveLength(1000);
    expect(sb!.requests.at(-1)).toMatchObject({ method: 'POST', status: 200, items: 1000 });
  });

  it('refuses a create past the contact quota, but still updates existing contacts', async () => {
    await start({ contactQuota: 3 });
    expect((await call('POST', `${CB}/contacts`, { users: [{ external_id: 'a' }, { external_id: 'b' }] })).status).toBe(200);
    const over = await call('POST', `${CB}/contacts`, { users: [{ external_id: 'c' }, { external_id: 'd' }] });
    expect([over.status, over.json.issues[0].field]).toEqual([400, 'users']);
    expect(over.json.issues[0].message).toContain('quota');
    expect((await call('POST', `${CB}/contacts`, { users: [{ external_id: 'a', name: 'A' }, { external_id: 'c' }] })).status).toBe(200);
    expect(sb!.state.contacts(SANDBOX_CHATBASE_AGENT_ID)).toHaveLength(3);
  });

  it('answers 409 when an email belongs to another contact, also within one batch', async () => {
    await start();
    expect((await call('POST', `${CB}/contacts`, { users: [{ external_id: 'a', email: 'x@example.com' }] })).status).toBe(200);
    const r = await call('POST', `${CB}/contacts`, { users: [{ external_id: 'b', email: 'X@example.com' }] });
    expect(r.status).toBe(409);
    expect(r.json.issues).toEqual([{ field: 'users.0.email', message: 'Email already in use by another contact' }]);
    const inBatch = await call('POST', `${CB}/contacts`, { users: [{ external_id: 'c', email: 'c@example.com' }, { external_id: 'd', email: 'c@example.com' }] });
    expect([inBatch.status, inBatch.json.issues[0].field]).toEqual([409, 'users.1.email']);
    // Moving an email: a gives it up, b takes it in the same batch.
    const move = await call('POST', `${CB}/contacts`, { users: [{ external_id: 'a', email: null }, { external_id: 'b', email: 'x@example.com' }] });
    expect(move.status).toBe(200);
    expect(sb!.state.contact(SANDBOX_CHATBASE_AGENT_ID, 'b')!.email).toBe('x@example.com');
  });

  it('lists with pagination and validates per_page', async () => {
    await start();
    await call('POST', `${CB}/contacts`, { users: Array.from({ length: 25 }, (_, i) => ({ external_id: `u${i}` })) });
    const p = await call('GET', `${CB}/contacts?per_page=10&page=3`);
    expect(p.status).toBe(200);
    expect(p.json.total).toBe(25);
    expect(p.json.pages).toEqual({ page: 3, per_page: 10, total_pages: 3 });
    expect(p.json.data.map((c: any) => c.external_id)).toEqual(['u20', 'u21', 'u22', 'u23', 'u24']);
    const def = await call('GET', `${CB}/contacts`);
    expect(def.json.pages).toEqual({ page: 1, per_page: 100, total_pages: 1 });
    for (const q of ['per_page=9', 'per_page=1001', 'per_page=abc']) {
      const bad = await call('GET', `${CB}/contacts?${q}`);
      expect(bad.status).toBe(400);
      expect(bad.json.message).toBe('Invalid request parameters');
      expect(bad.json.issues[0].field).toBe('per_page');
    }
    const badPage = await call('GET', `${CB}/contacts?page=0`);
    expect([badPage.status, badPage.json.issues[0].field]).toEqual([400, 'page']);
  });

  it('gets, patches and deletes by external id', async () => {
    await start({ attributes: ATTRS });
    await call('POST', `${CB}/contacts`, { users: [{ external_id: 'u 1', name: 'Ann', custom_attributes: { plan: 'free', age: 3 } }, { external_id: 'u2', email: 'b@example.com' }] });
    const g = await call('GET', `${CB}/contacts/${encodeURIComponent('u 1')}`);
    expect([g.status, g.json.message, g.json.data.name]).toEqual([200, 'Success', 'Ann']);
    const p = await call('PATCH', `${CB}/contacts/u2`, { data: { name: 'Bob', custom_attributes: { plan: 'pro' } } });
    expect(p.status).toBe(200);
    expect(p.json.data).toMatchObject({ external_id: 'u2', name: 'Bob', email: 'b@example.com', custom_attributes: { plan: 'pro' } });
    const noData = await call('PATCH', `${CB}/contacts/u2`, { name: 'x' });
    expect([noData.status, noData.json.issues]).toEqual([400, [{ field: 'data', message: 'Required' }]]);
    const badType = await call('PATCH', `${CB}/contacts/u2`, { data: { custom_attributes: { age: 'x' } } });
    expect([badType.status, badType.json.issues[0].field]).toEqual([400, 'data.custom_attributes.age']);
    const dupMail = await call('PATCH', `${CB}/contacts/${encodeURIComponent('u 1')}`, { data: { email: 'b@example.com' } });
    expect(dupMail.status).toBe(409);
    const d = await call('DELETE', `${CB}/contacts/u2`);
    expect([d.status, d.json.data.external_id]).toEqual([200, 'u2']);
    const gone = await call('GET', `${CB}/contacts/u2`);
    expect([gone.status, gone.json]).toEqual([404, { message: 'Contact not found' }]);
    expect((await call('DELETE', `${CB}/contacts/u2`)).status).toBe(404);
    expect((await call('PATCH', `${CB}/contacts/u2`, { data: {} })).status).toBe(404);
    // the email is free again
    expect((await call('PATCH', `${CB}/contacts/${encodeURIComponent('u 1')}`, { data: { email: 'b@example.com' } })).status).toBe(200);
  });

  it('404s an unknown chatbot and the singular path', async () => {
    await start();
    const badEscape = await call('GET', `${CB}/contacts/%E0%A4%A`);
    expect([badEscape.status, badEscape.json]).toEqual([404, { message: 'Contact not found' }]);
    const r = await call('GET', '/api/v1/chatbots/nope/contacts');
    expect([r.status, r.json]).toEqual([404, { message: 'Chatbot not found' }]);
    const s = await call('POST', `/api/v1/chatbot/${SANDBOX_CHATBASE_AGENT_ID}/contact`, { users: [{ external_id: 'a' }] });
    expect(s.status).toBe(404);
  });

  it('answers 401 without or with a wrong key', async () => {
    await start();
    const none = await call('GET', `${CB}/contacts`, undefined, {});
    expect([none.status, none.json]).toEqual([401, { message: 'Unauthorized access' }]);
    const wrong = await call('GET', `${CB}/contacts`, undefined, { authorization: 'Bearer nope' });
    expect([wrong.status, wrong.json]).toEqual([401, { message: 'Unauthorized access' }]);
    const raw = await call('GET', `${CB}/contacts`, undefined, { authorization: SANDBOX_API_KEY });
    expect(raw.status).toBe(401);
    const custom = await start2({ apiKeys: ['k1', 'k2'] });
    expect((await call('GET', `${CB}/contacts`, undefined, { authorization: 'Bearer k2' })).status).toBe(200);
    expect(custom.apiKeys).toEqual(['k1', 'k2']);
  });

  it('serves get-chatbots as whoami', async () => {
    await start();
    const r = await call('GET', '/api/v1/get-chatbots');
    expect(r.status).toBe(200);
    expect(r.json.chatbots).toEqual([expect.objectContaining({ id: SANDBOX_CHATBASE_AGENT_ID, status: 'active' })]);
  });
});

async function start2(o: SandboxOptions): Promise<Sandbox> {
  await sb?.close();
  return start(o);
}

describe('sandbox: custom attributes', () => {
  it('creates, lists, archives; validates and 409s duplicates', async () => {
    await start();
    const c = await call('POST', `${CB}/custom-attributes`, { name: 'plan', type: 'text' });
    expect(c.status).toBe(200);
    expect(c.json.data).toMatchObject({ name: 'plan', type: 'text', label: 'plan', archived: false });
    expect((await call('POST', `${CB}/custom-attributes`, { name: 'plan', type: 'text' })).status).toBe(409);
    const bad = await call('POST', `${CB}/custom-attributes`, { name: '1x', type: 'color' });
    expect(bad.status).toBe(400);
    expect(bad.json.issues.map((i: any) => i.field)).toEqual(['name', 'type']);
    const noType = await call('POST', `${CB}/custom-attributes`, { name: 'x' });
    expect([noType.status, noType.json.issues[0]]).toEqual([400, { field: 'type', message: 'Required' }]);
    const put = await call('PUT', `${CB}/custom-attributes/plan`, { label: 'Plan', archived: true });
    expect(put.json.data).toMatchObject({ name: 'plan', label: 'Plan', archived: true });
    const typeChange = await call('PUT', `${CB}/custom-attributes/plan`, { type: 'number' });
    expect([typeChange.status, typeChange.json.issues[0].field]).toEqual([400, 'type']);
    const missing = await call('PUT', `${CB}/custom-attributes/none`, { label: 'x' });
    expect([missing.status, missing.json]).toEqual([404, { message: 'Custom attribute not found' }]);
    const list = await call('GET', `${CB}/custom-attributes`);
    expect(list.json.data.map((a: any) => [a.name, a.archived])).toEqual([['plan', true]]);
    const archived = await call('POST', `${CB}/contacts`, { users: [{ external_id: 'a', custom_attributes: { plan: 'pro' } }] });
    expect(archived.status).toBe(400);
  });
});

describe('sandbox: Bookbag v1 contacts', () => {
  it('accepts the contacts alias, makes contact_<n> ids and generates a missing external_id', async () => {
    await start({ provider: 'bookbag' });
    const r = await call('POST', `${BB}/contacts`, { contacts: [{ external_id: 'u1', name: 'A' }, { name: 'anon' }] });
    expect(r.status).toBe(200);
    expect(r.json.data[0].id).toBe('contact_1');
    expect(r.json.data[1].id).toBe('contact_2');
    expect(r.json.data[1].external_id).toMatch(/^ext_/);
  });

  it('uses Bookbag error bodies', async () => {
    await start({ provider: 'bookbag', attributes: ATTRS });
    const many = await call('POST', `${BB}/contacts`, { users: Array.from({ length: 1001 }, (_, i) => ({ external_id: `u${i}` })) });
    expect([many.status, many.json]).toEqual([400, { message: 'Maximum 1000 contacts per request' }]);
    const bad = await call('POST', `${BB}/contacts`, { users: [{ external_id: 'x', custom_attributes: { age: 'x' } }] });
    expect([bad.status, bad.json]).toEqual([400, { message: 'Invalid request data' }]);
    const nf = await call('GET', '/api/v1/chatbots/999/contacts');
    expect([nf.status, nf.json]).toEqual([404, { message: 'Resource not found' }]);
    await call('POST', `${BB}/contacts`, { users: [{ external_id: 'a', email: 'a@example.com' }, { external_id: 'b' }] });
    const dup = await call('PATCH', `${BB}/contacts/b`, { email: 'a@example.com' });
    expect([dup.status, dup.json]).toEqual([409, { message: 'Error saving chatbot contact. External ID or email already exists.' }]);
    const attr = await call('POST', `${BB}/custom-attributes`, { name: '9' });
    expect([attr.status, attr.json]).toEqual([400, { message: 'Invalid name or type' }]);
    const attrDefault = await call('POST', `${BB}/custom-attributes`, { name: 'color' });
    expect(attrDefault.json.data).toMatchObject({ name: 'color', type: 'text', label: 'color' });
  });

  it('clamps per_page, renames on PATCH and replaces custom_attributes whole', async () => {
    await start({ provider: 'bookbag', attributes: ATTRS });
    await call('POST', `${BB}/contacts`, { users: [{ external_id: 'a', custom_attributes: { plan: 'p', age: 1 } }] });
    const l = await call('GET', `${BB}/contacts?per_page=5000&page=0`);
    expect([l.status, l.json.pages]).toEqual([200, { page: 1, per_page: 1000, total_pages: 1 }]);
    const small = await call('GET', `${BB}/contacts?per_page=1`);
    expect(small.json.pages.per_page).toBe(10);
    const p = await call('PATCH', `${BB}/contacts/a`, { external_id: 'a2', custom_attributes: { age: 2 } });
    expect(p.status).toBe(200);
    expect(p.json.data).toMatchObject({ external_id: 'a2', custom_attributes: { age: 2 } });
    expect(p.json.data.custom_attributes.plan).toBeUndefined();
    expect(sb!.state.contact(SANDBOX_BOOKBAG_AGENT_ID, 'a')).toBeUndefined();
    expect((await call('GET', `${BB}/contacts/a2`)).status).toBe(200);
  });

  it('refuses non-numeric Bookbag agent ids', async () => {
    await expect(startSandbox({ provider: 'bookbag', agentId: 'abc' })).rejects.toMatchObject({ code: 'ERR_SANDBOX_OPTION' });
  });
});
