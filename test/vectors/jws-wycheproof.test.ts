// Wycheproof json_web_signature_test.json (../shared/vectors/wycheproof, Apache-2.0).
//
// Groups that apply to chatid, which verifies HS256 compact JWS only:
// - "hs256" (tcId 1-17): modified/missing header, payload, signature, extra segments,
//   alg none, and the JSON serialization (compact only: rejected).
// - "rfc7520" tcId 348 and 352: RFC 7520 §4.4, the HS256 example (same JWS twice).
// - "base64" (tcId 357-377): spaces, padding, characters outside base64url, non-canonical
//   unused bits. jose alone accepts 360, 365, 367, 368, 370 and 375; our strict parser runs
//   first and rejects them, as Wycheproof expects.
//   372 and 373 are labelled "valid" but contain "?"; Wycheproof's own README calls the
//   label odd. A strict base64url parser must reject "?", so we pin them as rejected.
//   367 invalidBase64Padding and 370 invalidBase64PaddingInPayload are, in this snapshot,
//   byte-identical to 357 ValidMac (the "=" their comments describe is not in the data), so
//   no implementation can satisfy both labels. We accept them like 357, assert that they are
//   identical, and test what their comments describe with padded variants built here.
//
// Groups that do not apply: RS256/RS384/RS512, PS*, ES256/384/512, EdDSA and the other
// rfc7520 figures (asymmetric keys, which chatid never takes: an RS* alg is ALG_NOT_ALLOWED
// before any key is used), and JWE/JSON-serialization cases (chatid reads compact JWS only).
import { readFileSync } from 'node:fs';
import { compactVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { verifyCompactHs256 } from '../../src/core/jwt-verify.js';

interface Jwk { kty: string; k?: string }
interface Test { tcId: number; comment: string; jws: unknown; result: 'valid' | 'invalid' | 'acceptable' }
interface Group { comment: string; private?: Jwk; public?: Jwk; tests: Test[] }

const file = JSON.parse(readFileSync(new URL('./wycheproof/json_web_signature_test.json', import.meta.url), 'utf8')) as { testGroups: Group[] };
const APPLIES = (id: number): boolean => (id >= 1 && id <= 17) || id === 348 || id === 352 || (id >= 357 && id <= 377);
/** Labelled valid, but not canonical base64url: rejected on purpose (see above). */
const STRICTER_THAN_LABEL = new Set([372, 373]);
/** Where jose alone differs from Wycheproof (README of the vectors). */
const JOSE_ACCEPTS = new Set([360, 365, 367, 368, 370, 375]);
/** Identical to tcId 357 in this snapshot, labelled invalid: a data error (see above). */
const SAME_AS_357 = new Set([367, 370]);

const cases: Array<{ t: Test; key: Uint8Array }> = [];
for (const g of file.testGroups) {
  for (const t of g.tests) {
    if (!APPLIES(t.tcId)) continue;
    const jwk = g.private ?? g.public;
    if (jwk?.kty !== 'oct' || !jwk.k) throw new Error(`tcId ${t.tcId}: expected an oct key`);
    cases.push({ t, key: new Uint8Array(Buffer.from(jwk.k, 'base64url')) });
  }
}

describe('Wycheproof JWS: hs256, rfc7520 HS256, base64 groups', () => {
  it('covers the 40 applicable tests', () => {
    expect(cases.map((c) => c.t.tcId)).toEqual([...Array.from({ length: 17 }, (_, i) => i + 1), 348, 352, ...Array.from({ length: 21 }, (_, i) => i + 357)]);
  });

  for (const { t, key } of cases) {
    const expected = STRICTER_THAN_LABEL.has(t.tcId) ? false : SAME_AS_357.has(t.tcId) ? true : t.result === 'valid';
    it(`tcId ${t.tcId} ${t.comment}: ${expected ? 'accepted' : 'rejected'}`, () => {
      expect(verifyCompactHs256(typeof t.jws === 'string' ? t.jws : JSON.stringify(t.jws), key)).toBe(expected);
    });
  }

  it('367 and 370 are the same bytes as 357; their padded forms, as the comments describe, are rejected', () => {
    const valid = cases.find((c) => c.t.tcId === 357)!;
    for (const id of SAME_AS_357) expect(cases.find((c) => c.t.tcId === id)!.t.jws).toBe(valid.t.jws);
    const [h, p, s] = (valid.t.jws as string).split('.') as [string, string, string];
    expect(verifyCompactHs256(`${h}.${p}.${s}`, valid.key)).toBe(true);
    expect(verifyCompactHs256(`${h}.${p}.${s}=`, valid.key)).toBe(false);
    expect(verifyCompactHs256(`${h}.${p}==.${s}`, valid.key)).toBe(false);
    expect(verifyCompactHs256(`${h}=.${p}.${s}`, valid.key)).toBe(false);
  });

  it('jose alone accepts these invalid-labelled cases (360, 365, 368, 375 are why the strict parser exists)', async () => {
    const accepted: number[] = [];
    for (const { t, key } of cases) {
      if (typeof t.jws !== 'string' || t.result === 'valid') continue;
      const ok = await compactVerify(t.jws, key, { algorithms: ['HS256'] }).then(() => true, () => false);
      if (ok) accepted.push(t.tcId);
    }
    expect(new Set(accepted)).toEqual(JOSE_ACCEPTS);
  });
});
