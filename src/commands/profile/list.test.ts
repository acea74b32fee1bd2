import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli } from '../../../test/helpers/test-ctx.js';

const SECRET = 'sk_test_0123456789abcdef';

describe('profile list', () => {
  it('marks the active profile, sorted by name', async () => {
    const ctx = createTestCtx({
      profiles: { prod: { provider: 'chatbase', agentId: 'abc', secret: SECRET }, dev: { provider: 'generic' } },
      activeProfile: 'prod',
    });
    const r = await runCli(['profile', 'list'], ctx);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(['  dev   generic   -          -                        no secret', '* prod  chatbase  agent abc  https://www.chatbase.co  secret 6f752b72', ''].join('\n'));
    expect(r.stdout).not.toContain(SECRET);
  });

  it('prints a JSON array with the active flag and masked secrets', async () => {
    const ctx = createTestCtx({ profiles: { prod: { provider: 'chatbase', secret: SECRET }, dev: { provider: 'generic' } }, activeProfile: 'prod' });
    const r = await runCli(['profile', 'list', '--json'], ctx);
    expect(r.exitCode).toBe(0);
    const list = r.json();
    expect(list.map((p: any) => [p.name, p.active, p.provider, p.secret?.fingerprint ?? null])).toEqual([
      ['dev', false, 'generic', null],
      ['prod', true, 'chatbase', '6f752b72'],
    ]);
    expect(r.stdout).not.toContain(SECRET);
  });

  it('warns when CHATID_PROFILE picks another profile than the one marked *, or names none', async () => {
    const profiles = { prod: { provider: 'chatbase' as const }, dev: { provider: 'generic' as const } };
    const r = await runCli(['profile', 'list', '--json'], createTestCtx({ profiles, activeProfile: 'prod', env: { CHATID_PROFILE: 'dev' } }));
    expect([r.exitCode, r.json().find((p: any) => p.active).name]).toEqual([0, 'prod']);
    expect(r.stderr).toBe('warning: CHATID_PROFILE=dev is set: commands use profile "dev", not the active profile "prod", until you unset it.\n');
    const none = await runCli(['profile', 'list'], createTestCtx({ profiles, activeProfile: 'prod', env: { CHATID_PROFILE: 'stagin' } }));
    expect(none.stderr).toContain('CHATID_PROFILE=stagin names no profile');
    const same = await runCli(['profile', 'list'], createTestCtx({ profiles, activeProfile: 'prod', env: { CHATID_PROFILE: 'prod' } }));
    expect(same.stderr).toBe('');
  });

  it('says how to start when there are no profiles; --json gives []', async () => {
    const h = await runCli(['profile', 'list']);
    expect([h.exitCode, h.stdout]).toEqual([0, 'No profiles yet. Add one with `chatid profile add <name>`.\n']);
    const j = await runCli(['profile', 'ls', '--json']);
    expect([j.exitCode, j.json()]).toEqual([0, []]);
  });
});
