// Wycheproof aes_gcm_test.json (../shared/vectors/wycheproof/README.md) against the TeamWeb
// token core. Applies: the one group with keySize 256 / ivSize 96 / tagSize 128 and empty
// AAD (21 valid + 27 invalid): token = base64(iv ‖ ct ‖ tag) must authenticate (valid) or
// fail with ERR_DECRYPT_TAG (invalid). The valid messages are not JSON, so a passing tag shows
// up as a payload error, never a tag error; decryptTeamWebParts returns the exact message.
// The 39 other no-AAD 256-bit tests use IV sizes a TeamWeb token cannot have: rejected by
// format (ERR_DECRYPT_FORMAT) before any decryption. Groups with AAD or 128/192-bit keys
// cannot be expressed in the token format at all (no AAD, AES-256 only).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CliError } from '../../src/cli/errors.js';
import { decryptTeamWeb, decryptTeamWebParts } from '../../src/core/teamweb-decrypt.js';

interface Test { tcId: number; comment: string; key: string; iv: string; aad: string; msg: string; ct: string; tag: string; result: 'valid' | 'invalid' | 'acceptable' }
interface Group { keySize: number; ivSize: number; tagSize: number; tests: Test[] }
const file = JSON.parse(readFileSync('/work/shared/vectors/wycheproof/aes_gcm_test.json', 'utf8')) as { numberOfTests: number; testGroups: Group[] };
const b = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

function codeOf(f: () => unknown): string {
  try {
    f();
    return 'OK';
  } catch (err) {
    return (err as CliError).code ?? String(err);
  }
}

const tokenCases = file.testGroups.filter((g) => g.keySize === 256 && g.ivSize === 96 && g.tagSize === 128).flatMap((g) => g.tests.filter((t) => t.aad === ''));
const formatCases = file.testGroups.filter((g) => g.keySize === 256 && !(g.ivSize === 96 && g.tagSize === 128)).flatMap((g) => g.tests.filter((t) => t.aad === '').map((t) => ({ ...t, ivSize: g.ivSize, tagSize: g.tagSize })));

describe('Wycheproof AES-256-GCM, as TeamWeb tokens', () => {
  it('covers the 48 expressible tests and the 39 format-rejected ones', () => {
    expect(tokenCases.length).toBe(48);
    expect(tokenCases.filter((t) => t.result === 'valid').length).toBe(21);
    expect(tokenCases.filter((t) => t.result === 'invalid').length).toBe(27);
    expect(formatCases.length).toBe(39);
  });

  for (const t of tokenCases) {
    it(`tcId ${t.tcId} (${t.result}${t.comment ? `: ${t.comment}` : ''})`, () => {
      const token = Buffer.concat([b(t.iv), b(t.ct), b(t.tag)]).toString('base64');
      const code = codeOf(() => decryptTeamWeb(b(t.key), token));
      const parts = () => decryptTeamWebParts(b(t.key), { iv: b(t.iv), ciphertext: b(t.ct), tag: b(t.tag) });
      if (t.result === 'valid') {
        expect(code).not.toBe('ERR_DECRYPT_TAG');
        expect(['OK', 'ERR_DECRYPT_NOT_JSON', 'ERR_DECRYPT_NOT_OBJECT']).toContain(code);
        expect(Buffer.from(parts()).toString('hex')).toBe(t.msg);
      } else {
        expect(code).toBe('ERR_DECRYPT_TAG');
        expect(codeOf(parts)).toBe('ERR_DECRYPT_TAG');
      }
    });
  }

  it('other IV sizes (0 to 2056 bits) are rejected by format, never decrypted', () => {
    for (const t of formatCases) {
      const code = codeOf(() => decryptTeamWebParts(b(t.key), { iv: b(t.iv), ciphertext: b(t.ct), tag: b(t.tag) }));
      expect(code, `tcId ${t.tcId} ivSize ${t.ivSize}`).toBe('ERR_DECRYPT_FORMAT');
    }
  });
});
