// Wycheproof aes_gcm_test.json against the TeamWeb token core (vendors.md §4).
//
// Which groups apply: a TeamWeb token is base64(nonce(12) ‖ ciphertext ‖ tag(16)) under a
// 32-byte key with no AAD, so exactly one group can be expressed as a token: keySize 256 /
// ivSize 96 / tagSize 128, restricted to tests with aad == "" (21 valid + 27 invalid = 48).
// For those we build the token and expect: valid → the tag verifies and the plaintext is the
// vector's msg (the token layer then refuses it as "not JSON", which also proves the tag
// passed); invalid → ERR_DECRYPT_TAG. Valid vectors are also re-encrypted and must give the
// same token byte for byte.
// The other no-AAD 256-bit tests (39: IV sizes 0, 8…80, 120, 128, 160, 256…2056 bits) cannot
// be written in the token layout at all: given as parts they are refused by format
// (ERR_DECRYPT_FORMAT) before any decryption is tried. 128/192-bit keys are refused by the
// key parser (ERR_SECRET_KEY_LENGTH). Tests with AAD do not apply: TeamWeb uses none.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decryptTeamWeb, decryptTeamWebParts } from '../../src/core/teamweb-decrypt.js';
import { encryptTeamWeb } from '../../src/core/teamweb-encrypt.js';
import { parseTeamWebKey } from '../../src/core/teamweb-key.js';

interface Test { tcId: number; key: string; iv: string; aad: string; msg: string; ct: string; tag: string; result: 'valid' | 'invalid' | 'acceptable'; flags: string[] }
interface Group { keySize: number; ivSize: number; tagSize: number; tests: Test[] }
const data = JSON.parse(readFileSync(new URL('./wycheproof/aes_gcm_test.json', import.meta.url), 'utf8')) as { testGroups: Group[] };
const h = (s: string) => Buffer.from(s, 'hex');

const applicable = data.testGroups.filter((g) => g.keySize === 256 && g.ivSize === 96 && g.tagSize === 128).flatMap((g) => g.tests.filter((t) => t.aad === ''));
const otherSizes = data.testGroups.filter((g) => g.keySize === 256 && !(g.ivSize === 96 && g.tagSize === 128)).flatMap((g) => g.tests.filter((t) => t.aad === ''));

describe('Wycheproof AES-GCM: the token group (256/96/128, no AAD)', () => {
  it('has the 48 expected tests (21 valid, 27 invalid)', () => {
    expect(applicable).toHaveLength(48);
    expect(applicable.filter((t) => t.result === 'valid')).toHaveLength(21);
    expect(applicable.filter((t) => t.result === 'invalid')).toHaveLength(27);
  });

  it.each(applicable.map((t) => [t.tcId, t.result, t.flags.join(','), t] as const))('tcId %i (%s %s)', (_id, _r, _f, t) => {
    const key = h(t.key);
    const token = Buffer.concat([h(t.iv), h(t.ct), h(t.tag)]).toString('base64');
    // The key as a user would configure it: base64 of 32 bytes.
    expect(parseTeamWebKey(key.toString('base64'))).toEqual(new Uint8Array(key));
    if (t.result === 'valid') {
      expect(decryptTeamWebParts(key, { iv: h(t.iv), ciphertext: h(t.ct), tag: h(t.tag) }).toString('hex')).toBe(t.msg);
      expect(encryptTeamWeb(key, h(t.msg), h(t.iv))).toBe(token);
      let code: string | undefined;
      try {
        decryptTeamWeb(key, token);
      } catch (err) {
        code = (err as { code: string }).code;
      }
      // Wycheproof plaintexts are not JSON objects; getting past the tag is what counts.
      expect(['ERR_DECRYPT_NOT_JSON', 'ERR_DECRYPT_NOT_OBJECT', undefined]).toContain(code);
    } else {
      expect(() => decryptTeamWebParts(key, { iv: h(t.iv), ciphertext: h(t.ct), tag: h(t.tag) })).toThrow(expect.objectContaining({ code: 'ERR_DECRYPT_TAG', exitCode: 3 }));
      expect(() => decryptTeamWeb(key, token)).toThrow(expect.objectContaining({ code: 'ERR_DECRYPT_TAG', exitCode: 3 }));
    }
  });
});

describe('Wycheproof AES-GCM: 256-bit tests the token layout cannot express', () => {
  it('are the 39 expected ones', () => {
    expect(otherSizes).toHaveLength(39);
  });
  it.each(otherSizes.map((t) => [t.tcId, t.iv.length / 2, t] as const))('tcId %i (%i-byte IV) is refused by format', (_id, _n, t) => {
    expect(() => decryptTeamWebParts(h(t.key), { iv: h(t.iv), ciphertext: h(t.ct), tag: h(t.tag) })).toThrow(expect.objectContaining({ code: 'ERR_DECRYPT_FORMAT' }));
  });
  it('128- and 192-bit keys are refused by the key parser', () => {
    for (const size of [16, 24]) {
      expect(() => parseTeamWebKey(Buffer.alloc(size, 7).toString('base64'))).toThrow(expect.objectContaining({ code: 'ERR_SECRET_KEY_LENGTH', exitCode: 2 }));
    }
  });
});
