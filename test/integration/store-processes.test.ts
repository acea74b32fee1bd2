import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCliBundle, removeCliBundle, runBin } from './store-bundle.js';

let bin: string;
beforeAll(async () => {
  bin = await buildCliBundle();
});
// Every test awaits the processes it starts, so nothing runs from the build any more.
afterAll(() => removeCliBundle(bin));

function tempConfigDir(): { dir: string; file: string; env: Record<string, string> } {
  const dir = join(mkdtempSync(join(tmpdir(), 'chatid-proc-')), 'config');
  return { dir, file: join(dir, 'config.json'), env: { CHATID_CONFIG_DIR: dir } };
}

const mode = (path: string): number => statSync(path).mode & 0o777;

describe('the store under real processes', () => {
  it('20 parallel processes each add a profile (umask 000) and all 20 are there, file 0600, dir 0700', async () => {
    const { dir, file, env } = tempConfigDir();
    const runs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        runBin(bin, ['profile', 'add', `p${i}`, '--provider', 'generic', '--secret-stdin', '--no-input', '--json'], { env, stdin: `secret-number-${i}`, umask: '000' }),
      ),
    );
    for (const r of runs) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).profile.secret.fingerprint).toMatch(/^[0-9a-f]{8}$/);
    }
    const data = JSON.parse(readFileSync(file, 'utf8'));
    expect(Object.keys(data.profiles).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `p${i}`).sort());
    for (let i = 0; i < 20; i++) expect(data.profiles[`p${i}`]).toEqual({ provider: 'generic', secret: `secret-number-${i}` });
    // Exactly one process found the store without an active profile.
    expect(data.activeProfile).toMatch(/^p\d+$/);
    expect(runs.filter((r) => JSON.parse(r.stdout).profile.active)).toHaveLength(1);
    expect(mode(file)).toBe(0o600);
    expect(mode(dir)).toBe(0o700);
  });

  it('keeps the file 0600 after every kind of write under umask 000', async () => {
    const { dir, file, env } = tempConfigDir();
    const steps: Array<[string[], string]> = [
      [['profile', 'add', 'a', '--provider', 'chatbase', '--secret-stdin'], 'first-secret-value'],
      [['profile', 'add', 'b', '--provider', 'teamweb', '--secret-stdin', '--use'], Buffer.alloc(32, 3).toString('base64')],
      [['profile', 'use', 'a'], ''],
      [['secret', 'set', '--secret-stdin'], 'second-secret-value'],
      [['secret', 'rotate', '--generate'], ''],
      [['profile', 'remove', 'b', '--yes'], ''],
    ];
    for (const [args, stdin] of steps) {
      const r = await runBin(bin, [...args, '--no-input'], { env, stdin, umask: '000' });
      expect({ args, code: r.code, stderr: r.stderr.includes('error:') ? r.stderr : '' }).toEqual({ args, code: 0, stderr: '' });
      expect(mode(file)).toBe(0o600);
    }
    expect(mode(dir)).toBe(0o700);
    const whoami = await runBin(bin, ['whoami', '--json'], { env });
    expect(JSON.parse(whoami.stdout).store).toEqual({ path: file, exists: true, mode: '0600', dir, dirMode: '0700' });
  });

  it.each([
    ['corrupt JSON', '{"profiles": {"a": {"provider": "chatbase", "secret": LEAKME_0123456789}}}', 'ERR_STORE_CORRUPT'],
    ['truncated JSON', '{"profiles": {"a": {"provider": "chatbase", ', 'ERR_STORE_CORRUPT'],
    ['wrong types', '{"profiles": {"a": {"provider": "chatbase", "secret": 42}}}', 'ERR_STORE_INVALID'],
    ['an unknown provider', '{"profiles": {"a": {"provider": "nope"}}, "activeProfile": "a"}', 'ERR_STORE_INVALID'],
  ])('%s: exit 1 with %s, no stack trace, file bytes unchanged', async (_what, text, code) => {
    const { dir, file, env } = tempConfigDir();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(file, text, { mode: 0o600 });
    // whoami, a diagnostic, warns instead (exit 0): checked after the loop.
    for (const args of [['profile', 'list'], ['profile', 'add', 'b', '--provider', 'generic'], ['secret', 'set', '--secret-stdin']]) {
      const human = await runBin(bin, [...args, '--no-input'], { env, stdin: 'some-secret' });
      expect([args, human.code]).toEqual([args, 1]);
      expect(human.stdout).toBe('');
      expect(human.stderr).toContain(`(${code})`);
      expect(human.stderr).toContain(file);
      expect(human.stderr).toMatch(/hint: /);
      expect(human.stderr).not.toMatch(/^\s+at /m);
      const verbose = await runBin(bin, [...args, '--no-input', '--verbose'], { env, stdin: 'some-secret' });
      expect(verbose.code).toBe(1);
      expect(verbose.stderr).not.toContain('LEAKME');
      expect(human.stderr).not.toContain('LEAKME');
      const json = await runBin(bin, [...args, '--no-input', '--json'], { env, stdin: 'some-secret' });
      expect([json.code, JSON.parse(json.stdout).error.code]).toEqual([1, code]);
      expect(readFileSync(file, 'utf8')).toBe(text);
    }
    const whoami = await runBin(bin, ['whoami', '--no-input', '--verbose', '--json'], { env });
    expect([whoami.code, JSON.parse(whoami.stdout).warnings.map((w: { code: string }) => `ERR_${w.code}`)]).toEqual([0, [code]]);
    expect(whoami.stderr).toContain(file);
    expect(whoami.stderr).not.toContain('LEAKME');
    expect(whoami.stderr).not.toMatch(/^\s+at /m);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('a directory where the store file should be: exit 1, ERR_STORE_UNREADABLE', async () => {
    const { file, env } = tempConfigDir();
    mkdirSync(file, { recursive: true });
    const r = await runBin(bin, ['profile', 'add', 'x', '--provider', 'generic', '--no-input'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('(ERR_STORE_UNREADABLE)');
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(statSync(file).isDirectory()).toBe(true);
  });
});
