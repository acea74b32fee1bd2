// Property tests for the token commands' time arguments (issue 6): `--exp` (duration, Unix
// seconds or none) and `--at` (ISO 8601 or Unix seconds). Each parses what it documents
// exactly and refuses everything else with a UsageError, never another exception.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/errors.js';
import { parseAt } from '../../src/commands/token/shared.js';
import { parseExp } from '../../src/commands/token/sign.js';

// Deterministic by default (the same cases on every run); FC_SEED=<n> explores others.
fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261123) });

const NOW = 1_767_225_600;
const UNITS: Array<[string, number]> = [['s', 1], ['m', 60], ['h', 3600], ['d', 86_400], ['w', 604_800]];

async function thrown(p: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof p === 'function' ? p() : p);
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('--exp', () => {
  it('reads <n><unit> as a lifetime in whole seconds', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 100_000 }), fc.constantFrom(...UNITS), fc.boolean(), async (n, [u, f], plus) => {
        expect(await parseExp(`${plus ? '+' : ''}${n}${u}`, NOW)).toEqual({ kind: 'in', seconds: n * f });
      }),
      { numRuns: 200 },
    );
  });

  it('reads a bare number as an absolute Unix time in the future, and refuses past or millisecond values', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 47 }), async (n) => {
        const r = await thrown(parseExp(String(n), NOW));
        if (n > NOW && n < 1e11) expect(await parseExp(String(n), NOW)).toEqual({ kind: 'at', unix: n });
        else {
          expect(r, String(n)).toBeInstanceOf(UsageError);
          expect((r as UsageError).code).toBe('ERR_TOKEN_EXP');
        }
      }),
      { numRuns: 300 },
    );
    for (const none of ['none', 'NONE', ' None ']) expect(await parseExp(none, NOW)).toEqual({ kind: 'none' });
  });

  it('never throws anything but ERR_TOKEN_EXP on any text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 20 }), fc.stringMatching(/^[+-]?\d{0,25}(\.\d{0,3})?[a-z]{0,5}$/)), async (t) => {
        const e = await thrown(parseExp(t, NOW));
        if (e !== undefined) expect([e instanceof UsageError, (e as UsageError).code], JSON.stringify(t)).toEqual([true, 'ERR_TOKEN_EXP']);
      }),
      { numRuns: 500 },
    );
  });
});

describe('--at', () => {
  it('reads Unix seconds and ISO 8601 (UTC) as the same instant (below 1e11, where milliseconds are refused)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e11 - 1 }), (t) => {
        expect(parseAt(String(t))).toBe(t);
        expect(parseAt(new Date(t * 1000).toISOString())).toBe(t);
        expect(parseAt(new Date(t * 1000).toISOString().replace('.000Z', '+00:00'))).toBe(t);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws anything but ERR_TOKEN_AT, and never returns NaN', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 30 }), fc.stringMatching(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?[Z+-]?\d{0,4}$/), fc.stringMatching(/^-?\d{1,16}(\.\d{1,4})?$/)), async (t) => {
        const e = await thrown(() => parseAt(t));
        if (e !== undefined) expect([e instanceof UsageError, (e as UsageError).code], JSON.stringify(t)).toEqual([true, 'ERR_TOKEN_AT']);
        else expect(Number.isFinite(parseAt(t)), JSON.stringify(t)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
