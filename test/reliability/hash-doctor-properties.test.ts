// Property tests for `hash --expect` (issue 6): the doctor reports a cause only when it is
// proven by recomputation. A hash made with an unrelated secret gets no cause at all; a hash
// made with a known mistake gets that cause; the right hash matches with none.
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli } from '../helpers/test-ctx.js';

// Deterministic by default (the same cases on every run); FC_SEED=<n> explores others.
fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261123) });

const hmac = (key: string, msg: string): string => createHmac('sha256', key).update(msg, 'utf8').digest('hex');
const secret = fc.stringMatching(/^[A-Za-z0-9_]{32,48}$/);
const userId = fc.stringMatching(/^[a-z][a-z0-9_]{2,15}$/);

async function doctor(s: string, u: string, expected: string): Promise<{ exit: number; match: boolean; causes: string[] }> {
  const r = await runCli(['hash', u, '--expect', expected, '--json'], createTestCtx({ env: { CHATID_SECRET: s, CHATID_PROVIDER: 'chatbase' } }));
  const doc = r.json();
  return { exit: r.exitCode, match: doc.match, causes: (doc.causes ?? []).map((c: { code: string }) => c.code) };
}

describe('hash --expect doctor', () => {
  it('matches the right hash with no cause', async () => {
    await fc.assert(
      fc.asyncProperty(secret, userId, async (s, u) => {
        expect(await doctor(s, u, hmac(s, u))).toEqual({ exit: 0, match: true, causes: [] });
      }),
      { numRuns: 40 },
    );
  });

  it('claims no cause for a hash made with an unrelated secret (an honest "no known cause")', async () => {
    await fc.assert(
      fc.asyncProperty(secret, secret, userId, async (s, other, u) => {
        fc.pre(s.trim() !== other.trim());
        expect(await doctor(s, u, hmac(other, u))).toEqual({ exit: 3, match: false, causes: [] });
      }),
      { numRuns: 40 },
    );
  });

  it('finds the mistake that was made: a trailing newline in the secret, an upper-cased id', async () => {
    await fc.assert(
      fc.asyncProperty(secret, userId, async (s, u) => {
        const ws = await doctor(s, u, hmac(`${s}\n`, u));
        expect([ws.exit, ws.causes]).toEqual([3, ['SECRET_WHITESPACE']]);
        const upper = await doctor(s, u, hmac(s, u.toUpperCase()));
        expect(upper.exit).toBe(3);
        expect(upper.causes).toContain('USER_ID_CASE');
      }),
      { numRuns: 30 },
    );
  });
});
