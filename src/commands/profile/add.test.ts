import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli } from '../../../test/helpers/test-ctx.js';
import { CancelledError } from '../../cli/errors.js';

const SECRET = 'sk_test_0123456789abcdef';
const API_KEY = 'key_live_ABCDEFGHIJ0123456789';
const TW_KEY = Buffer.alloc(32, 7).toString('base64');

describe('profile add (flags)', () => {
  it('stores a profile from flags and stdin, makes the first one active, and never prints the secret', async () => {
    const ctx = createTestCtx({ stdin: `${SECRET}\n` });
    const r = await runCli(['profile', 'add', 'dev', '--provider', 'chatbase', '--agent-id', 'abc123', '--secret-stdin'], ctx);
    expect(r.exitCode).toBe(0);
    expect(ctx.memory!.data).toEqual({ activeProfile: 'dev', profiles: { dev: { provider: 'chatbase', agentId: 'abc123', secret: SECRET } } });
    expect(r.stdout).toContain('Added profile "dev" (now active).');
    expect(r.stdout).toContain('sk_…def (fingerprint 6f752b72)');
    expect(r.stderr).toMatch(/removed a trailing newline/);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  });

  it('refuses an API key no vendor issues (a space inside), exit 2, storing nothing and printing no key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatid-add-'));
    writeFileSync(join(dir, 'key'), 'sk live_key\n');
    const ctx = createTestCtx({ cwd: dir });
    const r = await runCli(['profile', 'add', 'p', '--provider', 'chatbase', '--api-key-file', 'key', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_API_KEY_INVALID']);
    expect(r.json().error.message).toBe('The API key read from key holds a space at character 3 of 11: vendor API keys are printable ASCII without spaces.');
    expect(r.stdout + r.stderr).not.toContain('live_key');
    expect(ctx.memory!.data).toEqual({ profiles: {} });
  });

  it('answers --json with one document holding the masked profile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatid-add-'));
    writeFileSync(join(dir, 'key'), API_KEY);
    const ctx = createTestCtx({ stdin: SECRET, cwd: dir });
    const r = await runCli(['profile', 'add', 'prod', '--provider', 'bookbag', '--agent-id', '42', '--base-url', 'http://127.0.0.1:4010', '--api-key-file', 'key', '--secret-stdin', '--json'], ctx);
    expect(r.exitCode).toBe(0);
    expect(r.json()).toEqual({
      replaced: false,
      profile: {
        name: 'prod',
        active: true,
        provider: 'bookbag',
        agentId: '42',
        baseUrl: 'http://127.0.0.1:4010',
        baseUrlSource: 'profile',
        apiKey: { masked: 'key…789', fingerprint: expect.stringMatching(/^[0-9a-f]{8}$/) },
        secret: { masked: 'sk_…def', fingerprint: '6f752b72' },
        previousSecret: null,
        retiredSecret: null,
      },
    });
    expect(ctx.memory!.data.profiles.prod).toEqual({ provider: 'bookbag', agentId: '42', baseUrl: 'http://127.0.0.1:4010', apiKey: API_KEY, secret: SECRET });
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(r.stdout + r.stderr).not.toContain(API_KEY);
  });

  it('keeps the active profile when adding a second one, unless --use', async () => {
    const ctx = createTestCtx({ profiles: { dev: { provider: 'generic' } }, activeProfile: 'dev' });
    expect((await runCli(['profile', 'add', 'b', '--provider', 'generic'], ctx)).exitCode).toBe(0);
    expect(ctx.memory!.data.activeProfile).toBe('dev');
    expect((await runCli(['profile', 'add', 'c', '--provider', 'generic', '--use'], ctx)).exitCode).toBe(0);
    expect(ctx.memory!.data.activeProfile).toBe('c');
  });

  it('--use warns when CHATID_PROFILE keeps commands on another profile, as profile use does', async () => {
    const ctx = createTestCtx({ profiles: { dev: { provider: 'generic' } }, activeProfile: 'dev', env: { CHATID_PROFILE: 'dev' } });
    const r = await runCli(['profile', 'add', 'c', '--provider', 'generic', '--use', '--json'], ctx);
    expect([r.exitCode, r.json().profile.active]).toEqual([0, true]);
    expect(r.stderr).toContain('warning: CHATID_PROFILE=dev is set: commands use profile "dev", not the active profile "c", until you unset it.\n');
  });

  it('refuses to overwrite a profile (exit 2) unless --force', async () => {
    const ctx = createTestCtx({ profiles: { dev: { provider: 'chatbase', secret: SECRET } }, activeProfile: 'dev' });
    const r = await runCli(['profile', 'add', 'dev', '--provider', 'generic', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_PROFILE_EXISTS']);
    expect(r.json().error.hint).toContain('--force');
    expect(ctx.memory!.data.profiles.dev).toEqual({ provider: 'chatbase', secret: SECRET });

    const ctx2 = createTestCtx({ profiles: { dev: { provider: 'chatbase', secret: SECRET } }, activeProfile: 'dev' });
    const f = await runCli(['profile', 'add', 'dev', '--provider', 'generic', '--force', '--json'], ctx2);
    expect([f.exitCode, f.json().replaced, f.json().profile.active]).toEqual([0, true, true]);
    expect(ctx2.memory!.data.profiles.dev).toEqual({ provider: 'generic' });
    expect(ctx2.stdout.text).toContain('"replaced": true');
  });

  it.each([
    [['profile', 'add', 'x', '--provider', 'intercom'], 'ERR_PROVIDER_UNKNOWN'],
    [['profile', 'add', 'x'], 'ERR_PROVIDER_REQUIRED'],
    [['profile', 'add', 'bad name', '--provider', 'generic'], 'ERR_PROFILE_NAME_INVALID'],
    [['profile', 'add', 'constructor', '--provider', 'generic'], 'ERR_PROFILE_NAME_INVALID'],
    [['profile', 'add', '-x', '--provider', 'generic'], 'ERR_USAGE_UNKNOWN_OPTION'],
    [['profile', 'add', 'x', '--provider', 'generic', '--base-url', 'ftp://example.com'], 'ERR_BASE_URL_INVALID'],
    [['profile', 'add', 'x', '--provider', 'generic', '--base-url', 'not a url'], 'ERR_BASE_URL_INVALID'],
    [['profile', 'add', 'x', '--provider', 'bookbag', '--agent-id', 'abc'], 'ERR_AGENT_ID_INVALID'],
    [['profile', 'add', 'x', '--provider', 'chatbase', '--agent-id', 'abc def'], 'ERR_AGENT_ID_INVALID'],
    [['profile', 'add', 'x', '--provider', 'chatbase', '--agent-id', 'abc\u001b[2J'], 'ERR_AGENT_ID_INVALID'],
    [['profile', 'add', 'x', '--provider', 'teamweb', '--secret', 'not-base64!'], 'ERR_SECRET_FORMAT'],
    [['profile', 'add', 'x', '--provider', 'teamweb', '--secret', Buffer.alloc(16).toString('base64')], 'ERR_SECRET_FORMAT'],
    [['profile', 'add', 'x', '--provider', 'teamweb', '--secret', TW_KEY.replace(/=$/, '')], 'ERR_SECRET_FORMAT'],
    [['profile', 'add', 'x', '--provider', 'chatbase', '--secret', 'hex:abc'], 'ERR_SECRET_FORMAT'],
    [['profile', 'add', 'x', '--provider', 'generic', '--api-key-stdin', '--secret-stdin'], 'ERR_STDIN_TWICE'],
    [['profile', 'add', 'x', '--provider', 'generic', '--api-key-file', '-', '--secret-file', '-'], 'ERR_STDIN_TWICE'],
    [['profile', 'add', 'x', '--provider', 'generic', '--secret', 'a', '--secret-stdin'], 'ERR_SECRET_SOURCES'],
    [['profile', 'add', 'x', '--provider', 'generic', '--secret-file', '/nonexistent/chatid/secret'], 'ERR_SECRET_FILE'],
    [['profile', 'add', 'x', '--provider', 'generic', '--secret-stdin'], 'ERR_SECRET_EMPTY'],
  ])('%j exits 2 with %s and writes nothing', async (argv, code) => {
    const ctx = createTestCtx();
    const r = await runCli([...argv, '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, code]);
    expect(ctx.memory!.data).toEqual({ profiles: {} });
    const human = await runCli(argv, createTestCtx());
    expect(human.exitCode).toBe(2);
    expect(human.stdout).toBe('');
    expect(human.stderr).toContain(`(${code})`);
    expect(human.stderr).not.toMatch(/\n\s+at /);
  });

  it('accepts a TeamWeb key of 32 base64 bytes, and warns about --secret in argv', async () => {
    const ctx = createTestCtx();
    const r = await runCli(['profile', 'add', 'tw', '--provider', 'teamweb', '--secret', TW_KEY], ctx);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/warning: --secret puts the identity secret in argv/);
    expect(ctx.memory!.data.profiles.tw).toEqual({ provider: 'teamweb', secret: TW_KEY });
  });

  it('refuses --secret-stdin when stdin is a terminal', async () => {
    const r = await runCli(['profile', 'add', 'x', '--provider', 'generic', '--secret-stdin', '--json'], createTestCtx({ stdinTTY: true }));
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_SECRET_STDIN_TTY']);
  });
});

describe('profile add (wizard)', () => {
  const tty = { stdinTTY: true, stdoutTTY: true, stderrTTY: true } as const;

  it('asks for provider, agent id, base URL, API key and secret at a terminal', async () => {
    const ctx = createTestCtx({ ...tty, answers: ['replyful', 'agent-7', '', API_KEY, SECRET] });
    const r = await runCli(['profile', 'add', 'dev'], ctx);
    expect(r.exitCode).toBe(0);
    expect(ctx.asked).toEqual([
      'Provider',
      'Agent id (Enter to skip)',
      'API base URL',
      'Vendor API key (hidden; Enter to skip)',
      'Identity secret (hidden; Enter to skip)',
    ]);
    // The vendor's default URL is left unset so it follows the vendor.
    expect(ctx.memory!.data.profiles.dev).toEqual({ provider: 'replyful', agentId: 'agent-7', apiKey: API_KEY, secret: SECRET });
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(r.stdout + r.stderr).not.toContain(API_KEY);
  });

  it('the agent id prompt refuses an id with a space inside (the rule of --agent-id)', async () => {
    const ctx = createTestCtx({ ...tty, answers: ['abc def'] });
    const r = await runCli(['profile', 'add', 'cb', '--provider', 'chatbase'], ctx);
    // The scripted prompter throws where the real one would ask again.
    expect(r.stderr).toContain('failed validation: the agent id "abc def" has a space inside');
    expect(ctx.memory!.data).toEqual({ profiles: {} });
  });

  it('asks only for what the flags did not give, and skips empty answers', async () => {
    const ctx = createTestCtx({ ...tty, answers: ['', 'http://127.0.0.1:4010', '', ''] });
    const r = await runCli(['profile', 'add', 'bb', '--provider', 'bookbag'], ctx);
    expect(r.exitCode).toBe(0);
    expect(ctx.asked).toEqual(['Agent id (numeric) (Enter to skip)', 'API base URL', 'Vendor API key (hidden; Enter to skip)', 'Identity secret (hidden; Enter to skip)']);
    expect(ctx.memory!.data.profiles.bb).toEqual({ provider: 'bookbag', baseUrl: 'http://127.0.0.1:4010' });
    expect(r.stderr).toContain('No identity secret stored yet');
  });

  it('asks TeamWeb only for the assistant id and the base64 key (it has no HTTP API)', async () => {
    const ctx = createTestCtx({ ...tty, answers: ['teamweb', 'asst_1', TW_KEY] });
    const r = await runCli(['profile', 'add', 'tw', '--json'], ctx);
    expect(r.exitCode).toBe(0);
    expect(ctx.asked).toEqual(['Provider', 'Agent id (Enter to skip)', 'Identity secret (base64, 32 bytes) (hidden; Enter to skip)']);
    expect(ctx.memory!.data.profiles.tw).toEqual({ provider: 'teamweb', agentId: 'asst_1', secret: TW_KEY });
    expect(r.stdout).not.toContain(TW_KEY);
  });

  it('Ctrl-C at a prompt exits 130 and writes nothing', async () => {
    const ctx = createTestCtx({ ...tty, answers: ['chatbase', new CancelledError()] });
    const r = await runCli(['profile', 'add', 'dev'], ctx);
    expect(r.exitCode).toBe(130);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('Cancelled.\n');
    expect(ctx.memory!.data).toEqual({ profiles: {} });
  });

  it('Ctrl-C under --json gives the error document with exit 130', async () => {
    const ctx = createTestCtx({ ...tty, answers: [new CancelledError()] });
    const r = await runCli(['profile', 'add', 'dev', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([130, 'ERR_CANCELLED']);
  });

  it.each([
    [{ ...tty, env: { CI: 'true' } }, [], 'because CI is set (CI=true).'],
    [tty, ['--no-input'], 'because --no-input was given.'],
    [{}, [], 'because this is not a terminal.'],
    // `echo … | chatid profile add dev` at a terminal: the screen is one, stdin is not.
    [{ stdoutTTY: true, stderrTTY: true }, [], 'because stdin is not a terminal (it is a pipe or a file).'],
    // `chatid profile add dev | tee log` or `> out`: a script is running (cli.md §1).
    [{ stdinTTY: true, stderrTTY: true }, [], 'because stdout is not a terminal (it is piped or redirected, as in a script).'],
    [{ stdinTTY: true, stdoutTTY: true }, [], 'because stderr, where questions go, is not a terminal.'],
  ])('does not prompt with %j %j: exit 2, and the hint says why', async (o, extra, why) => {
    const ctx = createTestCtx(o);
    const r = await runCli(['profile', 'add', 'dev', ...extra, '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_PROVIDER_REQUIRED']);
    expect(r.json().error.hint).toMatch(/^Pass --provider \(chatbase, .*\); chatid does not ask here /);
    expect(r.json().error.hint.endsWith(why)).toBe(true);
    expect(ctx.asked).toEqual([]);
  });
});

describe('profile add (parse)', () => {
  it('maps flags to AddOptions without running anything', async () => {
    const { Command } = await import('commander');
    const { registerAdd } = await import('./add.js');
    const seen: unknown[] = [];
    const program = new Command().exitOverride();
    const ctx = createTestCtx();
    registerAdd(program, ctx, async (o) => {
      seen.push(o);
      return { replaced: false, profile: { name: o.name, active: true, provider: 'generic', agentId: null, baseUrl: null, baseUrlSource: null, apiKey: null, secret: null, previousSecret: null, retiredSecret: null } };
    });
    await program.parseAsync(['add', 'p1', '--provider', 'bookbag', '--agent-id', '7', '--base-url', 'http://h', '--api-key-file', 'k', '--secret-stdin', '--use', '--force'], { from: 'user' });
    expect(seen).toEqual([{ name: 'p1', provider: 'bookbag', agentId: '7', baseUrl: 'http://h', apiKeyFile: 'k', secretStdin: true, use: true, force: true }]);
    expect(ctx.memory!.data).toEqual({ profiles: {} });
  });
});
