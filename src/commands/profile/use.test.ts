import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli } from '../../../test/helpers/test-ctx.js';

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

  it('exits 2 without a name', async () => {
    const r = await runCli(['profile', 'use', '--json']);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_USAGE_MISSING_ARGUMENT']);
  });
});
