// Broken TeamWeb identity tokens (issue 6): `decrypt` refuses each with exit 3 (or 2 for
// input refused before decryption), one error code per kind of failure (bad base64, wrong
// length, tag failure, payload not JSON: cli.md §5), never prints any plaintext, and never
// a stack trace. A payload without `id` still decrypts, with a MISSING_ID warning.
import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli } from '../helpers/test-ctx.js';
import { expectNoStackTrace } from './harness.js';
import { seal, TW_BAD, TW_GOOD, TW_KEY } from './teamweb-cases.js';

const env = { CHATID_SECRET: TW_KEY, CHATID_PROVIDER: 'teamweb' };
const CODE = { base64: 'ERR_DECRYPT_BASE64', length: 'ERR_DECRYPT_LENGTH', tag: 'ERR_DECRYPT_TAG', payload: 'ERR_DECRYPT_NOT_JSON' } as const;

describe('TeamWeb corpus: decrypt', () => {
  it('decrypts the reference token to its payload, alone on stdout', async () => {
    const r = await runCli(['decrypt', TW_GOOD], createTestCtx({ env }));
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ id: 'u1', email: 'u1@example.com' });
  });

  it('decrypts a payload without id, with a MISSING_ID warning (exit 0)', async () => {
    const r = await runCli(['decrypt', seal(TW_KEY, '{"email":"x@example.com"}').toString('base64'), '--json'], createTestCtx({ env }));
    expect(r.exitCode, r.stdout).toBe(0);
    const doc = r.json();
    expect(doc.payload).toEqual({ email: 'x@example.com' });
    expect(doc.warnings.map((w: { code: string }) => w.code)).toContain('MISSING_ID');
  });

  it('refuses every broken token, one code per kind of failure, without plaintext or stack trace', async () => {
    const codes = new Map<string, Set<string>>();
    for (const c of TW_BAD) {
      for (const json of [true, false]) {
        const r = await runCli(['decrypt', c.token, ...(json ? ['--json'] : [])], createTestCtx({ env }));
        const name = `decrypt "${c.name}" (${json ? 'json' : 'human'})`;
        expectNoStackTrace(name, r.stdout, r.stderr);
        expect(r.exitCode, `${name}: exit ${r.exitCode}\n${r.stdout}\n${r.stderr}`).toBe(3);
        expect(r.stdout + r.stderr, `${name}: plaintext shown`).not.toMatch(/u1@example\.com|"id":"u1/);
        if (json) {
          const code = r.json().error?.code as string | undefined;
          expect(code, `${name}\n${r.stdout}`).toBe(CODE[c.kind]);
          if (!codes.has(c.kind)) codes.set(c.kind, new Set());
          codes.get(c.kind)!.add(code!);
        } else {
          expect(r.stderr, name).toContain(`(${CODE[c.kind]})`);
        }
      }
    }
    // The contract's four kinds are told apart (and consistently within a kind).
    const byKind = Object.fromEntries([...codes].map(([k, v]) => [k, [...v]]));
    for (const [kind, list] of Object.entries(byKind)) expect(list, `${kind}: several codes`).toHaveLength(1);
    const distinct = new Set(Object.values(byKind).map((l) => l[0]));
    expect(distinct.size, JSON.stringify(byKind)).toBe(4);
  });

  it('refuses a key that is not base64 of 32 bytes with exit 2, before touching the token', async () => {
    for (const key of ['not-base64!', Buffer.alloc(16, 1).toString('base64'), Buffer.alloc(32, 1).toString('base64url')]) {
      const r = await runCli(['decrypt', TW_GOOD, '--json'], createTestCtx({ env: { ...env, CHATID_SECRET: key } }));
      expect([r.exitCode, r.json().error?.code], key).toEqual([2, expect.stringMatching(/^ERR_SECRET/)]);
    }
  });
});

describe('TeamWeb corpus: encrypt', () => {
  it('round-trips through decrypt, with a fresh nonce per token', async () => {
    const a = await runCli(['encrypt', '--id', 'u1', '--email', 'u1@example.com'], createTestCtx({ env, randomByte: 1 }));
    const b = await runCli(['encrypt', '--id', 'u1', '--email', 'u1@example.com'], createTestCtx({ env, randomByte: 2 }));
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
    expect(a.stdout.trim()).not.toBe(b.stdout.trim());
    const d = await runCli(['decrypt', a.stdout.trim()], createTestCtx({ env }));
    expect(JSON.parse(d.stdout)).toEqual({ id: 'u1', email: 'u1@example.com' });
  });
});
