// Wycheproof hmac_sha256_test.json (test/vectors/wycheproof/README.md, a vendored copy).
// Applies: the tagSize 256 groups (keySize 256, 128 and 520): `chatid hash` prints and
// compares the full 256-bit tag, so each is computed and compared: valid ones must equal
// the tag, invalid ones (ModifiedTag) must never compare equal.
// Does not apply: the tagSize 128 groups. They test verifiers that accept a truncated tag;
// chatid never does (a user hash is 64 hex chars; a shorter value is a mismatch, and only
// the doctor may *explain* it as DIGEST_TRUNCATED). The test pins exactly that: a 128-bit
// tag, even a valid one, is never equal to our hash.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hashesEqual, hmacBytes } from '../../src/core/hmac.js';

interface Test { tcId: number; comment: string; key: string; msg: string; tag: string; result: 'valid' | 'invalid' | 'acceptable' }
interface Group { keySize: number; tagSize: number; tests: Test[] }
const file = JSON.parse(readFileSync(new URL('./wycheproof/hmac_sha256_test.json', import.meta.url), 'utf8')) as { numberOfTests: number; testGroups: Group[] };
const b = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

describe('Wycheproof HMAC-SHA256', () => {
  const full = file.testGroups.filter((g) => g.tagSize === 256);
  const truncated = file.testGroups.filter((g) => g.tagSize === 128);

  it('has the groups the README lists', () => {
    expect(file.numberOfTests).toBe(174);
    expect(full.map((g) => g.keySize).sort()).toEqual([128, 256, 520]);
    expect(full.reduce((n, g) => n + g.tests.length, 0)).toBe(87);
  });

  for (const g of full) {
    it(`keySize ${g.keySize} / tagSize 256: ${g.tests.length} tests computed and compared`, () => {
      let valid = 0;
      for (const t of g.tests) {
        const ours = hmacBytes(b(t.key), b(t.msg)).toString('hex');
        const equal = hashesEqual(ours, t.tag);
        expect(equal, `tcId ${t.tcId} ${t.comment}`).toBe(t.result === 'valid');
        if (t.result === 'valid') valid++;
      }
      expect(valid).toBeGreaterThan(0);
    });
  }

  it('tagSize 128 groups: never accepted as a full hash (truncated tags are a mismatch)', () => {
    let n = 0;
    for (const g of truncated) {
      for (const t of g.tests) {
        const ours = hmacBytes(b(t.key), b(t.msg)).toString('hex');
        expect(hashesEqual(ours, t.tag), `tcId ${t.tcId}`).toBe(false);
        // The valid ones are exactly our prefix, which is what DIGEST_TRUNCATED recognises.
        if (t.result === 'valid') expect(ours.startsWith(t.tag), `tcId ${t.tcId}`).toBe(true);
        n++;
      }
    }
    expect(n).toBe(87);
  });
});
