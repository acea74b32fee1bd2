// Property and fuzz tests for the JWT core (issue 6): the strict segment parser, the HS256
// signers and the verifier. fast-check prints the seed and the shrunk token on failure.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64UrlStrict, encodeBase64Url } from '../../src/core/base64.js';
import type { JwtProvider } from '../../src/core/jwt-claims.js';
import { MAX_JSON_DEPTH, MAX_TOKEN_BYTES, parseJwt } from '../../src/core/jwt-parse.js';
import { signHs256 } from '../../src/core/jwt-sign.js';
import { hs256Signer, signHs256Sync } from '../../src/core/jwt-sign-sync.js';
import { verifyJwt } from '../../src/core/jwt-verify.js';

// Deterministic by default (the same cases on every run); FC_SEED=<n> explores others.
fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261123) });

const RUNS = { numRuns: 200 };
const b64u = (text: string): string => encodeBase64Url(new TextEncoder().encode(text));
const HEADER = b64u('{"alg":"HS256","typ":"JWT"}');
const NOW = 1_767_225_600; // 2026-01-01T00:00:00Z
const KEY = new TextEncoder().encode('k'.repeat(32));

/** JSON that survives a stringify/parse round trip exactly (no -0, no undefined). */
const json = (depth: number) => fc.jsonValue({ maxDepth: depth }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const jsonObject = fc.dictionary(fc.string({ maxLength: 8 }), json(3), { maxKeys: 6 }).map((v) => JSON.parse(JSON.stringify(v)) as Record<string, unknown>);
const token = (header: unknown, payload: unknown, sig: Uint8Array): string => `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}.${encodeBase64Url(sig)}`;

describe('parseJwt (strict compact JWS)', () => {
  it('decodes every well-formed token to exactly its header, payload and signature', () => {
    fc.assert(
      fc.property(jsonObject, json(MAX_JSON_DEPTH - 2), fc.uint8Array({ minLength: 1, maxLength: 64 }), (header, payload, sig) => {
        const t = token(header, payload, sig);
        const r = parseJwt(t);
        expect(r.ok, t).toBe(true);
        if (!r.ok) return;
        expect(r.jwt.header).toEqual(header);
        expect(r.jwt.payload).toEqual(payload);
        expect(r.jwt.signature).toEqual(sig);
        expect(r.jwt.signingInput).toBe(t.slice(0, t.lastIndexOf('.')));
      }),
      RUNS,
    );
  });

  it('never throws, and accepts only three canonical base64url segments', () => {
    const alphabet = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', '.', '=', '+', '/', ' ', '\n', '"'];
    const nearToken = fc.array(fc.constantFrom(...alphabet), { maxLength: 60 }).map((a) => a.join(''));
    fc.assert(
      fc.property(fc.oneof(nearToken, fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 60 })), (t) => {
        const r = parseJwt(t);
        if (!r.ok) {
          expect(typeof r.message).toBe('string');
          return;
        }
        const segs = t.split('.');
        expect(segs).toHaveLength(3);
        for (const s of segs) expect(encodeBase64Url(decodeBase64UrlStrict(s)!), JSON.stringify(t)).toBe(s);
      }),
      { numRuns: 1000 },
    );
  });

  // What users paste: each mutation of a valid token must be refused (MALFORMED), never repaired.
  const mutations: Array<[string, (t: string) => string]> = [
    ['Bearer prefix', (t) => `Bearer ${t}`],
    ['double quotes', (t) => `"${t}"`],
    ['trailing newline', (t) => `${t}\n`],
    ['leading space', (t) => ` ${t}`],
    ['space inside', (t) => `${t.slice(0, 10)} ${t.slice(10)}`],
    ['= padding on the payload', (t) => t.replace(/^([^.]+)\.([^.]+)\./, (_m, h: string, p: string) => `${h}.${p}${'='.repeat((4 - (p.length % 4)) % 4 || 2)}.`)],
    ['standard alphabet', (t) => `${t.replace(/\.[^.]*$/, '')}.+/+/`],
    ['a fourth segment', (t) => `${t}.AAAA`],
    ['two segments', (t) => t.slice(0, t.lastIndexOf('.'))],
    ['empty signature', (t) => `${t.slice(0, t.lastIndexOf('.'))}.`],
    ['empty header', (t) => t.slice(t.indexOf('.'))],
    ['trailing dot', (t) => `${t}.`],
    ['NUL byte', (t) => `${t}\u0000`],
    // An HS256 signature is 43 characters; 45 is a length no base64url text can have.
    ['impossible length', (t) => `${t}AA`],
  ];

  it('refuses every common mutation of a valid token', () => {
    fc.assert(
      fc.property(fc.record({ sub: fc.string({ minLength: 1, maxLength: 20 }), exp: fc.nat() }), fc.constantFrom(...mutations), (payload, [name, mutate]) => {
        const good = signHs256Sync(KEY, payload);
        expect(parseJwt(good).ok).toBe(true);
        const bad = mutate(good);
        const r = parseJwt(bad);
        const v = verifyJwt({ token: bad, keys: [{ label: 'current', bytes: KEY }], provider: 'generic', now: NOW, leewaySeconds: 60 });
        expect(v.valid, name).toBe(false);
        if (name === 'empty signature') {
          // Parsed on purpose (so `alg: none` tokens are reported as ALG_NOT_ALLOWED), never valid.
          expect(v.errors.map((e) => e.code), name).toContain('BAD_SIGNATURE');
          return;
        }
        expect(r.ok, `${name}: ${JSON.stringify(bad)}`).toBe(false);
        expect(v.errors.map((e) => e.code), name).toEqual(['MALFORMED']);
      }),
      RUNS,
    );
  });

  it('refuses non-canonical last characters (unused bits set) in any segment', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), fc.integer({ min: 0, max: 2 }), (sub, which) => {
        const segs = signHs256Sync(KEY, { sub }).split('.');
        const s = segs[which]!;
        fc.pre(s.length % 4 !== 0);
        const last = alphabet.indexOf(s[s.length - 1]!);
        segs[which] = `${s.slice(0, -1)}${alphabet[last ^ 1]}`;
        expect(parseJwt(segs.join('.')).ok, segs.join('.')).toBe(false);
      }),
      RUNS,
    );
  });

  it('caps the size before decoding, and the JSON nesting depth', () => {
    const big = `${HEADER}.${'A'.repeat(MAX_TOKEN_BYTES)}.AAAA`;
    const r = parseJwt(big);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toMatch(/limit/);
    const deep = `${HEADER}.${b64u(`${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`)}.AAAA`;
    expect(parseJwt(deep).ok).toBe(false);
    const deepInString = `${HEADER}.${b64u(JSON.stringify({ s: '['.repeat(500) }))}.AAAA`;
    expect(parseJwt(deepInString).ok).toBe(true);
  });

  it('refuses a header that is not an object and segments that are not UTF-8 JSON', () => {
    for (const [name, h, p] of [
      ['header array', b64u('[]'), b64u('{}')],
      ['header number', b64u('1'), b64u('{}')],
      ['header null', b64u('null'), b64u('{}')],
      ['header not JSON', b64u('{alg:HS256}'), b64u('{}')],
      ['payload not JSON', HEADER, b64u('{"sub":')],
      ['payload Latin-1', HEADER, encodeBase64Url(new Uint8Array([0x7b, 0x22, 0x73, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]))],
      ['payload lone surrogate (CESU)', HEADER, encodeBase64Url(new Uint8Array([0x22, 0xed, 0xa0, 0x80, 0x22]))],
    ] as const) {
      expect(parseJwt(`${h}.${p}.AAAA`).ok, name).toBe(false);
    }
  });
});

