// Every profile/secret command turns a store failure into exit 1 with the store's error code
// (human and --json), no stack trace, and no write; whoami, a diagnostic, reports it as a warning.
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/cli/errors.js';
import type { ProfileStore } from '../../src/store/types.js';
import { createTestCtx, runCli } from '../helpers/test-ctx.js';

function brokenStore(code: string): ProfileStore & { writes: number } {
  const fail = (): never => {
    throw new StoreError(code, 'The store /x/config.json is not valid JSON (syntax error at line 1, column 2).', { hint: 'Repair it by hand.' });
  };
  const s = {
    path: '/x/config.json',
    writes: 0,
    read: async () => fail(),
    update: async <T>(): Promise<T> => {
      s.writes++;
      return fail();
    },
    fileMode: async () => 0o600,
    dirMode: async () => 0o700,
  };
  return s;
}

const COMMANDS = [
  ['profile', 'add', 'x', '--provider', 'generic'],
  ['profile', 'list'],
  ['profile', 'use', 'x'],
  ['profile', 'show', 'x'],
  ['profile', 'remove', 'x', '--yes'],
  ['secret', 'set', '--secret', 'abc'],
  ['secret', 'rotate', '--generate'],
  ['secret', 'show'],
  ['secret', 'list'],
];

describe('store failures', () => {
  it('chatid whoami, a diagnostic, reports the store failure as a warning beside the rest (exit 0)', async () => {
    const human = await runCli(['whoami'], createTestCtx({ store: brokenStore('ERR_STORE_CORRUPT') }));
    expect(human.exitCode).toBe(0);
    expect(human.stderr).toContain('warning: The store /x/config.json is not valid JSON');
    expect(human.stderr).toContain('hint: Repair it by hand.');
    expect(human.stdout).toContain('(none: settings come from flags and the environment only)');
    const json = await runCli(['whoami', '--json'], createTestCtx({ store: brokenStore('ERR_STORE_UNREADABLE') }));
    expect([json.exitCode, json.json().warnings.map((w: { code: string }) => w.code)]).toEqual([0, ['STORE_UNREADABLE']]);
  });

  for (const argv of COMMANDS) {
    it(`chatid ${argv.join(' ')} exits 1 with the store's code`, async () => {
      const human = await runCli(argv, createTestCtx({ store: brokenStore('ERR_STORE_CORRUPT') }));
      expect(human.exitCode).toBe(1);
      expect(human.stdout).toBe('');
      expect(human.stderr).toContain('error: The store /x/config.json is not valid JSON');
      expect(human.stderr).toContain('(ERR_STORE_CORRUPT)');
      expect(human.stderr).toContain('hint: Repair it by hand.');
      expect(human.stderr).not.toMatch(/^\s+at /m);
      const json = await runCli([...argv, '--json'], createTestCtx({ store: brokenStore('ERR_STORE_UNREADABLE') }));
      expect([json.exitCode, json.json().error.code]).toEqual([1, 'ERR_STORE_UNREADABLE']);
    });
  }
});
