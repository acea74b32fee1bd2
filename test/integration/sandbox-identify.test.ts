import { createCipheriv, createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { type Sandbox, SANDBOX_API_KEY, SANDBOX_IDENTITY_SECRET, SANDBOX_TEAMWEB_KEY, type SandboxOptions, startSandbox } from '../../src/sandbox/index.js';

const NOW = 1_767_225_600; // 2026-01-01T00:00:00Z
let sb: Sandbox | undefined;
let logs: string[] = [];
afterEach(async () => {
  await sb?.close();
  sb = undefined;
  logs = [];
});
async function start(o: SandboxOptions = {}): Promise<Sandbox> {
  sb = await startSandbox({ port: 0, now: () => NOW * 1000, log: (l) => logs.push(l), ...o });
  return sb;
}
async function identify(body: unknown) {
  const res = await request(`${sb!.url}/sandbox/identify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.statusCode, json: (await res.body.json()) as any };
}
function jwt(payload: unknown, secret = SANDBOX_IDENTITY_SECRET, header: unknown = { alg: 'HS256', typ: 'JWT' }): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${enc(header)}.${enc(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}
const hash = (id: string, secret = SANDBOX_IDENTITY_SECRET) => createHmac('sha256', secret).update(id).digest('hex');
function teamweb(plaintext: string, key = SANDBOX_TEAMWEB_KEY, o: { dropTag?: boolean } = {}): string {
  const nonce = Buffer.alloc(12, 7);
  const c = createCipheriv('aes-256-gcm', Buffer.from(key, 'base64'), nonce);
  const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return Buffer.concat([nonce, body, o.dropTag ? Buffer.alloc(0) : c.getAuthTag()]).toString('base64');
}

describe('sandbox: identify, Chatbase', () => {
  it('accepts a valid JWT and names the user', async () => {
    await start();
    const r = await identify({ token: jwt({ user_id: 'user_123', email: 'a@example.com', exp: NOW + 3600 }) });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ identified: true, provider: 'chatbase', method: 'jwt', userId: 'user_123', claims: { email: 'a@example.com' } });
    expect(logs).toContain('identify chatbase: identified "user_123" by jwt');
  });

  it('falls back to sub and explains each failure', async () => {
    await start();
    expect((await identify({ token: jwt({ sub: 'u9', exp: NOW + 60 }) })).json.userId).toBe('u9');
    const cases: Array<[string, string]> = [
      [jwt({ user_id: 'u', exp: NOW - 1 }), 'EXPIRED'],
      [jwt({ user_id: 'u', exp: NOW + 60 }, 'another-secret-another-secret-xx'), 'BAD_SIGNATURE'],
      [jwt({ user_id: 123, exp: NOW + 60 }), 'USER_ID_NOT_STRING'],
      [jwt({ userId: 'u', exp: NOW + 60 }), 'MISSING_USER_ID'],
      [`Bearer ${jwt({ user_id: 'u' })}`, 'MALFORMED'],
      [jwt({ user_id: 'u' }, SANDBOX_IDENTITY_SECRET, { alg: 'none' }), 'ALG_NOT_ALLOWED'],
    ];
    for (const [token, reason] of cases) {
      const r = await identify({ provider: 'chatbase', token });
      expect([r.status, r.json.identified, r.json.reason]).toEqual([200, false, reason]);
    }
    expect(logs.filter((l) => l.startsWith('identify chatbase: anonymous'))).toHaveLength(cases.length);
  });

  it('checks the deprecated user hash', async () => {
    await start();
    expect((await identify({ user_id: 'user_123', user_hash: hash('user_123') })).json).toMatchObject({ identified: true, method: 'user_hash', userId: 'user_123' });
    expect((await identify({ user_id: 'user_123', user_hash: hash('user_124') })).json.reason).toBe('HASH_MISMATCH');
    expect((await identify({ user_id: 'user_123', user_hash: hash('user_123').toUpperCase() })).json.reason).toBe('HASH_FORMAT');
    expect((await identify({ user_id: 123, user_hash: hash('123') })).json.reason).toBe('USER_ID_NOT_STRING');
    expect((await identify({ user_id: 'u' })).json.reason).toBe('MISSING_USER_HASH');
    expect((await identify({})).json.reason).toBe('NO_IDENTITY');
    const big = await identify({ user_id: 'u', user_hash: hash('u'), user_metadata: { note: 'x'.repeat(1200) } });
    expect(big.json.warnings[0].code).toBe('METADATA_TRUNCATED');
  });

  it('creates and updates the contact from the JWT claims: present set, null deleted, absent kept', async () => {
    await start({ attributes: [{ name: 'plan', type: 'text' }] });
    const first = await identify({ token: jwt({ user_id: 'u1', name: 'Ann', email: 'ann@example.com', custom_attributes: { plan: 'pro', unknown: 1 }, exp: NOW + 60 }) });
    expect(first.json.contact).toMatchObject({ external_id: 'u1', name: 'Ann', email: 'ann@example.com', custom_attributes: { plan: 'pro' } });
    // Dropped as Chatbase drops it, but said: the silent loss vendors.md §8 warns of.
    expect(first.json.warnings).toEqual([{ code: 'UNKNOWN_ATTRIBUTE', message: expect.stringMatching(/custom_attributes\.unknown .*not in the agent's schema/) }]);
    await identify({ token: jwt({ user_id: 'u1', name: null, exp: NOW + 60 }) });
    const c = sb!.state.contact('sandbox-chatbot', 'u1')!;
    expect([c.name, c.email, c.custom_attributes]).toEqual([undefined, 'ann@example.com', { plan: 'pro' }]);
    const bad = await identify({ token: jwt({ user_id: 'u2', custom_attributes: { plan: 5 }, exp: NOW + 60 }) });
    expect(bad.json.identified).toBe(true);
    expect(bad.json.warnings.map((w: any) => w.code)).toContain('CONTACT_NOT_SYNCED');
    expect(sb!.state.contact('sandbox-chatbot', 'u2')).toBeUndefined();
  });

  it('uses the configured identity secret, hex: form included', async () => {
    await start({ identitySecret: 'hex:00ff00ff' });
    const key = Buffer.from('00ff00ff', 'hex');
    const h = createHmac('sha256', key).update('u1').digest('hex');
    expect((await identify({ user_id: 'u1', user_hash: h })).json.identified).toBe(true);
  });
});

describe('sandbox: identify, Bookbag, Replyful, TeamWeb, OpenCX', () => {
  it('Bookbag hashes String(user_id) and is anonymous without one', async () => {
    await start({ provider: 'bookbag' });
    expect((await identify({ user_id: 42, user_hash: hash('42') })).json).toMatchObject({ identified: true, provider: 'bookbag', userId: '42' });
    const withMeta = await identify({ user_id: 'b1', user_hash: hash('b1'), user_metadata: { name: 'Bo', email: 'bo@example.com' } });
    expect(withMeta.json.contact).toMatchObject({ id: 'contact_2', external_id: 'b1', name: 'Bo', email: 'bo@example.com' });
    expect((await identify({})).json).toMatchObject({ identified: false, reason: 'NO_IDENTITY' });
  });

  it('Replyful reads userId', async () => {
    await start();
    expect((await identify({ provider: 'replyful', token: jwt({ userId: 'r1', iat: NOW, exp: NOW + 3600 }) })).json).toMatchObject({ identified: true, userId: 'r1' });
    expect((await identify({ provider: 'replyful', token: jwt({ user_id: 'r1', exp: NOW + 3600 }) })).json.reason).toBe('MISSING_USER_ID');
    expect((await identify({ provider: 'replyful' })).json.reason).toBe('NO_TOKEN');
  });

  it('TeamWeb decrypts and names each failure', async () => {
    await start();
    expect((await identify({ provider: 'teamweb', token: teamweb('{"id":"tw_1","name":"Ann"}') })).json).toMatchObject({ identified: true, userId: 'tw_1', claims: { name: 'Ann' }, contact: { external_id: 'tw_1', name: 'Ann' } });
    // an existing contact is linked, not changed
    expect((await identify({ provider: 'teamweb', token: teamweb('{"id":"tw_1","name":"Other"}') })).json.contact.name).toBe('Ann');
    const other = Buffer.alloc(32, 9).toString('base64');
    const cases: Array<[string, string]> = [
      ['not base64!', 'BAD_BASE64'],
      [Buffer.alloc(20).toString('base64'), 'TOO_SHORT'],
      [teamweb('{"id":"tw_1"}', SANDBOX_TEAMWEB_KEY, { dropTag: true }), 'TOO_SHORT'],
      [teamweb('{"id":"tw_1","name":"Ann Example"}', SANDBOX_TEAMWEB_KEY, { dropTag: true }), 'TAG_MISMATCH'],
      [teamweb('{"id":"tw_1"}', other), 'TAG_MISMATCH'],
      [teamweb('hello'), 'NOT_JSON'],
      [teamweb('{"name":"no id"}'), 'MISSING_ID'],
    ];
    for (const [token, reason] of cases) expect([token, (await identify({ provider: 'teamweb', token })).json.reason]).toEqual([token, reason]);
    // the core proves what the encoder did wrong, and the sandbox passes it on
    const noTag = await identify({ provider: 'teamweb', token: teamweb('{"id":"tw_1","name":"Ann Example"}', SANDBOX_TEAMWEB_KEY, { dropTag: true }) });
    expect(noTag.json.message).toContain('getAuthTag()');
    expect(logs.some((l) => l.startsWith('identify teamweb: anonymous (TAG_MISMATCH)'))).toBe(true);
  });

  it('OpenCX accepts the token authenticate-user minted, and only that', async () => {
    await start();
    const res = await request(`${sb!.url}/widget/authenticate-user`, { method: 'POST', headers: { authorization: `Bearer ${SANDBOX_API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ email: 'a@example.com' }) });
    const { token, contact } = (await res.body.json()) as any;
    expect((await identify({ provider: 'opencx', token })).json).toMatchObject({ identified: true, userId: contact.id, claims: { email: 'a@example.com' } });
    expect((await identify({ provider: 'opencx', token: jwt({ sub: 'x', exp: NOW + 60 }) })).json.reason).toBe('BAD_SIGNATURE');
  });

  it('400s a body it cannot read, and is never rate limited or faulted', async () => {
    await start({ faultRate: 1, rateLimit: { limit: 1, windowMs: 60_000 } });
    expect((await identify({ provider: 'intercom', token: 'x' })).status).toBe(400);
    expect((await identify({ token: 5 })).status).toBe(400);
    for (let i = 0; i < 3; i++) expect((await identify({ provider: 'teamweb' })).status).toBe(200);
  });
});
