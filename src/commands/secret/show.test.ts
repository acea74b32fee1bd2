import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli } from '../../../test/helpers/test-ctx.js';
import { fingerprint } from '../../core/fingerprint.js';

const SECRET = 'sk_test_0123456789abcdef';
const OLD = 'sk_old_secret_9876543210';
const profiles = {
  dev: { provider: 'chatbase' as const, secret: SECRET, previousSecret: OLD, previousSecretExpiresAt: '2026-01-01T00:30:00.000Z' },
  empty: { provider: 'generic' as const },
};

describe('secret show', () => {
  it('shows masked secrets with fingerprints and the previous secret expiry', async () => {
    const r = await runCli(['secret', 'show'], createTestCtx({ profiles, activeProfile: 'dev' }));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(
      [
        'Profile   dev (chatbase)',
        `Secret    sk_…def (fingerprint ${fingerprint(SECRET)})`,
        `Previous  sk_…210 (fingerprint ${fingerprint(OLD)}), accepted until 2026-01-01T00:30:00.000Z (in 30 minutes)`,
        '',
      ].join('\n'),
    );
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  });

  it('--json without and with --reveal', async () => {
    const m = await runCli(['secret', 'show', '--json'], createTestCtx({ profiles, activeProfile: 'dev' }));
    expect(m.json()).toEqual({
      profile: 'dev',
      provider: 'chatbase',
      secret: { masked: 'sk_…def', fingerprint: fingerprint(SECRET) },
      previousSecret: { masked: 'sk_…210', fingerprint: fingerprint(OLD), expiresAt: '2026-01-01T00:30:00.000Z' },
      retiredSecret: null,
    });
    const v = await runCli(['secret', 'show', '--json', '--reveal'], createTestCtx({ profiles, activeProfile: 'dev' }));
    expect([v.json().secret.value, v.json().previousSecret.value]).toEqual([SECRET, OLD]);
    const h = await runCli(['secret', 'show', '--reveal'], createTestCtx({ profiles, activeProfile: 'dev' }));
    expect(h.stdout).toContain(`Secret    ${SECRET} (fingerprint`);
  });

  it('shows an expired previous secret as retired: no longer accepted, kept for diagnosis', async () => {
    const at = { profiles, activeProfile: 'dev', now: new Date('2026-01-01T01:30:00.000Z') };
    const r = await runCli(['secret', 'show', '--json'], createTestCtx(at));
    expect([r.json().previousSecret, r.json().retiredSecret]).toEqual([null, { masked: 'sk_…210', fingerprint: fingerprint(OLD), expiredAt: '2026-01-01T00:30:00.000Z' }]);
    const h = await runCli(['secret', 'show'], createTestCtx(at));
    expect(h.stdout).toContain(
      `Retired  sk_…210 (fingerprint ${fingerprint(OLD)}), its grace period ended 2026-01-01T00:30:00.000Z (1 hour ago); no longer accepted, kept only to diagnose tokens and hashes made with it`,
    );
    expect(h.stdout).not.toContain(OLD);
    const v = await runCli(['secret', 'show', '--json', '--reveal'], createTestCtx(at));
    expect(v.json().retiredSecret.value).toBe(OLD);
  });

  it('says so when the active profile named in the store does not exist, and how to choose another', async () => {
    const r = await runCli(['secret', 'show', '--json'], createTestCtx({ profiles, activeProfile: 'gone' }));
    expect(r.exitCode).toBe(2);
    expect(r.json().error).toEqual({
      code: 'ERR_PROFILE_NOT_FOUND',
      message: 'The active profile "gone" named in the store does not exist.',
      hint: 'Choose another with `chatid profile use <name>` (dev, empty), pass --profile <name>, or add it with `chatid profile add gone`.',
    });
    // From CHATID_PROFILE: the variable is named, and how to be rid of it.
    const env = await runCli(['secret', 'show', '--json'], createTestCtx({ profiles, activeProfile: 'dev', env: { CHATID_PROFILE: 'gone' } }));
    expect([env.exitCode, env.json().error.message]).toEqual([2, 'No profile named "gone" (from CHATID_PROFILE).']);
    expect(env.json().error.hint).toBe('Unset CHATID_PROFILE to use the active profile, or pass --profile <name>. Known profiles: dev, empty. Add one with `chatid profile add gone`.');
    // Named explicitly, a missing profile is still just not found.
    const n = await runCli(['secret', 'show', '--profile', 'gone', '--json'], createTestCtx({ profiles, activeProfile: 'dev' }));
    expect(n.json().error.message).toBe('No profile named "gone".');
  });

  it('says when a profile has no secret, and when CHATID_SECRET overrides it', async () => {
    const r = await runCli(['secret', 'show', '--profile', 'empty'], createTestCtx({ profiles, env: { CHATID_SECRET: 'x' } }));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('Secret   (none; store one with `chatid secret set --profile empty`)');
    expect(r.stderr).toContain('CHATID_SECRET is set');
  });

  it('exits 2 without a profile', async () => {
    const r = await runCli(['secret', 'show', '--json'], createTestCtx({ profiles }));
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_PROFILE_REQUIRED']);
  });
});
