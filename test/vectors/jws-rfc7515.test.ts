// RFC 7515 Appendix A.1 (HS256) pinned against the core, and the synchronous --batch signer
// pinned byte for byte against jose.
import { compactVerify } from 'jose';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signHs256 } from '../../src/core/jwt-sign.js';
import { hs256JsonSigner, hs256Signer, signHs256Sync } from '../../src/core/jwt-sign-sync.js';
import { verifyCompactHs256, verifyJwt } from '../../src/core/jwt-verify.js';
import { parseJwt } from '../../src/core/jwt-parse.js';

const A1_KEY = new Uint8Array(Buffer.from('AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow', 'base64url'));
const A1_TOKEN =
  'eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9' +
  '.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ' +
  '.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';

describe('RFC 7515 A.1', () => {
  it('verifies the published HS256 JWS', () => {
    expect(verifyCompactHs256(A1_TOKEN, A1_KEY)).toBe(true);
  });

  it('decodes the published header and claims exactly', () => {
    const p = parseJwt(A1_TOKEN);
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(p.jwt.header).toEqual({ typ: 'JWT', alg: 'HS256' });
    expect(p.jwt.payload).toEqual({ iss: 'joe', exp: 1300819380, 'http://example.com/is_root': true });
  });

  it('is valid before exp and EXPIRED after it; the generic provider also wants sub', () => {
    const before = verifyJwt({ token: A1_TOKEN, keys: [{ label: 'current', bytes: A1_KEY }], provider: 'generic', now: 1300819380 - 3600, leewaySeconds: 0 });
    expect(before.secret).toBe('current');
    expect(before.errors.map((e) => e.code)).toEqual(['MISSING_USER_ID']);
    const after = verifyJwt({ token: A1_TOKEN, keys: [{ label: 'current', bytes: A1_KEY }], provider: 'generic', now: 1300819380 + 61, leewaySeconds: 60 });
    expect(after.errors.map((e) => e.code)).toEqual(['EXPIRED', 'MISSING_USER_ID']);
  });

  it('fails with one flipped key bit', () => {
    const k = A1_KEY.slice();
    k[0]! ^= 1;
    expect(verifyCompactHs256(A1_TOKEN, k)).toBe(false);
  });

  it('jose agrees (the vector is not only checked by our own code)', async () => {
    const r = await compactVerify(A1_TOKEN, A1_KEY, { algorithms: ['HS256'] });
    expect(new TextDecoder().decode(r.payload)).toContain('"iss":"joe"');
  });
});

describe('the synchronous signer equals jose byte for byte', () => {
  const key = new TextEncoder().encode('k'.repeat(32));
  const samples: Array<Record<string, unknown>> = [
    { user_id: 'user_123', iat: 1767225600, exp: 1767229200 },
    { userId: 'ü/é 🎉', email: 'a@b.c', nested: { a: [1, 2, { b: null }] }, n: 1.5, t: true },
    { sub: '', big: 2 ** 60, neg: -0 },
    { 'weird key"\\': 'line\nbreak\u2028', s: '</script>' },
  ];
  for (const [i, payload] of samples.entries()) {
    it(`sample ${i}`, async () => {
      const viaJose = await signHs256(key, payload);
      expect(signHs256Sync(key, payload)).toBe(viaJose);
      expect(hs256Signer(key)(payload)).toBe(viaJose);
      expect(hs256JsonSigner(key)(JSON.stringify(payload))).toBe(viaJose);
      expect(viaJose.startsWith('eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.')).toBe(true);
    });
  }

  it('for arbitrary JSON objects and keys', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 80 }), fc.dictionary(fc.string(), fc.jsonValue()), async (k, payload) => {
        expect(signHs256Sync(k, payload)).toBe(await signHs256(k, payload));
      }),
      { numRuns: 200 },
    );
  });
});
