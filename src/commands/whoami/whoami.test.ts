import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli, TEST_NOW } from '../../../test/helpers/test-ctx.js';
import { fingerprint } from '../../core/fingerprint.js';
import { openConfStore } from '../../store/conf-store.js';

const SECRET = 'sk_test_0123456789abcdef';
const OLD = 'sk_old_secret_9876543210';
const API_KEY = 'key_live_ABCDEFGHIJ0123456789';
const ENV_SECRET = 'env_secret_value_0000000001';
const ENV_KEY = 'env_api_key_value_000000002';
const profiles = {
  prod: { provider: 'chatbase' as const, agentId: 'prod-agent', baseUrl: 'https://profile.example', apiKey: API_KEY, secret: SECRET, previousSecret: OLD, previousSecretExpiresAt: '2026-01-01T12:00:00.000Z' },
  staging: { provider: 'bookbag' as const, agentId: '42' },
};

function tempStore() {
  const dir = join(mkdtempSync(join(tmpdir(), 'chatid-whoami-')), 'cfg');
  return { dir, store: openConfStore({ dir, now: () => TEST_NOW }) };
}

describe('whoami', () => {
  it('warns when the active profile named in the store does not exist: no profile is in use', async () => {
    const r = await runCli(['whoami', '--json'], createTestCtx({ profiles, activeProfile: 'gone' }));
    expect(r.exitCode).toBe(0);
    expect(r.json().profile).toBeNull();
    expect(r.json().warnings).toEqual([
      {
        code: 'ACTIVE_PROFILE_MISSING',
        message: 'the active profile "gone" named in the store does not exist: no profile is in use.',
        hint: 'Choose another with `chatid profile use <name>` (prod, staging), pass --profile <name>, or add it with `chatid profile add gone`.',
      },
    ]);
    expect(r.stderr).toContain('warning: the active profile "gone" named in the store does not exist');
    // Not when another profile is chosen explicitly: the active one is not used then.
    const e = await runCli(['whoami', '--json'], createTestCtx({ profiles, activeProfile: 'gone', env: { CHATID_PROFILE: 'staging' } }));
    expect(e.json().warnings).toEqual([]);
  });

  it('refuses an empty setting flag (an unset variable) instead of passing it over for the profile', async () => {
    for (const [argv, code] of [
      [['whoami', '--agent-id', ''], 'ERR_AGENT_ID_INVALID'],
      [['whoami', '--provider', ' '], 'ERR_PROVIDER_UNKNOWN'],
      [['token', 'sign', '--user-id', 'u1', '--provider', ''], 'ERR_PROVIDER_UNKNOWN'],
      [['contacts', 'list', '--agent-id', ''], 'ERR_AGENT_ID_INVALID'],
    ] as const) {
      const r = await runCli([...argv, '--json'], createTestCtx({ profiles, activeProfile: 'prod' }));
      expect([r.exitCode, r.json().error.code], argv.join(' ')).toEqual([2, code]);
      expect(r.json().error.message).toMatch(/^--(agent-id|provider) was given an empty value\.$/);
    }
  });

  it('works from environment variables alone, with no store file', async () => {
    const { dir, store } = tempStore();
    const ctx = createTestCtx({ store, env: { CHATID_PROVIDER: 'chatbase', CHATID_AGENT_ID: 'env-agent', CHATID_API_KEY: ENV_KEY, CHATID_SECRET: ENV_SECRET } });
    const r = await runCli(['whoami', '--json'], ctx);
    expect(r.exitCode).toBe(0);
    expect(r.json()).toEqual({
      profile: null,
      provider: { value: 'chatbase', source: 'env' },
      agentId: { value: 'env-agent', source: 'env' },
      baseUrl: { value: 'https://www.chatbase.co', source: 'default' },
      apiKey: { masked: 'env…002', fingerprint: fingerprint(ENV_KEY), source: 'env' },
      secret: { fingerprint: fingerprint(ENV_SECRET), source: 'env' },
      previousSecret: null,
      store: { path: join(dir, 'config.json'), exists: false, mode: null, dir, dirMode: null },
      warnings: [],
    });
    const h = await runCli(['whoami'], createTestCtx({ store, env: { CHATID_PROVIDER: 'chatbase', CHATID_SECRET: ENV_SECRET } }));
    expect(h.stdout).toContain('Profile    (none: settings come from flags and the environment only)');
    expect(h.stdout).toContain(`Secret     fingerprint ${fingerprint(ENV_SECRET)} (from CHATID_SECRET)`);
    expect(h.stdout).toContain(`Store      ${join(dir, 'config.json')} (no file yet)`);
    expect(h.stdout + h.stderr).not.toContain(ENV_SECRET);
  });

  it('masks a user name and password in the base URL it shows', async () => {
    const { store } = tempStore();
    const ctx = createTestCtx({ store, env: { CHATID_PROVIDER: 'chatbase', CHATID_BASE_URL: 'http://ann:pa55word@h.example' } });
    const r = await runCli(['whoami', '--json'], ctx);
    expect(r.json().baseUrl).toEqual({ value: 'http://***@h.example', source: 'env' });
    const human = await runCli(['whoami'], createTestCtx({ store, env: { CHATID_PROVIDER: 'chatbase', CHATID_BASE_URL: 'http://ann:pa55word@h.example' } }));
    expect(human.stdout + human.stderr).not.toContain('pa55word');
  });

  it('shows the active profile with sources, the previous secret, and the store mode', async () => {
    const { dir, store } = tempStore();
    await store.update((d) => {
      d.profiles = structuredClone(profiles);
      d.activeProfile = 'prod';
    });
    const r = await runCli(['whoami'], createTestCtx({ store }));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(
      [
        'Profile    prod (the active profile)',
        'Provider   chatbase — Chatbase (from profile "prod")',
        'Agent id   prod-agent (from profile "prod")',
        'Base URL   https://profile.example (from profile "prod")',
        `API key    key…789, fingerprint ${fingerprint(API_KEY)} (from profile "prod")`,
        `Secret     fingerprint ${fingerprint(SECRET)} (from profile "prod")`,
        `Previous   fingerprint ${fingerprint(OLD)}, accepted until 2026-01-01T12:00:00.000Z (in 12 hours)`,
        `Store      ${join(dir, 'config.json')} (mode 0600)`,
        `Store dir  ${dir} (mode 0700)`,
        '',
      ].join('\n'),
    );
    for (const s of [SECRET, OLD, API_KEY]) expect(r.stdout + r.stderr).not.toContain(s);
    const j = (await runCli(['whoami', '--json'], createTestCtx({ store }))).json();
    expect(j.store).toEqual({ path: join(dir, 'config.json'), exists: true, mode: '0600', dir, dirMode: '0700' });
  });

  it('applies precedence flag > env > profile > default, setting by setting', async () => {
    const env = { CHATID_BASE_URL: 'http://env.example', CHATID_AGENT_ID: 'env-agent', CHATID_SECRET: ENV_SECRET };
    const run = async (argv: string[], e: Record<string, string> = {}) =>
      (await runCli(['whoami', '--json', ...argv], createTestCtx({ profiles, activeProfile: 'prod', env: e }))).json();
    // profile beats default
    expect((await run([])).baseUrl).toEqual({ value: 'https://profile.example', source: 'profile' });
    // env beats profile
    const e = await run([], env);
    expect([e.baseUrl, e.agentId, e.secret]).toEqual([
      { value: 'http://env.example', source: 'env' },
      { value: 'env-agent', source: 'env' },
      { fingerprint: fingerprint(ENV_SECRET), source: 'env' },
    ]);
    expect(e.warnings).toEqual([
      { code: 'SECRET_OVERRIDDEN', message: 'CHATID_SECRET overrides the secret stored in profile "prod".', hint: 'Unset CHATID_SECRET to use the stored one (or `chatid secret set` to store this one).', setting: 'secret', source: 'env' },
    ]);
    // a different key from the environment is said too, with the stored key's fingerprint; the same key is not
    const k = await run([], { CHATID_API_KEY: ENV_KEY });
    expect(k.apiKey.source).toBe('env');
    expect(k.warnings).toEqual([
      {
        code: 'API_KEY_OVERRIDDEN',
        message: `CHATID_API_KEY overrides the API key stored in profile "prod" (fingerprint ${fingerprint(API_KEY)}).`,
        hint: 'Unset CHATID_API_KEY to use the stored one.',
        setting: 'apiKey',
        source: 'env',
      },
    ]);
    expect((await run([], { CHATID_API_KEY: API_KEY })).warnings).toEqual([]);
    // flag beats env
    const f = await run(['--base-url', 'http://flag.example', '--agent-id', 'flag-agent', '--provider', 'replyful'], { ...env, CHATID_PROVIDER: 'generic' });
    expect([f.baseUrl, f.agentId, f.provider]).toEqual([
      { value: 'http://flag.example', source: 'flag' },
      { value: 'flag-agent', source: 'flag' },
      { value: 'replyful', source: 'flag' },
    ]);
    // default when the profile has none
    const s = await run(['--profile', 'staging']);
    expect([s.profile, s.baseUrl, s.secret, s.apiKey]).toEqual([{ name: 'staging', source: 'flag' }, { value: 'https://app.bookbag.ai', source: 'default' }, null, null]);
  });

  it('chooses the profile by --profile, then CHATID_PROFILE, then the active one', async () => {
    const name = async (argv: string[], env: Record<string, string>) =>
      (await runCli(['whoami', '--json', ...argv], createTestCtx({ profiles, activeProfile: 'prod', env }))).json().profile;
    expect(await name([], {})).toEqual({ name: 'prod', source: 'profile' });
    expect(await name([], { CHATID_PROFILE: 'staging' })).toEqual({ name: 'staging', source: 'env' });
    expect(await name(['--profile', 'prod'], { CHATID_PROFILE: 'staging' })).toEqual({ name: 'prod', source: 'flag' });
    const h = await runCli(['whoami'], createTestCtx({ profiles, env: { CHATID_PROFILE: 'staging' } }));
    expect(h.stdout).toContain('Profile    staging (from CHATID_PROFILE)');
  });

  it('warns when the store file is readable by others', async () => {
    const { dir, store } = tempStore();
    await store.update((d) => {
      d.profiles.a = { provider: 'generic' };
    });
    chmodSync(join(dir, 'config.json'), 0o644);
    const r = await runCli(['whoami', '--json'], createTestCtx({ store }));
    expect(r.exitCode).toBe(0);
    expect(r.json().store.mode).toBe('0644');
    expect(r.json().warnings.map((w: any) => w.code)).toEqual(['STORE_MODE']);
    expect(r.stderr).toMatch(/warning: the store file is mode 0644/);
    expect(statSync(join(dir, 'config.json')).mode & 0o777).toBe(0o644);
  });

  it.each([
    [{}, ['--provider', 'intercom'], 2, 'ERR_PROVIDER_UNKNOWN'],
    [{}, ['--profile', 'ghost'], 2, 'ERR_PROFILE_NOT_FOUND'],
    [{}, ['--profile', 'toString'], 2, 'ERR_PROFILE_NOT_FOUND'],
    [{}, ['--base-url', 'file:///etc/passwd'], 2, 'ERR_BASE_URL_INVALID'],
  ])('its own flags: %j %j exits %i with %s', async (o, argv, exit, code) => {
    const r = await runCli(['whoami', ...argv, '--json'], createTestCtx({ profiles, ...o }));
    expect([r.exitCode, r.json().error.code]).toEqual([exit, code]);
  });

  it('an unknown CHATID_PROVIDER is reported with everything else (exit 0), as other commands would refuse it', async () => {
    const r = await runCli(['whoami', '--json'], createTestCtx({ profiles, activeProfile: 'prod', env: { CHATID_PROVIDER: 'intercom' } }));
    expect(r.exitCode).toBe(0);
    expect(r.json()).toMatchObject({ profile: { name: 'prod', source: 'profile' }, provider: null, agentId: { value: 'prod-agent', source: 'profile' } });
    expect(r.json().warnings).toEqual([
      { code: 'PROVIDER_UNKNOWN', message: 'Unknown provider "intercom" (from CHATID_PROVIDER).', hint: expect.stringContaining('Use one of: chatbase'), setting: 'provider', source: 'env' },
    ]);
    const sign = await runCli(['token', 'sign', 'u1', '--json'], createTestCtx({ profiles, activeProfile: 'prod', env: { CHATID_PROVIDER: 'intercom' } }));
    expect([sign.exitCode, sign.json().error.code]).toEqual([2, 'ERR_PROVIDER_UNKNOWN']);
  });

  it('CHATID_PROFILE naming no profile is reported (exit 0), with the settings the environment gives', async () => {
    const r = await runCli(['whoami', '--json'], createTestCtx({ profiles, activeProfile: 'prod', env: { CHATID_PROFILE: 'ghost', CHATID_PROVIDER: 'generic', CHATID_SECRET: SECRET } }));
    expect(r.exitCode).toBe(0);
    expect(r.json()).toMatchObject({ profile: null, provider: { value: 'generic', source: 'env' }, agentId: null, secret: { source: 'env' } });
    expect(r.json().warnings).toEqual([{ code: 'PROFILE_NOT_FOUND', message: 'No profile named "ghost" (from CHATID_PROFILE).', hint: expect.stringContaining('Known profiles: prod, staging') }]);
    expect(r.stderr).toContain('warning: No profile named "ghost" (from CHATID_PROFILE).');
  });

  it('a corrupt store is reported (exit 0) beside what the environment gives; other commands still fail on it', async () => {
    const { dir, store } = tempStore();
    await store.update(() => undefined);
    writeFileSync(join(dir, 'config.json'), '{"profiles": ');
    const env = { CHATID_PROVIDER: 'generic', CHATID_SECRET: SECRET };
    const r = await runCli(['whoami', '--json'], createTestCtx({ store, env }));
    expect(r.exitCode).toBe(0);
    expect(r.json()).toMatchObject({ profile: null, provider: { value: 'generic', source: 'env' }, store: { path: join(dir, 'config.json'), exists: true } });
    expect(r.json().warnings).toEqual([
      { code: 'STORE_CORRUPT', message: expect.stringMatching(/is not valid JSON \(.*\): its profiles are not used; the settings below come from flags and the environment only\.$/), hint: expect.stringContaining('will not overwrite it') },
    ]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const list = await runCli(['profile', 'list'], createTestCtx({ store, env }));
    expect([list.exitCode, list.stderr]).toEqual([1, expect.stringContaining('(ERR_STORE_CORRUPT)')]);
  });

  describe('warns about settings other commands would refuse, naming the source (exit 0)', () => {
    const codes = async (o: Parameters<typeof createTestCtx>[0], argv: string[] = []) => {
      const r = await runCli(['whoami', '--json', ...argv], createTestCtx(o));
      expect(r.exitCode).toBe(0);
      return r;
    };
    it('a base URL from CHATID_BASE_URL that contacts list refuses (ERR_BASE_URL_INVALID)', async () => {
      const r = await codes({ env: { CHATID_PROVIDER: 'chatbase', CHATID_BASE_URL: 'garbage' } });
      expect(r.json().warnings).toEqual([
        {
          code: 'BASE_URL_INVALID',
          message: 'Invalid base URL from CHATID_BASE_URL: "garbage" is not a URL.',
          hint: 'Give the scheme and host, e.g. https://www.chatbase.co or http://127.0.0.1:4010 for the sandbox.',
          setting: 'baseUrl',
          source: 'env',
        },
      ]);
      expect(r.stderr).toMatch(/warning: Invalid base URL from CHATID_BASE_URL.*\n {2}hint: Give the scheme/);
      const list = await runCli(['contacts', 'list', '--json'], createTestCtx({ env: { CHATID_PROVIDER: 'chatbase', CHATID_BASE_URL: 'garbage', CHATID_API_KEY: 'k', CHATID_AGENT_ID: 'a' } }));
      expect([list.exitCode, list.json().error.code]).toEqual([2, 'ERR_BASE_URL_INVALID']);
    });
    it('a secret that hash refuses (ERR_SECRET_FORMAT), from the environment or a profile', async () => {
      const r = await codes({ env: { CHATID_PROVIDER: 'chatbase', CHATID_SECRET: 'hex:zz' } });
      expect(r.json().warnings).toEqual([expect.objectContaining({ code: 'SECRET_FORMAT', setting: 'secret', source: 'env', message: expect.stringMatching(/"hex:".*\(from CHATID_SECRET\)\.$/), hint: expect.any(String) })]);
      const hash = await runCli(['hash', 'u1', '--json'], createTestCtx({ env: { CHATID_SECRET: 'hex:zz' } }));
      expect([hash.exitCode, hash.json().error.code]).toEqual([2, 'ERR_SECRET_FORMAT']);
      const p = await codes({ profiles: { dev: { provider: 'generic', secret: 'base64:!!' } }, activeProfile: 'dev' });
      expect(p.json().warnings).toEqual([expect.objectContaining({ code: 'SECRET_FORMAT', source: 'profile', message: expect.stringContaining('(from profile "dev")') })]);
    });
    it('a secret with whitespace around it (hash warns) or only whitespace (hash refuses)', async () => {
      const r = await codes({ env: { CHATID_PROVIDER: 'chatbase', CHATID_SECRET: 'sk_0123456789abcdef0123456789\n' } });
      expect(r.json().warnings).toEqual([expect.objectContaining({ code: 'SECRET_WHITESPACE', setting: 'secret', source: 'env', message: expect.stringContaining('(from CHATID_SECRET) has a trailing newline') })]);
      const placeholder = await codes({ env: { CHATID_PROVIDER: 'chatbase', CHATID_SECRET: 'sk_…' } });
      expect(placeholder.json().warnings.map((w: { code: string }) => w.code)).toEqual(['SECRET_PLACEHOLDER']);
      const blank = await codes({ env: { CHATID_PROVIDER: 'chatbase', CHATID_SECRET: '  ' } });
      expect(blank.json().warnings.map((w: { code: string }) => w.code)).toEqual(['SECRET_EMPTY']);
    });
    it('a TeamWeb key that encrypt refuses', async () => {
      const r = await codes({ env: { CHATID_PROVIDER: 'teamweb', CHATID_SECRET: Buffer.alloc(16, 1).toString('base64') } });
      expect(r.json().warnings.map((w: { code: string }) => w.code)).toEqual(['SECRET_KEY_LENGTH']);
    });
    it('an API key that every vendor command refuses (ERR_API_KEY_INVALID)', async () => {
      const r = await codes({ env: { CHATID_PROVIDER: 'chatbase', CHATID_API_KEY: 'oc_test_…' } });
      expect(r.json().warnings).toEqual([expect.objectContaining({ code: 'API_KEY_INVALID', setting: 'apiKey', source: 'env' })]);
    });
    it('a non-numeric Bookbag agent id from CHATID_AGENT_ID (ERR_AGENT_ID_INVALID)', async () => {
      const r = await codes({ env: { CHATID_PROVIDER: 'bookbag', CHATID_AGENT_ID: 'agA' } });
      expect(r.json().warnings).toEqual([
        expect.objectContaining({ code: 'AGENT_ID_INVALID', setting: 'agentId', source: 'env', message: 'Invalid agent id from CHATID_AGENT_ID: Bookbag agent ids are numeric, "agA" is not.' }),
      ]);
    });
    it('CHATID_PROVIDER=bookbag over a Chatbase profile whose agent is agA: the override and the agent id', async () => {
      const r = await codes({ env: { CHATID_PROVIDER: 'bookbag' }, profiles: { dev: { provider: 'chatbase', agentId: 'agA', apiKey: API_KEY } }, activeProfile: 'dev' });
      const w = r.json().warnings;
      expect(w.map((x: { code: string; source: string }) => [x.code, x.source])).toEqual([
        ['PROVIDER_OVERRIDDEN', 'env'],
        ['AGENT_ID_INVALID', 'profile'],
      ]);
      expect(w[0].message).toBe('CHATID_PROVIDER sets the provider to bookbag, over profile "dev"\'s chatbase; the profile\'s agent id and API key, still in use, were stored for chatbase.');
      expect(w[0].hint).toContain('unset CHATID_PROVIDER');
      expect(w[1].message).toContain('from profile "dev"');
    });
    it('no override warning when the environment replaces everything the profile held', async () => {
      const r = await codes({ env: { CHATID_PROVIDER: 'bookbag', CHATID_AGENT_ID: '42' }, profiles: { dev: { provider: 'chatbase', agentId: 'agA' } }, activeProfile: 'dev' });
      expect(r.json().warnings).toEqual([]);
    });
    it('-q hides the warnings on stderr, not in the JSON', async () => {
      const r = await codes({ env: { CHATID_PROVIDER: 'chatbase', CHATID_BASE_URL: 'garbage' } }, ['-q']);
      expect([r.stderr, r.json().warnings.length]).toEqual(['', 1]);
    });
  });
});
