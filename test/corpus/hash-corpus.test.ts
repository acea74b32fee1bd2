// Malformed `hash --expect` values and user ids (issue 6): a mismatch is exit 3 with only
// causes proven by recomputation (none for garbage), bad input is exit 2 with its code, and
// nothing prints a stack trace.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli } from '../helpers/test-ctx.js';
import { expectJsonError, expectNoStackTrace } from './harness.js';

const SECRET = 'hash-corpus-secret-0123456789abcdefghij';
const env = { CHATID_SECRET: SECRET, CHATID_PROVIDER: 'chatbase' };
const digest = createHmac('sha256', SECRET).update('u1').digest();
const HEX = digest.toString('hex');

interface HashCase {
  name: string;
  expect: string;
  exit: 0 | 3;
  /** Exactly these cause codes (order ignored). */
  causes?: string[];
}

const CASES: HashCase[] = [
  { name: 'the right hash', expect: HEX, exit: 0 },
  { name: 'upper-case hex', expect: HEX.toUpperCase(), exit: 3, causes: ['DIGEST_UPPERCASE'] },
  { name: 'truncated to 32 hex chars', expect: HEX.slice(0, 32), exit: 3, causes: ['DIGEST_TRUNCATED'] },
  { name: 'base64 digest', expect: digest.toString('base64'), exit: 3, causes: ['DIGEST_BASE64'] },
  { name: 'base64url digest', expect: digest.toString('base64url'), exit: 3, causes: ['DIGEST_BASE64'] },
  { name: 'garbage', expect: 'zz', exit: 3, causes: [] },
  { name: 'one wrong hex digit', expect: `${HEX.slice(0, -1)}${HEX.endsWith('0') ? '1' : '0'}`, exit: 3, causes: [] },
  { name: 'a non-hex letter', expect: `g${HEX.slice(1)}`, exit: 3, causes: [] },
  { name: '10 000 characters', expect: 'a'.repeat(10_000), exit: 3, causes: [] },
  { name: 'non-ASCII', expect: 'é'.repeat(64), exit: 3, causes: [] },
  { name: 'a NUL inside', expect: `${HEX.slice(0, 10)}\u0000${HEX.slice(11)}`, exit: 3, causes: [] },
];

describe('hash corpus: --expect', () => {
  for (const c of CASES) {
    it(`${c.name} → exit ${c.exit}${c.causes?.length ? ` (${c.causes.join(', ')})` : ''}`, async () => {
      for (const json of [true, false]) {
        const r = await runCli(['hash', 'u1', '--expect', c.expect, ...(json ? ['--json'] : [])], createTestCtx({ env }));
        const name = `hash --expect "${c.name}" (${json ? 'json' : 'human'})`;
        expectNoStackTrace(name, r.stdout, r.stderr);
        expect(r.exitCode, `${name}\n${r.stdout}\n${r.stderr}`).toBe(c.exit);
        if (!json) continue;
        const doc = r.json();
        expect([doc.hash, doc.match], name).toEqual([HEX, c.exit === 0]);
        if (c.causes) expect(doc.causes.map((x: { code: string }) => x.code).sort(), name).toEqual([...c.causes].sort());
      }
    });
  }

  it('refuses an empty --expect and a missing or empty user id with exit 2', async () => {
    for (const [argv, stdin, code] of [
      [['hash', 'u1', '--expect', ''], undefined, 'ERR_HASH_EXPECT_EMPTY'],
      [['hash'], undefined, 'ERR_HASH_USER_ID_REQUIRED'],
      [['hash', ''], undefined, 'ERR_HASH_USER_ID_REQUIRED'],
    ] as const) {
      const r = await runCli([...argv, '--json'], createTestCtx({ env, stdin }));
      expectJsonError(`chatid ${argv.join(' ')}`, r, 2, code);
    }
  });

  it('reads the user id from stdin without its trailing newline', async () => {
    const r = await runCli(['hash', '--json'], createTestCtx({ env, stdin: 'u1\n' }));
    expect([r.exitCode, r.json().hash]).toEqual([0, HEX]);
  });
});
