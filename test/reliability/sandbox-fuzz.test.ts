// Fuzzing the sandbox (issue 6): `contacts sync --sandbox` and every integration test stand
// on it, so hostile requests must get a 4xx with a JSON error body, never a 500 or a dead
// server, and a refused request must not change the state.
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';

// Deterministic by default (the same cases on every run); FC_SEED=<n> explores others.
fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261123) });

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ rateLimit: false, attributes: [{ name: 'seats', type: 'number' }, { name: 'trial', type: 'boolean' }] });
});
afterAll(async () => {
  await sb.close();
});

const AGENT = () => sb.agentIds[0]!;
const POSTS = () => [
  `/api/v1/chatbots/${AGENT()}/contacts`,
  `/api/v1/chatbots/${AGENT()}/custom-attributes`,
  `/api/v1/chat`,
  `/api/v2/agents/${AGENT()}/chat`,
  `/sandbox/identify`,
  `/widget/authenticate-user`,
];

async function send(method: string, path: string, body: string | Buffer | undefined, auth = true): Promise<{ status: number; text: string }> {
  const res = await request(`${sb.url}${path}`, {
    method: method as 'POST',
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${sb.apiKeys[0]}` } : {}) },
    body,
  });
  return { status: res.statusCode, text: await res.body.text() };
}

/** Bodies a broken client could send: random JSON, near-valid contacts, and non-JSON bytes. */
const contactish = fc.record(
  {
    external_id: fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.constant(null), fc.constant('')),
    name: fc.oneof(fc.string({ maxLength: 10 }), fc.constant(null), fc.integer()),
    email: fc.oneof(fc.emailAddress(), fc.string({ maxLength: 10 }), fc.constant(null)),
    custom_attributes: fc.oneof(fc.dictionary(fc.constantFrom('seats', 'trial', 'unknown', '__proto__', 'constructor'), fc.jsonValue({ maxDepth: 1 })), fc.constant(null), fc.string()),
    stripe_accounts: fc.oneof(fc.constant(null), fc.array(fc.record({ label: fc.string(), stripe_id: fc.string() }), { maxLength: 2 }), fc.string()),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.record({ users: fc.oneof(fc.array(contactish, { maxLength: 4 }), fc.jsonValue({ maxDepth: 1 })) }).map((v) => JSON.stringify(v)),
  fc.record({ message: fc.oneof(fc.string({ maxLength: 20 }), fc.integer()), userId: fc.oneof(fc.string({ maxLength: 20 }), fc.constant(null)), conversationId: fc.oneof(fc.integer(), fc.string({ maxLength: 5 })), stream: fc.boolean() }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc.record({ token: fc.string({ maxLength: 40 }), user_id: fc.jsonValue({ maxDepth: 0 }), user_hash: fc.string({ maxLength: 64 }), provider: fc.constantFrom('chatbase', 'bookbag', 'teamweb', 'x') }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', '{', '{"users":', '\u0000\u0000', '{"users":[{"external_id":"a"}]}garbage', '[]', 'null', '"x"', `{"users":${'['.repeat(5000)}${']'.repeat(5000)}}`),
);

describe('sandbox fuzz: hostile request bodies', () => {
  it('answers every body on every POST route with a JSON response and never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...POSTS()), body, fc.boolean(), async (path, b, auth) => {
        const before = sb.state.version;
        const r = await send('POST', path, b, auth);
        const label = `POST ${path} ${JSON.stringify(b.slice(0, 200))} → ${r.status} ${r.text.slice(0, 200)}`;
        expect(r.status, label).toBeLessThan(500);
        const streamed = r.text.startsWith('data:') || !r.text.trim().startsWith('{') && r.status === 200;
        if (!streamed) expect(() => JSON.parse(r.text), label).not.toThrow();
        if (r.status >= 400) expect(sb.state.version, `${label}: a refused request changed the state`).toBe(before);
      }),
      { numRuns: 300 },
    );
    // Still alive and sane afterwards.
    const health = await send('GET', '/health', undefined, false);
    expect(health.status).toBe(200);
  });

  it('refuses a body over the size limit with 413 and stays up', async () => {
    const big = Buffer.alloc(33 * 1024 * 1024, 0x20);
    const r = await send('POST', `/api/v1/chatbots/${AGENT()}/contacts`, big).catch((e: Error) => ({ status: -1, text: e.message }));
    // Either a 413 answer, or the connection closed while we were still sending: both are refusals.
    expect([413, -1], `${r.status} ${r.text.slice(0, 200)}`).toContain(r.status);
    expect((await send('GET', '/health', undefined, false)).status).toBe(200);
  });

  it('answers odd paths and methods with 404/405-style JSON, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'),
        fc.oneof(
          fc.constantFrom('/', '/api', '/api/v1', `/api/v1/chatbots/${AGENT()}/contacts/%ZZ`, `/api/v1/chatbots/${AGENT()}/contacts/${'a'.repeat(5000)}`, '/api/v1/chatbots/../../etc/passwd', `/api/v1/chatbot/${AGENT()}/contact`, '/api/v2/agents//chat', `/api/v1/chatbots/${AGENT()}/contacts?page=-1&per_page=1e9`, `/api/v1/chatbots/${AGENT()}/contacts?page=abc`),
          fc.webPath({ size: 'small' }),
        ),
        async (method, path) => {
          const res = await request(`${sb.url}${path.startsWith('/') ? path : `/${path}`}`, { method: method as 'GET', headers: { authorization: `Bearer ${sb.apiKeys[0]}` } }).catch((e: Error) => ({ statusCode: -1, body: { text: async () => e.message } }));
          const text = await res.body.text();
          expect(res.statusCode, `${method} ${path} → ${res.statusCode} ${text.slice(0, 200)}`).toBeLessThan(500);
        },
      ),
      { numRuns: 100 },
    );
  });

  // Was a bug: the target was parsed with new URL(req.url, base), so "//" threw (500) and
  // "//host/api/…" was routed as "/api/…".
  it('answers a request target starting with // with a 404, not a 500', async () => {
    for (const path of ['//', '//x', `//evil.example/api/v1/chatbots/${AGENT()}/contacts`]) {
      const r = await send('GET', path, undefined);
      expect(r.status, `GET ${path} → ${r.status} ${r.text}`).toBe(404);
    }
  });
});
