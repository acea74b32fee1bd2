import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli } from '../../test/helpers/test-ctx.js';
import { VERSION } from '../version.js';
import { colorLevel } from './context.js';

describe('main', () => {
  it('prints the version, equal to package.json', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await runCli(['--version']);
    expect([r.exitCode, r.stdout.trim()]).toEqual([0, pkg.version]);
    expect(VERSION).toBe(pkg.version);
  });

  it('prints the version as one JSON document under --json', async () => {
    for (const argv of [['--json', '--version'], ['--version', '--json']]) {
      const r = await runCli(argv);
      expect([r.exitCode, JSON.parse(r.stdout), r.stderr]).toEqual([0, { version: VERSION }, '']);
    }
  });

  it('refuses an empty --profile (an unset variable) instead of using the active profile', async () => {
    const profiles = { prod: { provider: 'chatbase' as const, secret: 'sk_prod_secret_0123456789' } };
    for (const argv of [['secret', 'show', '--profile', ''], ['--profile=', 'whoami'], ['hash', 'u1', '--profile', ' ']]) {
      const r = await runCli([...argv, '--json'], createTestCtx({ profiles, activeProfile: 'prod' }));
      expect([r.exitCode, r.json().error.code], argv.join(' ')).toEqual([2, 'ERR_PROFILE_NAME_INVALID']);
      expect(r.stdout).not.toContain('prod');
    }
  });

  it('refuses a --profile that swallowed the next flag, in the mode that flag asked for', async () => {
    const profiles = { prod: { provider: 'generic' as const, secret: 'sk_prod_secret_0123456789' } };
    const r = await runCli(['--profile', '--json', 'hash', 'u1'], createTestCtx({ profiles, activeProfile: 'prod' }));
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_PROFILE_NAME_INVALID']);
    expect(r.json().error.message).toContain('"--json"');
    const human = await runCli(['hash', 'u1', '--profile', '-q'], createTestCtx({ profiles, activeProfile: 'prod' }));
    expect([human.exitCode, human.stdout]).toEqual([2, '']);
    expect(human.stderr).toContain('--profile took "-q" as the profile name');
  });

  it('prints help on stdout and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('Usage: chatid');
    expect(r.stderr).toBe('');
  });

  it('answers a missing command under --json with one error document (help stays on stderr)', async () => {
    for (const [argv, path] of [
      [['--json'], 'chatid'],
      [['token', '--json'], 'chatid token'],
    ] as const) {
      const r = await runCli([...argv]);
      expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_USAGE_COMMAND_REQUIRED']);
      expect(r.json().error.message).toBe(`\`${path}\` needs a command.`);
      expect(r.stderr).toContain('Usage:');
    }
    const human = await runCli(['token']);
    expect([human.exitCode, human.stdout]).toEqual([2, '']);
  });

  it('answers an unknown flag with exit 2 and, under --json, one error document', async () => {
    const r = await runCli(['--bogus', '--json']);
    expect(r.exitCode).toBe(2);
    expect(r.json().error.code).toBe('ERR_USAGE_UNKNOWN_OPTION');
    expect(r.stderr).toBe('');
  });

  it('names the problem and the next step for humans', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("error: unknown command 'frobnicate' (ERR_USAGE_UNKNOWN_COMMAND)");
    expect(r.stderr).toContain('hint: Run `chatid --help` for the list of commands.');
  });

  it('keeps commander\'s suggestion on the same line and names the group in the hint', async () => {
    const r = await runCli(['tokn', 'sign', '--json']);
    expect(r.exitCode).toBe(2);
    expect(r.json().error).toEqual({
      code: 'ERR_USAGE_UNKNOWN_COMMAND',
      message: "unknown command 'tokn' (did you mean token?)",
      hint: 'Run `chatid --help` for the list of commands.',
    });
    const sub = await runCli(['token', 'sgn']);
    expect(sub.exitCode).toBe(2);
    expect(sub.stderr).toContain("unknown command 'sgn' (did you mean sign?)");
    expect(sub.stderr).toContain('hint: Run `chatid token --help` for the list of commands.');
    const withProfile = await runCli(['--profile', 'prod', 'token', 'sgn']);
    expect(withProfile.stderr).toContain('hint: Run `chatid token --help` for the list of commands.');
  });

  it('names the command in the hint for an unknown option', async () => {
    const r = await runCli(['token', 'sign', '--user-idd', 'u1', '--json']);
    expect(r.exitCode).toBe(2);
    expect(r.json().error.code).toBe('ERR_USAGE_UNKNOWN_OPTION');
    expect(r.json().error.hint).toBe('Run `chatid token sign --help` for its usage.');
  });
});

describe('colorLevel', () => {
  it('is off without a TTY, on with one, and obeys --no-color, NO_COLOR and FORCE_COLOR', () => {
    expect(colorLevel({ isTTY: false, noColorFlag: false, env: {} })).toBe(0);
    expect(colorLevel({ isTTY: true, noColorFlag: false, env: {} })).toBeGreaterThan(0);
    expect(colorLevel({ isTTY: true, noColorFlag: true, env: {} })).toBe(0);
    expect(colorLevel({ isTTY: true, noColorFlag: false, env: { NO_COLOR: '1' } })).toBe(0);
    expect(colorLevel({ isTTY: false, noColorFlag: false, env: { FORCE_COLOR: '1' } })).toBe(1);
    expect(colorLevel({ isTTY: true, noColorFlag: false, env: { FORCE_COLOR: '0' } })).toBe(0);
  });

  it('never colors stdout in --json mode', async () => {
    const ctx = createTestCtx({ stdoutTTY: true, env: { FORCE_COLOR: '3' } });
    await runCli(['--json', '--version'], ctx);
    expect(ctx.color.level).toBe(0);
  });
});

describe('help <command>', () => {
  it('names an unknown command, with the suggestion, as `chatid <unknown>` does', async () => {
    const r = await runCli(['help', 'tokn', '--json']);
    expect([r.exitCode, r.json().error]).toEqual([
      2,
      { code: 'ERR_USAGE_UNKNOWN_COMMAND', message: "unknown command 'tokn' (did you mean token?)", hint: 'Run `chatid --help` for the list of commands.' },
    ]);
    const sub = await runCli(['token', 'help', 'sgn']);
    expect([sub.exitCode, sub.stdout]).toEqual([2, '']);
    expect(sub.stderr).toContain("error: unknown command 'sgn' (did you mean sign?) (ERR_USAGE_UNKNOWN_COMMAND)");
    expect(sub.stderr).toContain('hint: Run `chatid token --help` for the list of commands.');
    const deep = await runCli(['help', 'token', 'sgn', '--json']);
    expect([deep.exitCode, deep.json().error.message]).toEqual([2, "unknown command 'sgn' (did you mean sign?)"]);
  });

  it('still prints the help of a known command, and root help for `help` alone', async () => {
    for (const [argv, usage] of [
      [['help', 'token'], 'Usage: chatid token '],
      [['token', 'help', 'sign'], 'Usage: chatid token sign '],
      [['help', 'token', 'sign'], 'Usage: chatid token sign '],
      [['help', 'contacts', 'sync', '--json'], 'Usage: chatid contacts sync '],
      [['help'], 'Usage: chatid '],
    ] as const) {
      const r = await runCli([...argv]);
      expect(r.exitCode, argv.join(' ')).toBe(0);
      expect(r.stdout, argv.join(' ')).toContain(usage);
    }
  });
});
