import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli } from '../../../test/helpers/test-ctx.js';
import { CancelledError } from '../../cli/errors.js';

const profiles = () => ({ a: { provider: 'generic' as const, secret: 'sk_a_secret_value_123' }, b: { provider: 'chatbase' as const } });
const tty = { stdinTTY: true, stdoutTTY: true, stderrTTY: true } as const;

describe('profile remove', () => {
  it('asks first at a terminal and removes on yes; the active profile is cleared', async () => {
    const ctx = createTestCtx({ ...tty, profiles: profiles(), activeProfile: 'a', answers: [true] });
    const r = await runCli(['profile', 'remove', 'a'], ctx);
    expect(r.exitCode).toBe(0);
    expect(ctx.asked).toEqual(['Remove profile "a" and its stored API key and secrets?']);
    expect(r.stdout).toBe('Removed profile "a". No profile is active now; choose one with `chatid profile use <name>`.\n');
    expect(ctx.memory!.data).toEqual({ profiles: { b: { provider: 'chatbase' } } });
  });

  it('keeps the profile when the answer is no (exit 130)', async () => {
    const ctx = createTestCtx({ ...tty, profiles: profiles(), activeProfile: 'a', answers: [false] });
    const r = await runCli(['profile', 'remove', 'a', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([130, 'ERR_CANCELLED']);
    expect(Object.keys(ctx.memory!.data.profiles)).toEqual(['a', 'b']);
    const h = await runCli(['profile', 'remove', 'a'], createTestCtx({ ...tty, profiles: profiles(), answers: [false] }));
    expect([h.exitCode, h.stdout, h.stderr]).toEqual([130, '', 'Cancelled.\n']);
  });

  it('Ctrl-C at the confirmation exits 130 and keeps the profile', async () => {
    const ctx = createTestCtx({ ...tty, profiles: profiles(), answers: [new CancelledError()] });
    const r = await runCli(['profile', 'remove', 'a'], ctx);
    expect([r.exitCode, r.stderr]).toEqual([130, 'Cancelled.\n']);
    expect(Object.keys(ctx.memory!.data.profiles)).toEqual(['a', 'b']);
  });

  it('--yes removes without asking, --json reports it', async () => {
    const ctx = createTestCtx({ ...tty, profiles: profiles(), activeProfile: 'a' });
    const r = await runCli(['profile', 'rm', 'b', '--yes', '--json'], ctx);
    expect([r.exitCode, r.json()]).toEqual([0, { removed: 'b', wasActive: false }]);
    expect(ctx.asked).toEqual([]);
    expect(ctx.memory!.data.activeProfile).toBe('a');
  });

  it.each([
    [{ ...tty }, ['--no-input'], '--no-input was given'],
    [{ ...tty, env: { CI: 'true' } }, [], 'CI is set (CI=true)'],
    [{}, [], 'this is not a terminal'],
    [{ ...tty, stdoutTTY: false }, [], 'stdout is not a terminal (it is piped or redirected, as in a script)'],
  ])('needs --yes when it cannot ask (%j %j), and says why: exit 2', async (o, extra, why) => {
    const ctx = createTestCtx({ ...o, profiles: profiles() });
    const r = await runCli(['profile', 'remove', 'a', ...extra, '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_CONFIRMATION_REQUIRED']);
    expect(r.json().error.message).toBe(`Removing profile "a" needs confirmation, and chatid does not ask here because ${why}.`);
    expect(r.json().error.hint).toContain('--yes');
    expect(Object.keys(ctx.memory!.data.profiles)).toEqual(['a', 'b']);
  });

  it('exits 2 for an unknown profile', async () => {
    const r = await runCli(['profile', 'remove', 'zzz', '--yes'], createTestCtx({ profiles: profiles() }));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('(ERR_PROFILE_NOT_FOUND)');
  });
});
