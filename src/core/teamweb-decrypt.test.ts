import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptTeamWeb, MAX_TEAMWEB_TOKEN_CHARS } from './teamweb-decrypt.js';
import { encryptTeamWeb, teamWebEncrypter } from './teamweb-encrypt.js';
import { parseTeamWebKey } from './teamweb-key.js';

const KEY = Buffer.alloc(32, 0x42);
const NONCE = Buffer.alloc(12, 5);
const fail = (token: string, key: Uint8Array = KEY) => {
  try {
    decryptTeamWeb(key, token);
  } catch (err) {
    return err as { code: string; hint: string; exitCode: number };
  }
  throw new Error('decrypted');
};
/** Node-style sealing with a configurable layout, to reproduce encoder mistakes. */
function seal(plain: string, o: { ivLen?: number; withTag?: boolean; tagFirst?: boolean } = {}): string {
  const iv = Buffer.alloc(o.ivLen ?? 12, 5);
  const c = createCipheriv('aes-256-gcm', KEY, iv);
  const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  const tag = c.getAuthTag();
  const parts = o.withTag === false ? [iv, ct] : o.tagFirst ? [iv, tag, ct] : [iv, ct, tag];
  return Buffer.concat(parts).toString('base64');
}

describe('encryptTeamWeb', () => {
  it('is deterministic for a given nonce and has the vendor layout', () => {
    const t = encryptTeamWeb(KEY, '{"id":"u1"}', NONCE);
    expect(t).toBe(seal('{"id":"u1"}'));
    const raw = Buffer.from(t, 'base64');
    expect(raw.length).toBe(12 + 11 + 16);
    expect(raw.subarray(0, 12)).toEqual(NONCE);
    expect(teamWebEncrypter(KEY)('{"id":"u1"}', NONCE)).toBe(t);
  });
  it('refuses a nonce of the wrong size', () => {
    expect(() => encryptTeamWeb(KEY, 'x', Buffer.alloc(16))).toThrow(RangeError);
  });
});

