import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildTokenClaims } from './jwt-claims.js';
import { duplicateMemberNames, parseJwt } from './jwt-parse.js';
import { signHs256Sync } from './jwt-sign-sync.js';
import { checkClaims, verifyJwt } from './jwt-verify.js';
import { ago, relativeClaimTime } from './jwt-time.js';

const NOW = 1767225600;

describe('parseJwt', () => {
  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.array(fc.base64String(), { maxLength: 4 }).map((a) => a.join('.'))), (s) => {
        const r = parseJwt(s);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });

  it('any token it accepts re-encodes to exactly the same segments', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.uint8Array({ minLength: 1, maxLength: 64 }), (payload, key) => {
        const t = signHs256Sync(key, payload);
        const p = parseJwt(t);
        expect(p.ok).toBe(true);
        if (p.ok) {
          expect(Buffer.from(JSON.stringify(p.jwt.header)).toString('base64url')).toBe(t.split('.')[0]);
          expect(p.jwt.payload).toEqual(JSON.parse(JSON.stringify(payload)));
        }
      }),
    );
  });
});

describe('duplicateMemberNames', () => {
  it('names the top-level members given twice, escapes decoded, nested objects and values aside', () => {
    expect(duplicateMemberNames('{"user_id":"a","x":{"y":1,"y":2},"user_\\u0069d" : "b","s":"user_id","s":1}')).toEqual(['user_id', 's']);
    expect(duplicateMemberNames('{"a":"\\"a\\":","b":["a","a"]}')).toEqual([]);
    expect(duplicateMemberNames('{}')).toEqual([]);
  });
  it('the same names whatever JSON object fast-check makes (none twice: JSON.stringify writes each once)', () => {
    fc.assert(fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (o) => duplicateMemberNames(JSON.stringify(o)).length === 0));
  });
  it('verify keeps the last value and warns DUPLICATE_MEMBER, for the payload and the header', () => {
    const key = new TextEncoder().encode('dup_test_secret_0123456789abcdef0123');
    const enc = (s: string) => Buffer.from(s).toString('base64url');
    const input = `${enc('{"alg":"none","alg":"HS256"}')}.${enc(`{"user_id":"admin","user_id":"u1","exp":${NOW + 60}}`)}`;
    const token = `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
    const r = verifyJwt({ token, keys: [{ label: 'current', bytes: key }], provider: 'chatbase', now: NOW, leewaySeconds: 60 });
    expect([r.valid, (r.payload as { user_id: string }).user_id]).toEqual([true, 'u1']);
    expect(r.warnings.filter((w) => w.code === 'DUPLICATE_MEMBER').map((w) => w.message)).toEqual([
      'The header holds "alg" more than once. chatid reads the last value, as RFC 7519 §4 allows, but a verifier that reads the first sees another header: write each name once.',
      'The payload holds "user_id" more than once. chatid reads the last value, as RFC 7519 §4 allows, but a verifier that reads the first sees another claim: write each name once.',
    ]);
  });
});

describe('sign → verify round trip', () => {
  it('any string user id signs and verifies for each provider, as a string', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }).filter((s) => s.trim() !== ''), fc.constantFrom('chatbase', 'replyful', 'generic') as fc.Arbitrary<'chatbase' | 'replyful' | 'generic'>, (userId, provider) => {
        const key = new Uint8Array(32).fill(9);
        const payload = buildTokenClaims({ provider, userId, now: NOW, exp: { kind: 'in', seconds: 3600 }, iat: true });
        const r = verifyJwt({ token: signHs256Sync(key, payload), keys: [{ label: 'current', bytes: key }], provider, now: NOW, leewaySeconds: 60 });
        expect(r.errors).toEqual([]);
        expect(r.valid).toBe(true);
      }),
    );
  });
});

describe('buildTokenClaims', () => {
  it('orders claims stably and keeps the id a string', () => {
    const p = buildTokenClaims({ provider: 'chatbase', userId: '007', email: 'e', name: 'n', phone: 'p', attrs: [['a', '1']], stripeAccounts: [['l', 'cus_1']], claims: [['x', 1]], now: NOW, exp: { kind: 'at', unix: NOW + 5 }, iat: false });
    expect(JSON.stringify(p)).toBe('{"user_id":"007","email":"e","name":"n","phonenumber":"p","custom_attributes":{"a":"1"},"stripe_accounts":[{"label":"l","stripe_id":"cus_1"}],"x":1,"exp":1767225605}');
  });

  it('refuses a claim set twice, iat/exp via --claim, and --no-iat for Replyful', () => {
    expect(() => buildTokenClaims({ provider: 'generic', userId: 'u', claims: [['sub', 'x']], now: NOW, exp: { kind: 'none' }, iat: true })).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_CLAIM_TWICE' }));
    expect(() => buildTokenClaims({ provider: 'generic', userId: 'u', claims: [['iat', 1]], now: NOW, exp: { kind: 'none' }, iat: true })).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_CLAIM_RESERVED' }));
    expect(() => buildTokenClaims({ provider: 'replyful', userId: 'u', now: NOW, exp: { kind: 'none' }, iat: false })).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_IAT_REQUIRED' }));
    expect(() => buildTokenClaims({ provider: 'chatbase', userId: 'u', attrs: [['a', '1'], ['a', '2']], now: NOW, exp: { kind: 'none' }, iat: true })).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_CLAIM_TWICE' }));
  });
});

describe('checkClaims boundaries', () => {
  it('exp is expired at exactly now - leeway, valid one second before', () => {
    expect(checkClaims({ sub: 'u', exp: NOW - 60 }, 'generic', NOW, 60).errors.map((e) => e.code)).toEqual(['EXPIRED']);
    expect(checkClaims({ sub: 'u', exp: NOW - 59 }, 'generic', NOW, 60).errors).toEqual([]);
  });
  it('nbf and iat may be up to the leeway ahead', () => {
    expect(checkClaims({ sub: 'u', nbf: NOW + 60, iat: NOW + 60, exp: NOW + 600 }, 'generic', NOW, 60).errors).toEqual([]);
    expect(checkClaims({ sub: 'u', nbf: NOW + 61, iat: NOW + 61, exp: NOW + 600 }, 'generic', NOW, 60).errors.map((e) => e.code)).toEqual(['NOT_YET_VALID', 'IAT_IN_FUTURE']);
  });
  it('Chatbase falls back to sub, and judges only the claim it uses', () => {
    expect(checkClaims({ sub: 'u', exp: NOW + 60 }, 'chatbase', NOW, 60).errors).toEqual([]);
    expect(checkClaims({ user_id: 'u', sub: 5, exp: NOW + 60 }, 'chatbase', NOW, 60).errors).toEqual([]);
    expect(checkClaims({ user_id: '  ', exp: NOW + 60 }, 'chatbase', NOW, 60).errors.map((e) => e.code)).toEqual(['MISSING_USER_ID']);
    expect(checkClaims({ user_id: ' u ', exp: NOW + 60 }, 'chatbase', NOW, 60).warnings.map((e) => e.code)).toEqual(['USER_ID_WHITESPACE']);
  });
  it('a non-string user id: an example only when it is sure to be the same id', () => {
    const msg = (v: unknown) => checkClaims({ user_id: v, exp: NOW + 60 }, 'chatbase', NOW, 60).errors.map((e) => [e.code, e.message])[0];
    expect(msg(12345)).toEqual(['USER_ID_NOT_STRING', 'The user_id claim is the number 12345; it must be a string (e.g. "12345").']);
    // JSON.parse('12345678901234567890') is 12345678901234567000: the digits are gone, no example is made up.
    const big = msg(JSON.parse('12345678901234567890'))![1]!;
    expect(big).toContain('a number beyond 2^53 that reads as 12345678901234567000');
    expect(big).toContain('already lost');
    expect(big).not.toContain('"12345678901234567000"');
    expect(msg({ $oid: '65a1f0c2e4b0a1b2c3d4e5f6' })![1]).toBe(
      'The user_id claim is a MongoDB ObjectId in extended JSON ({"$oid": …}); it must be a string (e.g. "65a1f0c2e4b0a1b2c3d4e5f6": the ObjectId\'s hex string, from id.toString() or str(id)).',
    );
    for (const v of [{ id: 'x' }, ['u'], true, 1.5]) {
      expect(msg(v)![1]).not.toContain('[object Object]');
      expect(msg(v)![1]).not.toContain('(e.g.');
    }
    expect(msg({ id: 'x' })![1]).toBe('The user_id claim is an object: {"id":"x"}; it must be a string holding the id itself.');
  });
  it('exp/nbf/iat of the wrong type: says what it is and what to write', () => {
    const msg = (v: unknown) => checkClaims({ sub: 'u', exp: v }, 'generic', NOW, 60).errors.map((e) => [e.code, e.message])[0];
    expect(msg(JSON.parse('1e400'))).toEqual(['MALFORMED', 'The exp claim is a number out of range (it reads as Infinity); it must be a JSON number of seconds since 1970 (NumericDate).']);
    expect(msg(null)![1]).toBe('The exp claim is null; it must be a JSON number of seconds since 1970 (NumericDate), or be left out.');
    expect(msg('123')![1]).toBe('The exp claim is the string "123"; it must be a JSON number of seconds since 1970 (NumericDate), not a string: write 123 without quotes.');
    expect(msg('2026-01-01T01:00:00Z')![1]).toContain(`here ${NOW + 3600}, without quotes`);
    expect(msg('2026-01-01T01:00:00')![1]).not.toContain('here'); // a zoneless time is not guessed
    expect(msg(true)![1]).toBe('The exp claim is the boolean true; it must be a JSON number of seconds since 1970 (NumericDate).');
  });
  it('warns when there is no exp', () => {
    expect(checkClaims({ sub: 'u' }, 'generic', NOW, 60).warnings.map((w) => w.code)).toEqual(['NO_EXP']);
  });
});

describe('human times', () => {
  it.each([
    [45, '45s'],
    [90, '1m 30s'],
    [3540, '59m'],
    [3600, '1h'],
    [7500, '2h 5m'],
    [90000, '1d 1h'],
    [40 * 365 * 86400, '39y'],
  ])('ago(%d) = %s', (s, want) => expect(ago(s)).toBe(want));

  it('phrases each claim', () => {
    expect(relativeClaimTime('exp', NOW + 3540, NOW)).toBe('expires in 59m');
    expect(relativeClaimTime('exp', NOW - 120, NOW)).toBe('expired 2m ago');
    expect(relativeClaimTime('iat', NOW - 60, NOW)).toBe('issued 1m ago');
    expect(relativeClaimTime('nbf', NOW + 300, NOW)).toBe('not valid for another 5m');
  });
});
