// Property tests for TeamWeb AES-256-GCM tokens (issue 6): encrypt/decrypt round-trip any
// JSON object; any change to a token (one bit of its bytes, one character of its text) is
// refused with a VerificationError, never another exception and never a wrong payload.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VerificationError } from '../../src/cli/errors.js';
import { decryptTeamWeb } from '../../src/core/teamweb-decrypt.js';
import { encryptTeamWeb } from '../../src/core/teamweb-encrypt.js';

// Deterministic by default (the same cases on every run); FC_SEED=<n> explores others.
fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261123) });

const key = fc.uint8Array({ minLength: 32, maxLength: 32 });
const nonce = fc.uint8Array({ minLength: 12, maxLength: 12 });
const payload = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }).map((o) => JSON.parse(JSON.stringify({ id: 'u1', ...o })) as Record<string, unknown>);

function refusal(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(VerificationError);
    return (err as VerificationError).code;
  }
}

describe('TeamWeb tokens', () => {
  it('round-trip any JSON object', () => {
    fc.assert(
      fc.property(key, nonce, payload, (k, n, p) => {
        const token = encryptTeamWeb(k, JSON.stringify(p), n);
        expect(decryptTeamWeb(k, token).payload).toEqual(p);
      }),
      { numRuns: 200 },
    );
  });

  it('refuse any one-bit change of the token bytes with ERR_DECRYPT_TAG', () => {
    fc.assert(
      fc.property(key, nonce, payload, fc.nat(), fc.integer({ min: 0, max: 7 }), (k, n, p, at, bit) => {
        const bytes = Buffer.from(encryptTeamWeb(k, JSON.stringify(p), n), 'base64');
        bytes[at % bytes.length]! ^= 1 << bit;
        expect(refusal(() => decryptTeamWeb(k, bytes.toString('base64')))).toBe('ERR_DECRYPT_TAG');
      }),
      { numRuns: 300 },
    );
  });

  it('refuse any one-character change of the token text', () => {
    const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ .';
    fc.assert(
      fc.property(key, nonce, payload, fc.nat(), fc.constantFrom(...chars), (k, n, p, at, c) => {
        const token = encryptTeamWeb(k, JSON.stringify(p), n);
        const i = at % token.length;
        fc.pre(token[i] !== c);
        const code = refusal(() => decryptTeamWeb(k, `${token.slice(0, i)}${c}${token.slice(i + 1)}`));
        expect(['ERR_DECRYPT_BASE64', 'ERR_DECRYPT_TAG', 'ERR_DECRYPT_LENGTH'], `position ${i} → ${c}`).toContain(code);
      }),
      { numRuns: 300 },
    );
  });

  it('refuse another key, and any text at all, only with VerificationError', () => {
    fc.assert(
      fc.property(key, key, nonce, payload, fc.string({ maxLength: 80 }), (k, other, n, p, junk) => {
        fc.pre(Buffer.compare(Buffer.from(k), Buffer.from(other)) !== 0);
        expect(refusal(() => decryptTeamWeb(other, encryptTeamWeb(k, JSON.stringify(p), n)))).toBe('ERR_DECRYPT_TAG');
        refusal(() => decryptTeamWeb(k, junk));
      }),
      { numRuns: 200 },
    );
  });
});
