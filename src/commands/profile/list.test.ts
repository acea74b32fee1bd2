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

describe('--profile where the profile is an argument, or every profile is listed', () => {
  const ctx = () => createTestCtx({ profiles: { prod: { provider: 'chatbase', secret: SECRET }, dev: { provider: 'generic' } }, activeProfile: 'prod' });

  it.each([
    [['profile', 'list'], 'profile list works on every profile: --profile "dev" does not apply to it.', 'Drop --profile, or run `chatid profile show dev`.'],
    [['secret', 'list'], 'secret list works on every profile: --profile "dev" does not apply to it.', 'Drop --profile, or run `chatid secret show --profile dev`.'],
    [['profile', 'use', 'prod'], 'profile use takes its profile as the argument ("prod"), and --profile names another ("dev").', 'Drop --profile, or run `chatid profile use dev`.'],
    [['profile', 'show', 'prod'], 'profile show takes its profile as the argument ("prod"), and --profile names another ("dev").', 'Drop --profile, or run `chatid profile show dev`.'],
    [['profile', 'remove', 'prod', '--yes'], 'profile remove takes its profile as the argument ("prod"), and --profile names another ("dev").', 'Drop --profile.'],
    [['profile', 'add', 'new', '--provider', 'generic'], 'profile add takes its profile as the argument ("new"), and --profile names another ("dev").', 'Drop --profile.'],
  ])('%j --profile dev: refused with exit 2, never ignored', async (argv, message, hint) => {
    const c = ctx();
    const r = await runCli([...argv, '--profile', 'dev', '--json'], c);
    expect([r.exitCode, r.json().error]).toEqual([2, { code: 'ERR_PROFILE_FLAG', message, hint }]);
    // Nothing was written: prod is still there and active.
    const data = await (await c.store()).read();
    expect([Object.keys(data.profiles).sort(), data.activeProfile]).toEqual([['dev', 'prod'], 'prod']);
  });

  it('--profile naming the argument\'s profile is fine; show without an argument follows --profile', async () => {
    expect((await runCli(['profile', 'use', 'dev', '--profile', 'dev'], ctx())).exitCode).toBe(0);
    const show = await runCli(['profile', 'show', '--profile', 'dev', '--json'], ctx());
    expect([show.exitCode, show.json().name]).toEqual([0, 'dev']);
  });
});
