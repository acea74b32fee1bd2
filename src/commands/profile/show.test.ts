import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli } from '../../../test/helpers/test-ctx.js';

const SECRET = 'sk_test_0123456789abcdef';
const OLD = 'sk_old_secret_9876543210';
const API_KEY = 'key_live_ABCDEFGHIJ0123456789';
const profiles = {
  prod: { provider: 'chatbase' as const, agentId: 'abc', apiKey: API_KEY, secret: SECRET, previousSecret: OLD, previousSecretExpiresAt: '2026-01-01T06:00:00.000Z' },
  dev: { provider: 'generic' as const, baseUrl: 'http://127.0.0.1:4010' },
};

describe('profile show', () => {
  it('shows the retired secret (masked) after the grace period', async () => {
    const ctx = createTestCtx({ profiles: { p: { provider: 'chatbase', secret: 'sk_live_current_0123456789', retiredSecret: 'sk_live_older_0123456789', retiredSecretExpiredAt: '2025-12-31T00:00:00.000Z' } }, activeProfile: 'p' });
    const r = await runCli(['profile', 'show', 'p'], ctx);
    expect(r.stdout).toMatch(/Retired +sk_…789 \(fingerprint [0-9a-f]{8}\), its grace period ended 2025-12-31T00:00:00.000Z \(1 day ago\); no longer accepted/);
    expect(r.stdout).not.toContain('sk_live_older');
    const j = await runCli(['profile', 'show', 'p', '--json'], createTestCtx({ profiles: ctx.memory!.data.profiles, activeProfile: 'p' }));
    expect(j.json().retiredSecret).toEqual({ masked: 'sk_…789', fingerprint: expect.stringMatching(/^[0-9a-f]{8}$/), expiredAt: '2025-12-31T00:00:00.000Z' });
  });

  it('shows the active profile masked, with fingerprints and the previous secret expiry', async () => {
    const r = await runCli(['profile', 'show'], createTestCtx({ profiles, activeProfile: 'prod' }));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(
      [
        'Profile   prod (active)',
        'Provider  chatbase (Chatbase)',
        'Agent id  abc',
        'Base URL  https://www.chatbase.co (default)',
        'API key   key…789 (fingerprint a145b2e2)',
        'Secret    sk_…def (fingerprint 6f752b72)',
        'Previous  sk_…210 (fingerprint aa64cc53), accepted until 2026-01-01T06:00:00.000Z (in 6 hours)',
        '',
      ].join('\n'),
    );
    for (const s of [SECRET, OLD, API_KEY]) expect(r.stdout + r.stderr).not.toContain(s);
  });

  it('shows a named profile in JSON; --reveal adds the values', async () => {
    const masked = await runCli(['profile', 'show', 'prod', '--json'], createTestCtx({ profiles }));
    expect(masked.json()).toEqual({
      name: 'prod',
      active: false,
      provider: 'chatbase',
      agentId: 'abc',
      baseUrl: 'https://www.chatbase.co',
      baseUrlSource: 'default',
      apiKey: { masked: 'key…789', fingerprint: 'a145b2e2' },
      secret: { masked: 'sk_…def', fingerprint: '6f752b72' },
      previousSecret: { masked: 'sk_…210', fingerprint: 'aa64cc53', expiresAt: '2026-01-01T06:00:00.000Z' },
      retiredSecret: null,
    });
    const revealed = await runCli(['profile', 'show', 'prod', '--json', '--reveal'], createTestCtx({ profiles }));
    expect([revealed.json().apiKey.value, revealed.json().secret.value, revealed.json().previousSecret.value]).toEqual([API_KEY, SECRET, OLD]);
    const human = await runCli(['profile', 'show', 'prod', '--reveal'], createTestCtx({ profiles }));
    expect(human.stdout).toContain(`Secret    ${SECRET} (fingerprint 6f752b72)`);
  });

  it('masks a user name and password that a hand-edited store put in the base URL', async () => {
    const ctx = createTestCtx({ profiles: { p: { provider: 'chatbase', baseUrl: 'http://ann:pa55@h.example' } }, activeProfile: 'p' });
    const r = await runCli(['profile', 'show', '--json'], ctx);
    expect(r.json().baseUrl).toBe('http://***@h.example');
    const list = await runCli(['profile', 'list'], createTestCtx({ profiles: { p: { provider: 'chatbase', baseUrl: 'http://ann:pa55@h.example' } }, activeProfile: 'p' }));
    expect(list.stdout + list.stderr).not.toContain('pa55');
  });

  it('follows --profile, then CHATID_PROFILE, then the active profile', async () => {
    const env = { CHATID_PROFILE: 'dev' };
    expect((await runCli(['profile', 'show', '--json'], createTestCtx({ profiles, activeProfile: 'prod', env }))).json().name).toBe('dev');
    expect((await runCli(['profile', 'show', '--json', '--profile', 'prod'], createTestCtx({ profiles, activeProfile: 'dev', env }))).json().name).toBe('prod');
    const dev = (await runCli(['profile', 'show', '--json'], createTestCtx({ profiles, activeProfile: 'dev' }))).json();
    expect([dev.baseUrl, dev.baseUrlSource, dev.secret]).toEqual(['http://127.0.0.1:4010', 'profile', null]);
  });

  it('exits 2 when there is no such profile, or none is active', async () => {
    const a = await runCli(['profile', 'show', 'nope', '--json'], createTestCtx({ profiles }));
    expect([a.exitCode, a.json().error.code]).toEqual([2, 'ERR_PROFILE_NOT_FOUND']);
    const b = await runCli(['profile', 'show', '--json'], createTestCtx({ profiles }));
    expect([b.exitCode, b.json().error.code]).toEqual([2, 'ERR_PROFILE_REQUIRED']);
    const c = await runCli(['profile', 'show']);
    expect([c.exitCode, c.stderr]).toEqual([2, 'error: There are no profiles yet. (ERR_PROFILE_REQUIRED)\nhint: Add one with `chatid profile add <name>`.\n']);
  });

  it('leaves out a previous secret whose grace period has ended', async () => {
    const r = await runCli(['profile', 'show', 'prod', '--json'], createTestCtx({ profiles, now: new Date('2026-01-01T06:00:00.000Z') }));
    expect(r.json().previousSecret).toBeNull();
  });
});
