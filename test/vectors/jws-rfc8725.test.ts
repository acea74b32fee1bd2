// RFC 8725 (JWT Best Current Practices) rejections, table-driven: every token here is built
// by hand so the attack is exactly what the row says, then run through verifyJwt.
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_TOKEN_BYTES } from '../../src/core/jwt-parse.js';
import { verifyJwt } from '../../src/core/jwt-verify.js';

const SECRET = 'chatbase_secret_0123456789abcdef0123';
const KEY = new TextEncoder().encode(SECRET);
const NOW = 1767225600; // 2026-01-01T00:00:00Z
const b64u = (s: string | Buffer): string => Buffer.from(s).toString('base64url');
const GOOD_PAYLOAD = JSON.stringify({ user_id: 'user_123', iat: NOW, exp: NOW + 3600 });

/** A compact JWS over raw header/payload JSON text, MACed with `hash` under `key`. */
function forge(header: string, payload = GOOD_PAYLOAD, o: { key?: string | Buffer | Uint8Array; hash?: string; sig?: string } = {}): string {
  const input = `${b64u(header)}.${b64u(payload)}`;
  const sig = o.sig ?? createHmac(o.hash ?? 'sha256', o.key ?? KEY).update(input).digest('base64url');
  return `${input}.${sig}`;
}
const HS256 = '{"alg":"HS256","typ":"JWT"}';
const B64U = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const valid = forge(HS256);
const [vh, vp, vs] = valid.split('.') as [string, string, string];
const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PUBLIC_PEM = publicKey.export({ type: 'spki', format: 'pem' }) as string;

const verify = (token: string) => verifyJwt({ token, keys: [{ label: 'current', bytes: KEY }], provider: 'chatbase', now: NOW, leewaySeconds: 60 });

const rows: Array<[name: string, token: string, codes: string[]]> = [
  ['baseline: a correct HS256 token', valid, []],
  ['alg none, empty signature', forge('{"alg":"none","typ":"JWT"}', GOOD_PAYLOAD, { sig: '' }), ['ALG_NOT_ALLOWED']],
  ['alg None', forge('{"alg":"None"}', GOOD_PAYLOAD, { sig: '' }), ['ALG_NOT_ALLOWED']],
  ['alg NONE', forge('{"alg":"NONE"}', GOOD_PAYLOAD, { sig: '' }), ['ALG_NOT_ALLOWED']],
  ['alg nOnE with a real HS256 MAC', forge('{"alg":"nOnE"}'), ['ALG_NOT_ALLOWED']],
  ['alg missing', forge('{"typ":"JWT"}'), ['ALG_NOT_ALLOWED']],
  ['alg hs256 (wrong case)', forge('{"alg":"hs256"}'), ['ALG_NOT_ALLOWED']],
  ['HS384 with the right key', forge('{"alg":"HS384"}', GOOD_PAYLOAD, { hash: 'sha384' }), ['ALG_NOT_ALLOWED']],
  ['HS512 with the right key', forge('{"alg":"HS512"}', GOOD_PAYLOAD, { hash: 'sha512' }), ['ALG_NOT_ALLOWED']],
  ['RS256', forge('{"alg":"RS256"}', GOOD_PAYLOAD, { sig: b64u(Buffer.alloc(256, 7)) }), ['ALG_NOT_ALLOWED']],
  ['RS→HS confusion: alg RS256, HMAC keyed with the RSA public key', forge('{"alg":"RS256"}', GOOD_PAYLOAD, { key: PUBLIC_PEM }), ['ALG_NOT_ALLOWED']],
  ['RS→HS confusion: alg HS256, HMAC keyed with the RSA public key', forge(HS256, GOOD_PAYLOAD, { key: PUBLIC_PEM }), ['BAD_SIGNATURE']],
  ['crit with an unknown extension', forge('{"alg":"HS256","crit":["exp"],"exp":1}'), ['MALFORMED']],
  ['crit empty', forge('{"alg":"HS256","crit":[]}'), ['MALFORMED']],
  ['b64=false (RFC 7797)', forge('{"alg":"HS256","b64":false,"crit":["b64"]}'), ['MALFORMED']],
  ['b64=false without crit', forge('{"alg":"HS256","b64":false}'), ['MALFORMED']],
  ['jku/jwk/x5u/kid are ignored, never fetched', forge('{"alg":"HS256","jku":"https://evil.example/jwks","x5u":"https://evil.example/x","jwk":{"kty":"oct","k":"AA"},"kid":"../../etc/passwd"}'), []],
  ['padding on the signature', `${valid}=`, ['MALFORMED']],
  ['padding on the payload', `${vh}.${vp}=.${vs}`, ['MALFORMED']],
  ['padding on the header', `${vh}=.${vp}.${vs}`, ['MALFORMED']],
  ['standard base64 "+" and "/"', `${vh}.${vp}.${vs.replace(/-/g, '+').replace(/_/g, '/')}${/[-_]/.test(vs) ? '' : '+'}`, ['MALFORMED']],
  ['a space inside', `${vh}.${vp.slice(0, 4)} ${vp.slice(4)}.${vs}`, ['MALFORMED']],
  ['a newline inside (line-wrapped copy)', `${vh}.\n${vp}.${vs}`, ['MALFORMED']],
  // 43 chars carry 258 bits for a 256-bit MAC: flipping the lowest (unused) bit decodes to the same bytes.
  ['non-canonical unused bits in the signature', `${vh}.${vp}.${vs.slice(0, -1)}${B64U[B64U.indexOf(vs.slice(-1)) ^ 1]}`, ['MALFORMED']],
  ['characters outside base64url', `${vh}.${vp}.${vs.slice(0, -2)}?${vs.slice(-1)}`, ['MALFORMED']],
  ['two segments', `${vh}.${vp}`, ['MALFORMED']],
  ['four segments', `${valid}.${vs}`, ['MALFORMED']],
  ['empty string', '', ['MALFORMED']],
  ['JSON serialization', JSON.stringify({ payload: vp, protected: vh, signature: vs }), ['MALFORMED']],
  ['header is an array', forge('["alg","HS256"]'), ['MALFORMED']],
  ['header is not JSON', forge('{alg:HS256}'), ['MALFORMED']],
  ['payload not UTF-8', `${vh}.${b64u(Buffer.from([0x7b, 0xff, 0x7d]))}.${vs}`, ['MALFORMED']],
  ['payload is an array', forge(HS256, '["user_123"]'), ['PAYLOAD_NOT_OBJECT']],
  ['payload is a string', forge(HS256, '"user_123"'), ['PAYLOAD_NOT_OBJECT']],
  ['payload is a number', forge(HS256, '123'), ['PAYLOAD_NOT_OBJECT']],
  ['payload is null', forge(HS256, 'null'), ['PAYLOAD_NOT_OBJECT']],
  ['exp as a string', forge(HS256, JSON.stringify({ user_id: 'u', exp: String(NOW + 3600) })), ['MALFORMED']],
  ['numeric user_id', forge(HS256, JSON.stringify({ user_id: 123, exp: NOW + 3600 })), ['USER_ID_NOT_STRING']],
  ['no id claim', forge(HS256, JSON.stringify({ email: 'a@b.c', exp: NOW + 3600 })), ['MISSING_USER_ID']],
  ['empty user_id', forge(HS256, JSON.stringify({ user_id: '', exp: NOW + 3600 })), ['MISSING_USER_ID']],
  ['every claim error at once', forge(HS256, JSON.stringify({ user_id: 7, exp: NOW - 3600, nbf: NOW + 3600, iat: NOW + 3600 }), { key: 'wrong' }), ['BAD_SIGNATURE', 'EXPIRED', 'NOT_YET_VALID', 'IAT_IN_FUTURE', 'USER_ID_NOT_STRING']],
];

