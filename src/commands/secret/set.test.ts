import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { changedAfterRead } from '../../../test/helpers/racing-store.js';
import { createTestCtx, runCli, TEST_NOW } from '../../../test/helpers/test-ctx.js';
import { memoryStore } from '../../store/memory-store.js';
import { CancelledError } from '../../cli/errors.js';

const SECRET = 'sk_test_0123456789abcdef';
const NEW = 'sk_new_secret_abcdefghij';
const TW_KEY = Buffer.alloc(32, 9).toString('base64');
const profiles = () => ({ dev: { provider: 'chatbase' as const, secret: SECRET }, tw: { provider: 'teamweb' as const } });

describe('secret set', () => {
  it('stores a secret from stdin in the active profile, stripping the newline with a warning', async () => {
    const ctx = createTestCtx({ profiles: profiles(), activeProfile: 'dev', stdin: `${NEW}\n` });
    const r = await runCli(['secret', 'set', '--secret-stdin'], ctx);
    expect(r.exitCode).toBe(0);
    expect(ctx.memory!.data.profiles.dev!.secret).toBe(NEW);
    expect(r.stdout).toMatch(/^Stored the identity secret of profile "dev" \(fingerprint [0-9a-f]{8}\)\. The secret it replaces is no longer stored\.\n$/);
    expect(r.stderr).toMatch(/removed a trailing newline/);
    expect(r.stdout + r.stderr).not.toContain(NEW);
  });

  it('refuses whitespace alone, around the secret or a line break in it; nothing is stored', async () => {
    for (const [stdin, message] of [
      ['  \n', 'Invalid identity secret: it is only whitespace.'],
      [`\t${NEW}\n\n`, 'Invalid identity secret: it has a leading tab, a trailing newline,'],
      [`${NEW}\nsecond line\n`, 'Invalid identity secret: it has a line break inside,'],
    ] as const) {
      const ctx = createTestCtx({ profiles: profiles(), activeProfile: 'dev', stdin });
      const r = await runCli(['secret', 'set', '--secret-stdin', '--json'], ctx);
      expect([r.exitCode, r.json().error.message], JSON.stringify(stdin)).toEqual([2, expect.stringContaining(message)]);
      expect(ctx.memory!.data.profiles.dev!.secret).toBe(SECRET);
      // Refused, so no "it is used as given" warning first; the hint is about the whitespace.
      expect(r.stderr).not.toContain('used as given');
      if (!message.includes('only whitespace')) expect(r.json().error.hint).toMatch(/^Copy the secret again without the whitespace/);
    }
    // At the prompt the same rule is the validator (the real prompt then asks again; the scripted one fails).
    const ctx = createTestCtx({ profiles: profiles(), activeProfile: 'dev', stdinTTY: true, stdoutTTY: true, stderrTTY: true, answers: [` ${NEW}`] });
    expect((await runCli(['secret', 'set', '--verbose'], ctx)).stderr).toContain("failed validation: it has a leading space, which no vendor's secret has; paste it without");
    expect(ctx.memory!.data.profiles.dev!.secret).toBe(SECRET);
  });

  it('asks with a hidden prompt at a terminal; --json reports the fingerprint only', async () => {
    const ctx = createTestCtx({ profiles: profiles(), stdinTTY: true, stdoutTTY: true, stderrTTY: true, answers: [TW_KEY] });
    const r = await runCli(['secret', 'set', '--profile', 'tw', '--json'], ctx);
    expect(r.exitCode).toBe(0);
    expect(ctx.asked).toEqual(['New identity secret for "tw" (base64, 32 bytes) (hidden)']);
    expect(r.json()).toEqual({ profile: 'tw', provider: 'teamweb', secret: { masked: `${TW_KEY.slice(0, 3)}…${TW_KEY.slice(-3)}`, fingerprint: expect.stringMatching(/^[0-9a-f]{8}$/) }, replaced: false });
    expect(ctx.memory!.data.profiles.tw!.secret).toBe(TW_KEY);
    expect(r.stdout).not.toContain(TW_KEY);
  });

  it('takes --secret with a warning, and --secret-file relative to the working directory', async () => {
    const ctx = createTestCtx({ profiles: profiles(), activeProfile: 'dev' });
    const r = await runCli(['secret', 'set', '--secret', NEW], ctx);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/warning: --secret puts the identity secret in argv/);
    const dir = mkdtempSync(join(tmpdir(), 'chatid-set-'));
    writeFileSync(join(dir, 'tw.key'), `${TW_KEY}\r\n`);
    const f = createTestCtx({ profiles: profiles(), activeProfile: 'tw', cwd: dir });
    const rf = await runCli(['secret', 'set', '--secret-file', 'tw.key'], f);
    expect(rf.exitCode).toBe(0);
    expect(f.memory!.data.profiles.tw!.secret).toBe(TW_KEY);
    expect(rf.stderr).toMatch(/removed a trailing newline from the identity secret file/);
  });

  it('--secret-file: warns when the file is readable by other users, not when it is 0600', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatid-set-'));
    for (const [mode, warned] of [
      [0o644, true],
      [0o640, true],
      [0o604, true],
      [0o600, false],
      [0o620, false], // group may write, not read: not "readable"
    ] as const) {
      writeFileSync(join(dir, 'tw.key'), TW_KEY);
      chmodSync(join(dir, 'tw.key'), mode);
      const f = createTestCtx({ profiles: profiles(), activeProfile: 'tw', cwd: dir });
      const r = await runCli(['secret', 'set', '--secret-file', 'tw.key'], f);
      expect(r.exitCode).toBe(0);
      const warning = `warning: the identity secret file ${join(dir, 'tw.key')} is mode 0${mode.toString(8)}, readable by other users; run chmod 600`;
      if (warned) expect(r.stderr).toContain(warning);
      else expect(r.stderr).not.toContain('readable by other users');
    }
  });

  it('refuses a secret that is not UTF-8 text (file or stdin) instead of storing changed bytes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatid-set-'));
    const binary = Buffer.from([0x73, 0x6b, 0xff, 0xfe, 0x00, 0x80, 0x41]);
    writeFileSync(join(dir, 'bin.key'), binary, { mode: 0o600 });
    const f = createTestCtx({ profiles: profiles(), activeProfile: 'dev', cwd: dir });
    const r = await runCli(['secret', 'set', '--secret-file', 'bin.key', '--json'], f);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_SECRET_NOT_TEXT']);
    expect(r.json().error.message).toBe(`The identity secret file ${join(dir, 'bin.key')} is not UTF-8 text: chatid would not use the bytes it holds.`);
    expect(r.json().error.hint).toContain('base64:');
    expect(f.memory!.data.profiles.dev!.secret).toBe(profiles().dev!.secret);
    const s = createTestCtx({ profiles: profiles(), activeProfile: 'dev', stdin: binary });
    const rs = await runCli(['secret', 'set', '--secret-stdin', '--json'], s);
    expect([rs.exitCode, rs.json().error.code]).toEqual([2, 'ERR_SECRET_NOT_TEXT']);
  });

  it('refuses a --secret-file over 64 KiB (a wrong path) instead of reading it whole; /dev/zero no longer hangs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatid-set-'));
    writeFileSync(join(dir, 'app.log'), 'x'.repeat(64 * 1024 + 1), { mode: 0o600 });
    for (const path of [join(dir, 'app.log'), '/dev/zero']) {
      const f = createTestCtx({ profiles: profiles(), activeProfile: 'dev', cwd: dir });
      const r = await runCli(['secret', 'set', '--secret-file', path, '--json'], f);
      expect([r.exitCode, r.json().error.code, r.json().error.message], path).toEqual([2, 'ERR_SECRET_FILE_TOO_LARGE', `The identity secret file ${path} holds more than 65536 bytes; a secret is far shorter.`]);
      expect(f.memory!.data.profiles.dev!.secret).toBe(profiles().dev!.secret);
    }
    writeFileSync(join(dir, 'ok.key'), `${'k'.repeat(64 * 1024 - 1)}\n`, { mode: 0o600 });
    const ok = await runCli(['secret', 'set', '--secret-file', 'ok.key'], createTestCtx({ profiles: profiles(), activeProfile: 'dev', cwd: dir }));
    expect(ok.exitCode).toBe(0);
  });

  it('setting the previous or the retired secret keeps one copy of it, as the current secret', async () => {
    const rotated = { dev: { provider: 'chatbase' as const, secret: NEW, previousSecret: SECRET, previousSecretExpiresAt: '2026-01-02T00:00:00.000Z', retiredSecret: 'sk_older_secret_000000', retiredSecretExpiredAt: '2025-12-01T00:00:00.000Z' } };
    const back = createTestCtx({ profiles: rotated, activeProfile: 'dev', stdin: SECRET });
    expect((await runCli(['secret', 'set', '--secret-stdin'], back)).exitCode).toBe(0);
    expect(back.memory!.data.profiles.dev).toEqual({ provider: 'chatbase', secret: SECRET, retiredSecret: 'sk_older_secret_000000', retiredSecretExpiredAt: '2025-12-01T00:00:00.000Z' });
    const older = createTestCtx({ profiles: rotated, activeProfile: 'dev', stdin: 'sk_older_secret_000000' });
    expect((await runCli(['secret', 'set', '--secret-stdin'], older)).exitCode).toBe(0);
    expect(older.memory!.data.profiles.dev).toEqual({ provider: 'chatbase', secret: 'sk_older_secret_000000', previousSecret: SECRET, previousSecretExpiresAt: '2026-01-02T00:00:00.000Z' });
    const shown = await runCli(['secret', 'show'], createTestCtx({ profiles: back.memory!.data.profiles, activeProfile: 'dev' }));
    expect(shown.stdout).not.toContain('Previous');
  });

  it('checks the secret for the provider found under the lock: a profile replaced during the prompt gets no secret of the wrong shape', async () => {
    const mem = memoryStore({ profiles: profiles(), activeProfile: 'dev' }, () => TEST_NOW);
    // Another chatid replaces "dev" with a TeamWeb profile while this one asks for the secret.
    const racing = changedAfterRead(mem, (d) => {
      d.profiles.dev = { provider: 'teamweb' };
    });
    const r = await runCli(['secret', 'set', '--secret-stdin', '--json'], createTestCtx({ store: racing, stdin: NEW }));
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_SECRET_FORMAT']);
    expect(mem.data.profiles.dev).toEqual({ provider: 'teamweb' });
  });

  it('says why it does not prompt: at a terminal with stdout redirected, "prompting is off" alone is a riddle', async () => {
    const ctx = createTestCtx({ profiles: profiles(), activeProfile: 'dev', stdinTTY: true, stdoutTTY: false, stderrTTY: true });
    const r = await runCli(['secret', 'set', '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_INPUT_REQUIRED']);
    expect(r.json().error.message).toBe('No secret given, and chatid does not ask for one here because stdout is not a terminal (it is piped or redirected, as in a script).');
  });

  it('warns when CHATID_SECRET overrides the stored secret', async () => {
    const ctx = createTestCtx({ profiles: profiles(), activeProfile: 'dev', stdin: NEW, env: { CHATID_SECRET: 'x' } });
    const r = await runCli(['secret', 'set', '--secret-stdin'], ctx);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('CHATID_SECRET is set');
  });

  it('Ctrl-C at the prompt exits 130 and keeps the old secret', async () => {
    const ctx = createTestCtx({ profiles: profiles(), activeProfile: 'dev', stdinTTY: true, stdoutTTY: true, stderrTTY: true, answers: [new CancelledError()] });
    const r = await runCli(['secret', 'set'], ctx);
    expect(r.exitCode).toBe(130);
    expect(ctx.memory!.data.profiles.dev!.secret).toBe(SECRET);
  });

  it.each([
    [{ activeProfile: 'dev' }, ['secret', 'set'], 'ERR_INPUT_REQUIRED'],
    [{ activeProfile: 'dev', stdinTTY: true, stdoutTTY: true, stderrTTY: true }, ['secret', 'set', '--no-input'], 'ERR_INPUT_REQUIRED'],
    [{ activeProfile: 'tw', stdin: 'not base64' }, ['secret', 'set', '--secret-stdin'], 'ERR_SECRET_FORMAT'],
    [{ activeProfile: 'tw', stdin: Buffer.alloc(31).toString('base64') }, ['secret', 'set', '--secret-stdin'], 'ERR_SECRET_FORMAT'],
    [{}, ['secret', 'set', '--secret-stdin'], 'ERR_PROFILE_REQUIRED'],
    [{}, ['secret', 'set', '--secret-stdin', '--profile', 'ghost'], 'ERR_PROFILE_NOT_FOUND'],
    [{ activeProfile: 'dev' }, ['secret', 'set', '--secret-stdin', '--secret-file', 'x'], 'ERR_SECRET_SOURCES'],
  ])('%j %j exits 2 with %s, nothing changed', async (o, argv, code) => {
    const ctx = createTestCtx({ profiles: profiles(), ...o });
    const before = structuredClone(ctx.memory!.data);
    const r = await runCli([...argv, '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, code]);
    expect(ctx.memory!.data).toEqual(before);
  });
});
