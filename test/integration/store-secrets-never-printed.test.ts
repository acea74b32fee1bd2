// No command prints a stored secret or API key unless asked with --reveal
// (../shared/spec/cli.md §3): every profile/secret/whoami command, human and --json,
// success and error paths, with --verbose.
import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli } from '../helpers/test-ctx.js';

const S = {
  prodSecret: 'PRODSECRET_a1b2c3d4e5f6g7h8',
  prodOld: 'PRODOLDSECRET_z9y8x7w6v5u4',
  prodKey: 'PRODAPIKEY_q1w2e3r4t5y6u7i8',
  stagingSecret: 'STAGINGSECRET_m1n2b3v4c5x6',
  stagingKey: 'STAGINGAPIKEY_p0o9i8u7y6t5',
  envSecret: 'ENVSECRET_l1k2j3h4g5f6d7s8',
  envKey: 'ENVAPIKEY_a9s8d7f6g5h4j3k2',
  newSecret: 'NEWSECRET_c3v4b5n6m7q8w9e0',
};
const VALUES = Object.values(S);

const fresh = (o: { env?: Record<string, string>; stdin?: string } = {}) =>
  createTestCtx({
    ...o,
    profiles: {
      prod: { provider: 'chatbase', agentId: 'agent', apiKey: S.prodKey, secret: S.prodSecret, previousSecret: S.prodOld, previousSecretExpiresAt: '2026-01-02T00:00:00.000Z' },
      staging: { provider: 'generic', apiKey: S.stagingKey, secret: S.stagingSecret },
    },
    activeProfile: 'prod',
  });

const COMMANDS: Array<[string[], { env?: Record<string, string>; stdin?: string }?]> = [
  [['profile', 'list']],
  [['profile', 'show']],
  [['profile', 'show', 'staging']],
  [['profile', 'use', 'staging']],
  [['profile', 'add', 'new', '--provider', 'generic', '--secret-stdin'], { stdin: S.newSecret }],
  [['profile', 'add', 'prod', '--provider', 'generic', '--secret-stdin'], { stdin: S.newSecret }],
  [['profile', 'add', 'prod', '--provider', 'generic', '--force', '--secret-stdin'], { stdin: S.newSecret }],
  [['profile', 'remove', 'staging', '--yes']],
  [['profile', 'remove', 'staging']],
  [['profile', 'show', 'ghost']],
  [['secret', 'show']],
  [['secret', 'show', '--profile', 'staging']],
  [['secret', 'list']],
  [['secret', 'set', '--secret-stdin'], { stdin: S.newSecret }],
  [['secret', 'set', '--secret-stdin'], { stdin: `${S.newSecret}\n`, env: { CHATID_SECRET: S.envSecret } }],
  [['secret', 'rotate', '--secret-stdin'], { stdin: S.newSecret }],
  [['secret', 'rotate', '--secret-stdin', '--grace', '0'], { stdin: S.newSecret }],
  [['secret', 'rotate', '--secret-stdin'], { stdin: S.prodSecret }],
  [['secret', 'rotate', '--generate']],
  [['whoami']],
  [['whoami', '--profile', 'staging']],
  [['whoami'], { env: { CHATID_SECRET: S.envSecret, CHATID_API_KEY: S.envKey } }],
  [['whoami'], { env: { CHATID_PROVIDER: 'nope', CHATID_SECRET: S.envSecret } }],
];

describe('stored secrets and keys are never printed without --reveal', () => {
  for (const [argv, o] of COMMANDS) {
    for (const mode of [[], ['--json'], ['--verbose'], ['--json', '--verbose']]) {
      it(`chatid ${argv.join(' ')} ${mode.join(' ')}`, async () => {
        const r = await runCli([...argv, ...mode], fresh(o));
        expect(r.exitCode === 0 || r.exitCode === 2).toBe(true);
        const out = r.stdout + r.stderr;
        for (const v of VALUES) expect(out).not.toContain(v);
        if (mode.includes('--json')) expect(() => r.json()).not.toThrow();
      });
    }
  }

  it('--reveal is the way to see them', async () => {
    const p = await runCli(['profile', 'show', '--reveal'], fresh());
    for (const v of [S.prodSecret, S.prodOld, S.prodKey]) expect(p.stdout).toContain(v);
    const s = await runCli(['secret', 'show', '--reveal', '--json'], fresh());
    expect([s.json().secret.value, s.json().previousSecret.value]).toEqual([S.prodSecret, S.prodOld]);
  });
});
