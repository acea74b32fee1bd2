// Interop: `chatid hash` equals `openssl dgst -sha256 -hmac KEY` (and `-macopt hexkey:` for a
// hex: secret), through the whole CLI, in human and --json modes, argv and stdin.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli } from '../helpers/test-ctx.js';

const probe = spawnSync('openssl', ['version'], { encoding: 'utf8' });
const version = probe.status === 0 ? probe.stdout.trim() : undefined;

function openssl(args: string[], input: string): string {
  const r = spawnSync('openssl', ['dgst', '-sha256', ...args], { input: Buffer.from(input, 'utf8'), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  // "SHA2-256(stdin)= <hex>" or "HMAC-SHA2-256(stdin)= <hex>" depending on the version.
  return r.stdout.trim().split(/\s+/).pop()!;
}

const SECRET = 'sk_interop_0123456789abcdef0123456789';
const IDS = ['user_123', 'User 42 with spaces', 'ünïcödé-ユーザー', '1234567890123456789', 'a'.repeat(300)];

describe.skipIf(version === undefined)(`openssl interop (${version ?? 'skipped: openssl not on PATH'})`, () => {
  for (const id of IDS) {
    it(`hash ${JSON.stringify(id.length > 40 ? `${id.slice(0, 10)}…` : id)} equals openssl dgst -hmac`, async () => {
      const want = openssl(['-hmac', SECRET], id);
      expect(want).toMatch(/^[0-9a-f]{64}$/);
      const human = await runCli(['hash', id], createTestCtx({ env: { CHATID_SECRET: SECRET } }));
      expect([human.exitCode, human.stdout]).toEqual([0, `${want}\n`]);
      const json = await runCli(['hash', id, '--json'], createTestCtx({ env: { CHATID_SECRET: SECRET } }));
      expect(json.exitCode).toBe(0);
      expect(json.json()).toMatchObject({ userId: id, hash: want });
      const piped = await runCli(['hash', '-'], createTestCtx({ env: { CHATID_SECRET: SECRET }, stdin: id }));
      expect(piped.stdout).toBe(`${want}\n`);
      const ok = await runCli(['hash', id, '--expect', want], createTestCtx({ env: { CHATID_SECRET: SECRET } }));
      expect(ok.exitCode).toBe(0);
    });
  }

  it('a hex: secret is used as its decoded bytes, like openssl -macopt hexkey:', async () => {
    const hex = '00ff10203040506070809a0b0c0d0e0f00ff10203040506070809a0b0c0d0e0f';
    const want = openssl(['-mac', 'HMAC', '-macopt', `hexkey:${hex}`], 'user_123');
    const r = await runCli(['hash', 'user_123'], createTestCtx({ env: { CHATID_SECRET: `hex:${hex}` } }));
    expect([r.exitCode, r.stdout]).toEqual([0, `${want}\n`]);
  });

  it('--batch gives, line by line, what openssl gives id by id', async () => {
    const ids = IDS.slice(0, 4);
    const r = await runCli(['hash', '--batch', '-'], createTestCtx({ env: { CHATID_SECRET: SECRET }, stdin: `${ids.join('\n')}\n` }));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(ids.map((id) => `${openssl(['-hmac', SECRET], id)}\n`).join(''));
  });
});