describe('RFC 8725 rejection table', () => {
  for (const [name, token, codes] of rows) {
    it(`${name} → ${codes.length ? codes.join(', ') : 'valid'}`, () => {
      const r = verify(token);
      expect(r.errors.map((e) => e.code)).toEqual(codes);
      expect(r.valid).toBe(codes.length === 0);
      if (codes.length) expect(r.secret === null || !codes.includes('BAD_SIGNATURE')).toBe(true);
    });
  }
});

describe('huge and deeply nested input is refused before decoding', () => {
  it('a 1 MiB token is MALFORMED by the size cap, without decoding it', () => {
    const huge = `${vh}.${'A'.repeat(1 << 20)}.${vs}`;
    const r = verify(huge);
    expect(r.errors).toEqual([{ code: 'MALFORMED', message: expect.stringContaining(`limit is ${MAX_TOKEN_BYTES}`) }]);
    expect(r.header).toBeNull();
  });

  it('a 100 MB token too (the cap is checked on the string length first)', () => {
    const r = verify('x'.repeat(100 * 1024 * 1024));
    expect(r.errors[0]!.code).toBe('MALFORMED');
  });

  it('payload nesting 5000 deep (fits in 16 KiB) is MALFORMED by the depth limit', () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const r = verify(forge(HS256, deep));
    expect(r.errors).toEqual([{ code: 'MALFORMED', message: expect.stringContaining('nests deeper') }]);
  });

  it('deep header nesting too', () => {
    const r = verify(forge(`{"alg":"HS256","x":${'{"a":'.repeat(100)}1${'}'.repeat(100)}}`));
    expect(r.errors[0]!.code).toBe('MALFORMED');
  });

  it('brackets inside strings do not count as nesting', () => {
    const r = verify(forge(HS256, JSON.stringify({ user_id: '[[[[{{{{'.repeat(100), exp: NOW + 60 })));
    expect(r.errors).toEqual([]);
  });
});
