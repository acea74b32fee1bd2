// Malformed and invalid tokens (issue 6): `token verify` answers every one with exit 3, a
// JSON document naming each error code, and no stack trace; `token decode` never crashes on
// them either. Input refused before verification (too large, missing) is a usage error.
import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli } from '../helpers/test-ctx.js';
import { expectHumanError, expectJsonError, expectNoStackTrace } from './harness.js';
import { CORPUS_SECRET, GOOD_TOKEN, TOKEN_CASES } from './token-cases.js';

const env = { CHATID_SECRET: CORPUS_SECRET, CHATID_PROVIDER: 'chatbase' };

describe('token corpus: token verify', () => {
  it('the reference token is valid (the corpus is built right)', async () => {
    const r = await runCli(['token', 'verify', GOOD_TOKEN, '--json'], createTestCtx({ env }));
    expect([r.exitCode, r.json().valid], r.stdout).toEqual([0, true]);
  });

  for (const c of TOKEN_CASES) {
    it(`${c.name}: ${c.usage ?? (c.errors.join(', ') || 'valid')}`, async () => {
      const argv = ['token', 'verify', ...(c.stdin ? [] : [c.token])];
      for (const json of [true, false]) {
        const r = await runCli([...argv, ...(json ? ['--json'] : [])], createTestCtx({ env, stdin: c.stdin ? c.token : undefined }));
        const name = `token "${c.name}" (${json ? 'json' : 'human'})`;
        if (c.usage) {
          if (json) expectJsonError(name, r, c.exit ?? 2, c.usage);
          else expectHumanError(name, r, c.exit ?? 2, c.usage);
          continue;
        }
        expectNoStackTrace(name, r.stdout, r.stderr);
        expect(r.exitCode, `${name}\n${r.stdout}\n${r.stderr}`).toBe(c.exit ?? 3);
        if (json) {
          const doc = r.json();
          expect(doc.valid, name).toBe(c.errors.length === 0);
          expect(doc.errors.map((e: { code: string }) => e.code), name).toEqual(expect.arrayContaining(c.errors));
          for (const e of doc.errors) expect(e.message.length, `${name}: ${e.code} without a message`).toBeGreaterThan(0);
        } else if (c.errors.length) {
          // Humans see each error code's explanation, not just "invalid".
          expect(r.stdout + r.stderr, name).toMatch(/invalid/i);
        }
      }
    });
  }
});

describe('token corpus: token decode', () => {
  for (const c of TOKEN_CASES.filter((x) => !x.usage)) {
    it(`${c.name}: decodes or refuses cleanly`, async () => {
      const r = await runCli(['token', 'decode', ...(c.stdin ? [] : [c.token]), '--json'], createTestCtx({ env, stdin: c.stdin ? c.token : undefined }));
      const name = `decode "${c.name}"`;
      expectNoStackTrace(name, r.stdout, r.stderr);
      const doc = r.json();
      if (r.exitCode === 0) {
        // Decoded: it must say loudly that nothing was verified.
        expect(JSON.stringify(doc) + r.stderr, name).toMatch(/verif/i);
      } else {
        expect([r.exitCode, doc.error?.code], `${name}\n${r.stdout}`).toEqual([3, 'ERR_TOKEN_MALFORMED']);
      }
    });
  }
});