describe('HS256 signing and verification', () => {
  const provider = fc.constantFrom<JwtProvider>('chatbase', 'replyful', 'generic');
  const idClaim = { chatbase: 'user_id', replyful: 'userId', generic: 'sub' } as const;

  it('the sync signers produce the same bytes as jose', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 64 }), jsonObject, async (key, payload) => {
        const expected = await signHs256(key, payload);
        expect(signHs256Sync(key, payload)).toBe(expected);
        expect(hs256Signer(key)(payload)).toBe(expected);
      }),
      { numRuns: 100 },
    );
  });

  it('a token verifies with its key and fails BAD_SIGNATURE with any other key', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        provider,
        fc.string({ minLength: 1, maxLength: 30 }).filter((s) => s.trim() === s && s !== ''),
        (key, other, p, id) => {
          fc.pre(Buffer.compare(Buffer.from(key), Buffer.from(other)) !== 0);
          const t = hs256Signer(key)({ [idClaim[p]]: id, iat: NOW, exp: NOW + 3600 });
          const good = verifyJwt({ token: t, keys: [{ label: 'current', bytes: key }], provider: p, now: NOW, leewaySeconds: 60 });
          expect({ valid: good.valid, errors: good.errors }).toEqual({ valid: true, errors: [] });
          const bad = verifyJwt({ token: t, keys: [{ label: 'current', bytes: other }], provider: p, now: NOW, leewaySeconds: 60 });
          expect(bad.errors.map((e) => e.code)).toEqual(['BAD_SIGNATURE']);
          const prev = verifyJwt({ token: t, keys: [{ label: 'current', bytes: other }, { label: 'previous', bytes: key }], provider: p, now: NOW, leewaySeconds: 60 });
          expect([prev.valid, prev.secret]).toEqual([true, 'previous']);
        },
      ),
      RUNS,
    );
  });

  it('changing any one character of a valid token makes it invalid', () => {
    const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ';
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), fc.nat(), fc.constantFrom(...chars), (id, pos, c) => {
        const t = signHs256Sync(KEY, { sub: id, exp: NOW + 60 });
        const i = pos % t.length;
        fc.pre(t[i] !== c);
        const bad = `${t.slice(0, i)}${c}${t.slice(i + 1)}`;
        const v = verifyJwt({ token: bad, keys: [{ label: 'current', bytes: KEY }], provider: 'generic', now: NOW, leewaySeconds: 60 });
        expect(v.valid, `position ${i}: ${bad}`).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on any payload, whatever types and sizes exp, nbf, iat and the id claim hold', () => {
    const weird = fc.oneof(
      json(2),
      fc.double(),
      fc.constantFrom(1e300, -1e300, Number.MAX_SAFE_INTEGER, 2 ** 53 + 1, 1e21, -1, 0, 8.64e12, 8.64e12 + 1),
      fc.string({ maxLength: 10 }),
    );
    const claims = fc.record({ exp: weird, nbf: weird, iat: weird, sub: weird, user_id: weird, userId: weird }, { requiredKeys: [] });
    fc.assert(
      fc.property(claims, provider, fc.integer({ min: 0, max: 4_000_000_000 }), fc.integer({ min: 0, max: 1_000_000 }), (payload, p, now, leeway) => {
        const t = signHs256Sync(KEY, JSON.parse(JSON.stringify(payload)) as Record<string, unknown>);
        const v = verifyJwt({ token: t, keys: [{ label: 'current', bytes: KEY }], provider: p, now, leewaySeconds: leeway });
        expect(v.valid).toBe(v.errors.length === 0);
        for (const e of [...v.errors, ...v.warnings]) {
          expect(e.message.length).toBeGreaterThan(0);
          expect(e.message).not.toMatch(/Invalid (time value|Date)|NaN|undefined/);
        }
      }),
      { numRuns: 500 },
    );
  });
});
