// Property tests for `k=v` claims (issue 6): `token sign --claim k=v`, `--claim-json k=<json>`
// and `--attr k=v` are split at the first `=` by parseSignFlags and assembled by
// buildTokenClaims. Every pair given must land in the signed payload exactly, or be refused
// with a usage error; none may vanish.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/errors.js';
import { parseSignFlags } from '../../src/commands/token/sign.js';
import { buildTokenClaims } from '../../src/core/jwt-claims.js';
import { createTestCtx, runCli } from '../helpers/test-ctx.js';

// Deterministic by default (the same cases on every run); FC_SEED=<n> explores others.
fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261123) });

const RESERVED = new Set(['iat', 'exp', 'sub', 'user_id', 'userId', 'email', 'name', 'phone', 'phonenumber', 'custom_attributes', 'stripe_accounts']);
const key = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !k.includes('=') && !RESERVED.has(k) && k !== '__proto__');
const value = fc.string({ maxLength: 20 });
const flags = (o: Record<string, unknown>) => ({ claim: [], claimJson: [], attr: [], stripeAccount: [], userId: 'u1', exp: '1h', ...o });
const NOW = 1_767_225_600;

describe('--claim k=v / --claim-json / --attr', () => {
  it('splits at the first "=", so values may hold "=" and keys may not be empty', () => {
    fc.assert(
      fc.property(key, value, (k, v) => {
        const o = parseSignFlags(undefined, flags({ claim: [`${k}=${v}`] }), false);
        expect(o.claims).toEqual([[k, v, '--claim']]);
      }),
      { numRuns: 300 },
    );
    for (const bad of ['=v', 'novalue', '']) {
      expect(() => parseSignFlags(undefined, flags({ claim: [bad] }), false), JSON.stringify(bad)).toThrow(UsageError);
    }
  });

  it('puts every distinct claim in the payload as an own property with its exact value', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(key, fc.oneof(value, fc.jsonValue({ maxDepth: 2 }))), { selector: ([k]) => k, maxLength: 6 }), (pairs) => {
        const claims = pairs.map(([k, v]) => [k, JSON.parse(JSON.stringify(v ?? null))] as [string, unknown]);
        const payload = buildTokenClaims({ provider: 'generic', userId: 'u1', claims, now: NOW, exp: { kind: 'in', seconds: 60 }, iat: true });
        expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
        const round = JSON.parse(JSON.stringify(payload)) as Record<string, unknown>;
        for (const [k, v] of claims) expect(round[k], k).toEqual(v);
        expect(Object.keys(round).length).toBe(claims.length + 3);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a claim given twice, or one that --user-id/--exp/--iat own', () => {
    fc.assert(
      fc.property(key, value, value, (k, a, b) => {
        expect(() => buildTokenClaims({ provider: 'generic', userId: 'u1', claims: [[k, a], [k, b]], now: NOW, exp: { kind: 'none' }, iat: false })).toThrow(UsageError);
        for (const owned of ['sub', 'iat', 'exp']) {
          expect(() => buildTokenClaims({ provider: 'generic', userId: 'u1', claims: [[owned, a]], now: NOW, exp: { kind: 'none' }, iat: false }), owned).toThrow(UsageError);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('round-trips through the whole CLI: token sign --claim … --json', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.tuple(key, value), { selector: ([k]) => k, minLength: 1, maxLength: 4 }), async (pairs) => {
        const argv = ['token', 'sign', '--user-id', 'u1', '--provider', 'generic', '--json', ...pairs.flatMap(([k, v]) => ['--claim', `${k}=${v}`])];
        const r = await runCli(argv, createTestCtx({ env: { CHATID_SECRET: 'p'.repeat(32) } }));
        expect(r.exitCode, r.stdout + r.stderr).toBe(0);
        const payload = r.json().payload as Record<string, unknown>;
        for (const [k, v] of pairs) expect(payload[k], k).toBe(v);
      }),
      { numRuns: 60 },
    );
  });

  // Was a bug: buildTokenClaims assigned `out[key] = value`, so "__proto__" set the prototype:
  // the claim vanished (exit 0) or jose refused the payload (ERR_INTERNAL). Now refused.
  it('a claim named __proto__ is kept or refused, never dropped', async () => {
    for (const argv of [
      ['--provider', 'generic', '--claim', '__proto__=x'],
      ['--provider', 'generic', '--claim-json', '__proto__={"admin":true}'],
      ['--provider', 'chatbase', '--attr', '__proto__=x'],
    ]) {
      const r = await runCli(['token', 'sign', '--user-id', 'u1', '--json', ...argv], createTestCtx({ env: { CHATID_SECRET: 'p'.repeat(32) } }));
      if (r.exitCode === 0) expect(r.stdout, argv.join(' ')).toContain('__proto__');
      else expect([r.exitCode, r.json().error.code], argv.join(' ')).toEqual([2, expect.stringMatching(/^ERR_TOKEN_/)]);
    }
  });
});
