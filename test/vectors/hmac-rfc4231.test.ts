// RFC 4231 §4: the HMAC-SHA256 test cases, through the same functions `chatid hash` uses.
import { describe, expect, it } from 'vitest';
import { hashesEqual, hmacBytes, userHash, userHasher } from '../../src/core/hmac.js';

const h = (s: string) => Buffer.from(s, 'hex');
const CASES: Array<{ n: number; key: Buffer; data: Buffer; mac: string; truncate?: number }> = [
  { n: 1, key: Buffer.alloc(20, 0x0b), data: Buffer.from('Hi There'), mac: 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7' },
  { n: 2, key: Buffer.from('Jefe'), data: Buffer.from('what do ya want for nothing?'), mac: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843' },
  { n: 3, key: Buffer.alloc(20, 0xaa), data: Buffer.alloc(50, 0xdd), mac: '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe' },
  { n: 4, key: h('0102030405060708090a0b0c0d0e0f10111213141516171819'), data: Buffer.alloc(50, 0xcd), mac: '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b' },
  { n: 5, key: Buffer.alloc(20, 0x0c), data: Buffer.from('Test With Truncation'), mac: 'a3b6167473100ee06e0c796c2955552b', truncate: 16 },
  { n: 6, key: Buffer.alloc(131, 0xaa), data: Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First'), mac: '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54' },
  {
    n: 7,
    key: Buffer.alloc(131, 0xaa),
    data: Buffer.from('This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.'),
    mac: '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
  },
];

describe('HMAC-SHA256, RFC 4231 test cases', () => {
  for (const c of CASES) {
    it(`test case ${c.n}${c.truncate ? ' (truncated to 128 bits by the RFC)' : ''}`, () => {
      const full = hmacBytes(new Uint8Array(c.key), new Uint8Array(c.data)).toString('hex');
      if (c.truncate) {
        expect(full.slice(0, c.truncate * 2)).toBe(c.mac);
        // A user hash is always the full 64 hex chars: the truncated value never "matches".
        expect(hashesEqual(full, c.mac)).toBe(false);
      } else {
        expect(full).toBe(c.mac);
        expect(hashesEqual(full, c.mac)).toBe(true);
      }
    });
  }

  it('userHash / userHasher agree with the RFC on text data (case 2: key "Jefe")', () => {
    expect(userHash('Jefe', 'what do ya want for nothing?')).toBe(CASES[1]!.mac);
    expect(userHasher(new Uint8Array(Buffer.from('Jefe')))('what do ya want for nothing?')).toBe(CASES[1]!.mac);
    expect(userHasher('Jefe')('what do ya want for nothing?')).toBe(CASES[1]!.mac);
  });

  it('hashesEqual: equal only for identical strings, including different lengths and case', () => {
    expect(hashesEqual('abc', 'abc')).toBe(true);
    expect(hashesEqual('abc', 'ABC')).toBe(false);
    expect(hashesEqual('abc', 'abcd')).toBe(false);
    expect(hashesEqual('', '')).toBe(true);
  });
});