describe('decryptTeamWeb', () => {
  it('round-trips and warns about a missing or non-string id', () => {
    expect(decryptTeamWeb(KEY, seal('{"id":"u1","name":"Ann"}'))).toEqual({ payload: { id: 'u1', name: 'Ann' }, warnings: [] });
    expect(decryptTeamWeb(KEY, seal('{"email":"a@b.c"}')).warnings.map((w) => w.code)).toEqual(['MISSING_ID']);
    expect(decryptTeamWeb(KEY, seal('{"id":""}')).warnings.map((w) => w.code)).toEqual(['MISSING_ID']);
    // The message says which: absent, null or empty.
    expect(decryptTeamWeb(KEY, seal('{"email":"a@b.c"}')).warnings[0]?.message).toMatch(/^The payload has no "id": /);
    expect(decryptTeamWeb(KEY, seal('{"id":""}')).warnings[0]?.message).toMatch(/^The payload has an empty "id": /);
    expect(decryptTeamWeb(KEY, seal('{"id":null}')).warnings[0]?.message).toMatch(/^The payload has "id": null: /);
    expect(decryptTeamWeb(KEY, seal('{"id":123}')).warnings.map((w) => w.code)).toEqual(['ID_NOT_STRING']);
  });
  it('warns about a name given twice: the last is read, another parser may read the first', () => {
    const r = decryptTeamWeb(KEY, seal('{"id":"admin","name":"A","id":"u1"}'));
    expect([r.payload.id, r.warnings.map((w) => [w.code, w.message])]).toEqual([
      'u1',
      [['DUPLICATE_MEMBER', 'The payload holds "id" more than once. chatid reads the last value, but a parser that reads the first sees another: write each name once.']],
    ]);
  });
  it('warns about an id with whitespace around it, shown escaped (TeamWeb matches the External ID exactly)', () => {
    const w = decryptTeamWeb(KEY, seal('{"id":"u1\\n"}')).warnings;
    expect(w.map((x) => x.code)).toEqual(['ID_WHITESPACE']);
    expect(w[0]?.message).toContain('"id" "u1\\n" has leading or trailing whitespace');
    expect(decryptTeamWeb(KEY, seal('{"id":"\u00a0u1"}')).warnings[0]?.message).toContain('"\\u00a0u1"');
    expect(decryptTeamWeb(KEY, seal('{"id":"u 1"}')).warnings).toEqual([]);
  });
  it.each([
    ['Bearer prefix', `Bearer ${seal('{"id":"u1"}')}`, /Bearer/],
    ['quotes', `"${seal('{"id":"u1"}')}"`, /quotes/],
    ['a line break', `${seal('{"id":"u1"}').slice(0, 8)}\n${seal('{"id":"u1"}').slice(8)}`, /line break|whitespace/],
    ['no padding', seal('{"id":"u12"}').replace(/=+$/, ''), /padding/],
    ['base64url', Buffer.from(seal('{"id":"u1"}'), 'base64').toString('base64url') + '-_', /base64url|standard base64/],
  ])('bad base64 (%s): ERR_DECRYPT_BASE64 with a hint', (_n, token, hint) => {
    const e = fail(token);
    expect([e.code, e.exitCode]).toEqual(['ERR_DECRYPT_BASE64', 3]);
    expect(e.hint).toMatch(hint);
  });
  it('too short and too long: ERR_DECRYPT_LENGTH', () => {
    expect(fail(Buffer.alloc(27).toString('base64')).code).toBe('ERR_DECRYPT_LENGTH');
    expect(fail('A'.repeat(MAX_TEAMWEB_TOKEN_CHARS + 4)).code).toBe('ERR_DECRYPT_LENGTH');
  });
  it('proves a missing tag (no getAuthTag): "16 bytes short"', () => {
    const e = fail(seal('{"id":"user_123","name":"Ann"}', { withTag: false }));
    expect(e.code).toBe('ERR_DECRYPT_TAG');
    expect(e.hint).toMatch(/16 bytes short.*getAuthTag/);
  });
  it('proves a 16-byte IV and a tag placed first', () => {
    expect(fail(seal('{"id":"u1"}', { ivLen: 16 })).hint).toMatch(/16-byte nonce/);
    expect(fail(seal('{"id":"u1"}', { tagFirst: true })).hint).toMatch(/tag before the ciphertext/);
  });
  it('proves a token base64-encoded twice', () => {
    const e = fail(Buffer.from(seal('{"id":"u1"}')).toString('base64'));
    expect([e.code, e.hint]).toEqual(['ERR_DECRYPT_TAG', 'The token is base64-encoded twice: its base64 decodes to base64 text, and that decrypts. Encode nonce ‖ ciphertext ‖ tag once.']);
    // The same shape with another key proves nothing: the usual next steps.
    expect(fail(Buffer.from(seal('{"id":"u1"}')).toString('base64'), Buffer.alloc(32, 1)).hint).toMatch(/Wrong key/);
  });
  it('a wrong key is a tag failure with the usual next steps', () => {
    const e = fail(seal('{"id":"u1"}'), Buffer.alloc(32, 1));
    expect([e.code, e.exitCode]).toEqual(['ERR_DECRYPT_TAG', 3]);
    expect(e.hint).toMatch(/Wrong key/);
  });
  it('a JWT or a 64-hex user hash given to decrypt: the hint names what it is and its command', () => {
    const jwt = fail('eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoidTEifQ.c2lnbmF0dXJlLW5vdC1jaGVja2Vk');
    expect([jwt.code, jwt.hint]).toEqual(['ERR_DECRYPT_BASE64', 'This is a JWT (eyJ….….…), not a TeamWeb token: check it with `chatid token verify <token>`.']);
    const hash = fail('ab'.repeat(32));
    expect([hash.code, hash.hint]).toEqual(['ERR_DECRYPT_TAG', 'This looks like an HMAC user hash (64 hex characters), not a TeamWeb token: `chatid hash <userId> --expect <hash>` checks those.']);
  });

  it('payload not JSON, not UTF-8, or not an object', () => {
    expect(fail(seal('id=u1')).code).toBe('ERR_DECRYPT_NOT_JSON');
    expect(fail(seal('')).code).toBe('ERR_DECRYPT_NOT_JSON');
    expect(fail(seal('["u1"]')).code).toBe('ERR_DECRYPT_NOT_OBJECT');
    expect(fail(seal('"u1"')).code).toBe('ERR_DECRYPT_NOT_OBJECT');
  });
});

describe('parseTeamWebKey', () => {
  it('accepts base64 of 32 bytes, with or without the base64: prefix, and hex:', () => {
    const b64 = KEY.toString('base64');
    expect(parseTeamWebKey(b64)).toEqual(new Uint8Array(KEY));
    expect(parseTeamWebKey(`base64:${b64}`)).toEqual(new Uint8Array(KEY));
    expect(parseTeamWebKey(`hex:${KEY.toString('hex')}`)).toEqual(new Uint8Array(KEY));
  });
  it.each([
    ['not base64', 'not-base64!', 'ERR_SECRET_NOT_BASE64', /standard base64/],
    ['trailing newline', `${KEY.toString('base64')}\n`, 'ERR_SECRET_NOT_BASE64', /whitespace/],
    ['base64url', KEY.toString('base64url'), 'ERR_SECRET_NOT_BASE64', /base64url/],
    // With + or / in it, the unpadded key is no base64url either: the hint was the generic one.
    ['padding left out', Buffer.alloc(32, 0xfb).toString('base64').replace(/=+$/, ''), 'ERR_SECRET_NOT_BASE64', /"=" padding at the end is missing/],
    ['16 bytes', Buffer.alloc(16).toString('base64'), 'ERR_SECRET_KEY_LENGTH', /32 bytes|44 base64/],
    ['base64 of the base64 text', Buffer.from(KEY.toString('base64')).toString('base64'), 'ERR_SECRET_KEY_LENGTH', /encoded again/],
    ['bad hex', 'hex:zz', 'ERR_SECRET_NOT_BASE64', /base64/],
  ])('%s → %s', (_n, key, code, hint) => {
    try {
      parseTeamWebKey(key);
      throw new Error('accepted');
    } catch (err) {
      const e = err as { code: string; hint: string; exitCode: number };
      expect([e.code, e.exitCode]).toEqual([code, 2]);
      expect(e.hint).toMatch(hint);
    }
  });
});
