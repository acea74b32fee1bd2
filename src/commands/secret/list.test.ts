import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli } from '../../../test/helpers/test-ctx.js';
import { fingerprint } from '../../core/fingerprint.js';

const SECRET = 'sk_test_0123456789abcdef';
const OLD = 'sk_old_secret_9876543210';
const profiles = {
  dev: { provider: 'chatbase' as const, secret: SECRET, previousSecret: OLD, previousSecretExpiresAt: '2026-01-03T00:00:00.000Z' },
  gone: { provider: 'chatbase' as const, secret: SECRET, previousSecret: OLD, previousSecretExpiresAt: '2025-12-31T00:00:00.000Z' },
  none: { provider: 'generic' as const },
};

describe('secret list', () => {
  it('lists every profile masked, with fingerprints and relative expiry; an expired previous secret shows as retired', async () => {
    const r = await runCli(['secret', 'list'], createTestCtx({ profiles, activeProfile: 'none' }));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(
      [
        `  dev   chatbase  sk_…def ${fingerprint(SECRET)}  previous sk_…210 ${fingerprint(OLD)}, expires in 2 days`,
        `  gone  chatbase  sk_…def ${fingerprint(SECRET)}  retired sk_…210 ${fingerprint(OLD)}, grace ended 1 day ago (not accepted)`,
        '* none  generic   (no secret)',
        '',
      ].join('\n'),
    );
    expect(r.stdout).not.toContain(SECRET);
  });

  it('warns when CHATID_PROFILE picks another profile than the one marked *', async () => {
    const r = await runCli(['secret', 'list'], createTestCtx({ profiles, activeProfile: 'none', env: { CHATID_PROFILE: 'dev' } }));
    expect([r.exitCode, r.stderr]).toEqual([0, 'warning: CHATID_PROFILE=dev is set: commands use profile "dev", not the active profile "none", until you unset it.\n']);
  });

  it('--json is an array', async () => {
    const r = await runCli(['secret', 'list', '--json'], createTestCtx({ profiles }));
    expect(r.json()).toEqual([
      { profile: 'dev', active: false, provider: 'chatbase', secret: { masked: 'sk_…def', fingerprint: fingerprint(SECRET) }, previousSecret: { masked: 'sk_…210', fingerprint: fingerprint(OLD), expiresAt: '2026-01-03T00:00:00.000Z' }, retiredSecret: null },
      {
        profile: 'gone',
        active: false,
        provider: 'chatbase',
        secret: { masked: 'sk_…def', fingerprint: fingerprint(SECRET) },
        previousSecret: null,
        retiredSecret: { masked: 'sk_…210', fingerprint: fingerprint(OLD), expiredAt: '2025-12-31T00:00:00.000Z' },
      },
      { profile: 'none', active: false, provider: 'generic', secret: null, previousSecret: null, retiredSecret: null },
    ]);
    const empty = await runCli(['secret', 'list', '--json']);
    expect([empty.exitCode, empty.json()]).toEqual([0, []]);
  });
});
