import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli } from '../../../test/helpers/test-ctx.js';
import { StoreError } from '../../cli/errors.js';
import { memoryStore } from '../../store/memory-store.js';

describe('profile use', () => {
  it('makes a profile active', async () => {
    const ctx = createTestCtx({ profiles: { a: { provider: 'generic' }, b: { provider: 'chatbase' } }, activeProfile: 'a' });
    const r = await runCli(['profile', 'use', 'b'], ctx);
    expect([r.exitCode, r.stdout]).toEqual([0, 'Active profile: b\n']);
    expect(ctx.memory!.data.activeProfile).toBe('b');
  });

  it('answers --json with the new and previous active profile', async () => {
    const ctx = createTestCtx({ profiles: { a: { provider: 'generic' }, b: { provider: 'chatbase' } } });
    const r = await runCli(['profile', 'use', 'a', '--json'], ctx);
    expect([r.exitCode, r.json()]).toEqual([0, { active: 'a', previous: null }]);
    const again = await runCli(['profile', 'use', 'a'], createTestCtx({ profiles: { a: { provider: 'generic' } }, activeProfile: 'a' }));
    expect(again.stdout).toBe('Profile "a" was already active.\n');
  });

  it('exits 2 for an unknown profile (also for names of Object.prototype) and changes nothing', async () => {
    for (const name of ['nope', 'toString']) {
      const ctx = createTestCtx({ profiles: { a: { provider: 'generic' } }, activeProfile: 'a' });
      const r = await runCli(['profile', 'use', name, '--json'], ctx);
      expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_PROFILE_NOT_FOUND']);
      expect(r.json().error.hint).toContain('Known profiles: a');
      expect(ctx.memory!.data.activeProfile).toBe('a');
    }
  });

  it('warns when CHATID_PROFILE names another profile (or none): commands keep using it until it is unset', async () => {
    const profiles = { a: { provider: 'generic' as const }, b: { provider: 'chatbase' as const } };
    const other = createTestCtx({ profiles, activeProfile: 'a', env: { CHATID_PROFILE: 'a' } });
    const r = await runCli(['profile', 'use', 'b'], other);
    expect([r.exitCode, r.stdout, r.stderr]).toEqual([0, 'Active profile: b\n', 'warning: CHATID_PROFILE=a is set: commands use profile "a", not the active profile "b", until you unset it.\n']);
    const none = await runCli(['profile', 'use', 'b', '--json'], createTestCtx({ profiles, activeProfile: 'a', env: { CHATID_PROFILE: 'gone' } }));
    expect([none.exitCode, none.json(), none.stderr]).toEqual([0, { active: 'b', previous: 'a' }, 'warning: CHATID_PROFILE=gone names no profile: commands that need one fail until you unset it or add "gone".\n']);
    const same = await runCli(['profile', 'use', 'b'], createTestCtx({ profiles, activeProfile: 'a', env: { CHATID_PROFILE: 'b' } }));
    expect(same.stderr).toBe('');
  });

  it('the profile already active: nothing to write, so a read-only store (a mounted config) is fine', async () => {
    const readOnly = memoryStore({ profiles: { a: { provider: 'generic' }, b: { provider: 'chatbase' } }, activeProfile: 'a' });
    readOnly.update = async () => {
      throw new StoreError('ERR_STORE_UNWRITABLE', 'Cannot lock the store (EACCES).', { hint: 'Check the directory permissions.' });
    };
    const same = await runCli(['profile', 'use', 'a', '--json'], createTestCtx({ store: readOnly }));
    expect([same.exitCode, same.json()]).toEqual([0, { active: 'a', previous: 'a' }]);
    const other = await runCli(['profile', 'use', 'b', '--json'], createTestCtx({ store: readOnly }));
    expect([other.exitCode, other.json().error.code]).toEqual([1, 'ERR_STORE_UNWRITABLE']);
    const missing = await runCli(['profile', 'use', 'nope', '--json'], createTestCtx({ store: readOnly }));
    expect([missing.exitCode, missing.json().error.code]).toEqual([2, 'ERR_PROFILE_NOT_FOUND']);
  });

  it('exits 2 without a name', async () => {
    const r = await runCli(['profile', 'use', '--json']);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_USAGE_MISSING_ARGUMENT']);
  });
});
