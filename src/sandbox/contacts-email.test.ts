import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Runtime, SandboxReply } from './http.js';
import { contactRoutes } from './routes/contacts.js';
import { SandboxState } from './state.js';

// Email uniqueness of contacts writes (vendors.md §2.3: `email` is unique, a create with an
// email in use answers 409), checked against a plain model: the items of a write are taken in
// order; an item whose email (compared lowercased) another contact has at that point — stored,
// or given by an earlier item of the same write — is a conflict and changes nothing; any
// conflict refuses the whole write.

const AGENT = 'agent-1';
const create = contactRoutes.find((r) => r.method === 'POST' && r.pattern === '/api/v1/chatbots/:chatbotId/contacts')!.handler;

function runtime(state: SandboxState, contactQuota = Number.POSITIVE_INFINITY): Runtime {
  let n = 0;
  return {
    state,
    provider: 'chatbase',
    now: () => 1_700_000_000_000,
    iso: () => '2023-11-14T22:13:20.000Z',
    log: () => undefined,
    uuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    identityKey: new Uint8Array(32),
    teamwebKey: new Uint8Array(32),
    contactQuota,
    keyAllowsAgent: () => true,
    signingSecret: 'test',
  };
}

async function post(rt: Runtime, users: unknown[]): Promise<SandboxReply> {
  const raw = Buffer.from(JSON.stringify({ users }));
  return create({ method: 'POST', path: '', query: new URLSearchParams(), params: { chatbotId: AGENT }, headers: {}, raw, apiKey: undefined, requestId: 'req_1' }, rt);
}

interface In {
  external_id: string;
  email?: string | null;
  name?: string;
}

/** The model: external id → email (undefined: none), in insertion order. Past the quota, a write is refused whole. */
function modelWrite(state: Map<string, string | undefined>, users: In[], quota: number): { issues: string[]; overQuota: boolean; next: Map<string, string | undefined> } {
  const next = new Map(state);
  const issues: string[] = [];
  users.forEach((u, i) => {
    if (u.email === undefined || u.email === null) {
      if (!next.has(u.external_id) || u.email === null) next.set(u.external_id, undefined);
      return;
    }
    const key = u.email.toLowerCase();
    const taken = [...next].some(([id, e]) => id !== u.external_id && e !== undefined && e.toLowerCase() === key);
    if (taken) issues.push(`users.${i}.email`);
    else next.set(u.external_id, u.email);
  });
  const overQuota = issues.length === 0 && state.size + new Set(users.map((u) => u.external_id).filter((id) => !state.has(id))).size > quota;
  return { issues, overQuota, next: issues.length > 0 || overQuota ? state : next };
}

const user: fc.Arbitrary<In> = fc.record(
  {
    external_id: fc.constantFrom('a', 'b', 'c', 'd'),
    email: fc.option(fc.constantFrom('x@e.io', 'X@e.io', 'y@e.io', 'z@e.io', 'Ünï@e.io', 'ünï@e.io'), { nil: null }),
    name: fc.constantFrom('Ann', 'Bob'),
  },
  { requiredKeys: ['external_id'] },
);

describe('sandbox contacts: email uniqueness', () => {
  it('answers as the model over any sequence of writes (repeated ids, swaps, case, null, quota)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(user, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 }), fc.constantFrom(Number.POSITIVE_INFINITY, 2, 3), async (writes, quota) => {
        const state = new SandboxState();
        state.addAgent(AGENT);
        const rt = runtime(state, quota);
        let model = new Map<string, string | undefined>();
        for (const users of writes) {
          const want = modelWrite(model, users, quota);
          const reply = await post(rt, users);
          const body = reply.json as { data?: Array<{ external_id: string; email?: string }>; issues?: Array<{ field: string }> };
          if (want.issues.length > 0) {
            expect(reply.status).toBe(409);
            expect(body.issues?.map((i) => i.field)).toEqual(want.issues);
          } else if (want.overQuota) {
            expect([reply.status, body.issues?.map((i) => i.field)]).toEqual([400, ['users']]);
          } else {
            expect(reply.status).toBe(200);
            expect(body.data?.map((c) => c.external_id)).toEqual(users.map((u) => u.external_id));
          }
          model = want.next;
          expect(state.contacts(AGENT).map((c) => [c.external_id, c.email])).toEqual([...model]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps refusing an email two contacts of a data file share to all but the one the index names', async () => {
    const state = new SandboxState();
    const contact = (id: string, email: string) => ({ id: `id-${id}`, external_id: id, email, custom_attributes: {}, created_at: 't', updated_at: 't' });
    state.load({ version: 1, agents: [{ id: AGENT, name: 'A', contacts: [contact('a', 'X@e.io'), contact('b', 'x@e.io')], attributes: [], conversations: [] }] });
    const rt = runtime(state);
    // The index of emails is made from the contacts in order: the last one owns the email.
    const again = await post(rt, [{ external_id: 'a', email: 'X@e.io' }]);
    expect([again.status, (again.json as { issues: unknown }).issues]).toEqual([409, [{ field: 'users.0.email', message: 'Email already in use by another contact' }]]);
    expect((await post(rt, [{ external_id: 'c', email: 'x@E.io' }])).status).toBe(409);
    expect((await post(rt, [{ external_id: 'b', email: 'x@e.io' }])).status).toBe(200);
    // b lets go of it: a may now send it again, and then owns it.
    expect((await post(rt, [{ external_id: 'b', email: 'y@e.io' }])).status).toBe(200);
    expect((await post(rt, [{ external_id: 'a', email: 'X@e.io' }])).status).toBe(200);
    expect((await post(rt, [{ external_id: 'b', email: 'x@e.io' }])).status).toBe(409);
    expect(state.contacts(AGENT).map((c) => [c.external_id, c.email])).toEqual([
      ['a', 'X@e.io'],
      ['b', 'y@e.io'],
    ]);
  });
});
