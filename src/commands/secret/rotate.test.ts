import { createHmac } from 'node:crypto';
import { closeSync, fchmodSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { changedAfterRead } from '../../../test/helpers/racing-store.js';
import { createTestCtx, runCli, TEST_NOW } from '../../../test/helpers/test-ctx.js';
import { memoryStore } from '../../store/memory-store.js';
import { fingerprint } from '../../core/fingerprint.js';
import { generateSecret, parseGrace } from './rotate.js';

const OLD = 'sk_test_0123456789abcdef';
const NEW = 'sk_new_secret_abcdefghij';
const HEX = '0505050505050505050505050505050505050505050505050505050505050505';
const profiles = () => ({ dev: { provider: 'chatbase' as const, secret: OLD }, tw: { provider: 'teamweb' as const, secret: Buffer.alloc(32, 1).toString('base64') } });

describe('secret rotate', () => {
  it('makes the new secret current and keeps the old one for 24h by default', async () => {
    const ctx = createTestCtx({ profiles: profiles(), activeProfile: 'dev', stdin: NEW });
    const r = await runCli(['secret', 'rotate', '--secret-stdin'], ctx);
    expect(r.exitCode).toBe(0);
    expect(ctx.memory!.data.profiles.dev).toEqual({ provider: 'chatbase', secret: NEW, previousSecret: OLD, previousSecretExpiresAt: '2026-01-02T00:00:00.000Z' });
    expect(r.stdout).toBe(
      [
        'Rotated the identity secret of profile "dev".',
        `Current   sk_…hij (fingerprint ${fingerprint(NEW)})`,
        `Previous  sk_…def (fingerprint ${fingerprint(OLD)}), accepted until 2026-01-02T00:00:00.000Z (in 1 day)`,
        '',
      ].join('\n'),
    );
    expect(r.stdout + r.stderr).not.toContain(NEW);
    expect(r.stdout + r.stderr).not.toContain(OLD);
  });

  it('--generate prints 64 hex chars once on stdout, the note on stderr', async () => {
    const ctx = createTestCtx({ profiles: profiles(), activeProfile: 'dev', randomByte: 5 });
    const r = await runCli(['secret', 'rotate', '--generate', '--grace', '2h'], ctx);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(`${HEX}\n`);
    expect(r.stderr).toContain('is shown only once');
    expect(r.stderr).toContain('accepted until 2026-01-01T02:00:00.000Z (in 2 hours)');
    expect(ctx.memory!.data.profiles.dev).toEqual({ provider: 'chatbase', secret: HEX, previousSecret: OLD, previousSecretExpiresAt: '2026-01-01T02:00:00.000Z' });
    expect(r.stderr).not.toContain(OLD);
  });

  it('--generate for TeamWeb makes a base64 32-byte key; --json carries it as "secret"', async () => {
    const ctx = createTestCtx({ profiles: profiles(), activeProfile: 'tw', randomByte: 5 });
    const r = await runCli(['secret', 'rotate', '--generate', '--json'], ctx);
    const key = Buffer.alloc(32, 5).toString('base64');
    expect(r.exitCode).toBe(0);
    const doc = r.json();
    expect(doc.secret).toBe(key);
    expect([doc.generated, doc.current.fingerprint, doc.previous.expiresAt, doc.dropped]).toEqual([true, fingerprint(key), '2026-01-02T00:00:00.000Z', null]);
    expect(ctx.memory!.data.profiles.tw!.secret).toBe(key);
    expect(r.stdout).not.toContain(Buffer.alloc(32, 1).toString('base64'));
  });

  it('without --generate the JSON has no secret value', async () => {
    const ctx = createTestCtx({ profiles: profiles(), activeProfile: 'dev', stdin: NEW });
    const doc = (await runCli(['secret', 'rotate', '--secret-stdin', '--json'], ctx)).json();
    expect(Object.keys(doc).sort()).toEqual(['current', 'dropped', 'generated', 'previous', 'profile', 'provider', 'replaced']);
    expect(doc.replaced).toBeNull(); // kept as the previous secret
    expect(doc.generated).toBe(false);
  });

  it('--grace 0 drops the old secret now', async () => {
    const ctx = createTestCtx({ profiles: profiles(), activeProfile: 'dev', stdin: NEW });
    const r = await runCli(['secret', 'rotate', '--secret-stdin', '--grace', '0', '--json'], ctx);
    expect([r.exitCode, r.json().previous]).toEqual([0, null]);
    expect(ctx.memory!.data.profiles.dev).toEqual({ provider: 'chatbase', secret: NEW });
    expect(r.stderr).toContain('no longer stored');
    // The JSON names the secret that was current until now, as the human output does.
    expect(r.json().replaced).toEqual({ masked: expect.any(String), fingerprint: fingerprint(profiles().dev!.secret!) });
    expect(r.stderr).toContain(`fingerprint ${fingerprint(profiles().dev!.secret!)}`);
  });

  it('a second rotation inside the grace period retires the older secret (no longer accepted, still diagnosed), with a warning', async () => {
    const ctx = createTestCtx({ profiles: profiles(), activeProfile: 'dev', randomByte: 5 });
    await runCli(['secret', 'rotate', '--generate'], ctx);
    const c2 = createTestCtx({ profiles: ctx.memory!.data.profiles, activeProfile: 'dev', stdin: NEW });
    const r = await runCli(['secret', 'rotate', '--secret-stdin', '--json'], c2);
    expect(r.json().dropped).toEqual({ masked: 'sk_…def', fingerprint: fingerprint(OLD) });
    expect(r.stderr).toContain(`previous secret (fingerprint ${fingerprint(OLD)}) was still in its grace period and is no longer accepted; it is kept as the retired secret`);
    expect(c2.memory!.data.profiles.dev).toMatchObject({ secret: NEW, previousSecret: HEX, retiredSecret: OLD, retiredSecretExpiredAt: '2026-01-01T00:00:00.000Z' });
    // And the doctor still names it: a hash made with the twice-rotated-out secret.
    const h = await runCli(['hash', 'u1', '--expect', createHmac('sha256', OLD).update('u1').digest('hex'), '--json'], createTestCtx({ profiles: c2.memory!.data.profiles, activeProfile: 'dev' }));
    expect([h.exitCode, h.json().causes.map((c: { code: string }) => c.code)]).toEqual([3, ['SIGNED_WITH_PREVIOUS_SECRET']]);
  });

  it('after the grace period the old secret is retired, and the next rotation replaces it', async () => {
    const ctx = createTestCtx({ profiles: profiles(), activeProfile: 'dev', stdin: NEW });
    await runCli(['secret', 'rotate', '--secret-stdin', '--grace', '1h'], ctx);
    const later = new Date('2026-01-01T02:00:00.000Z');
    const c2 = createTestCtx({ profiles: ctx.memory!.data.profiles, activeProfile: 'dev', now: later, randomByte: 5 });
    const shown = await runCli(['secret', 'show', '--json'], c2);
    expect([shown.json().previousSecret, shown.json().retiredSecret.fingerprint]).toEqual([null, fingerprint(OLD)]);
    const c3 = createTestCtx({ profiles: c2.memory!.data.profiles, activeProfile: 'dev', now: later, randomByte: 5 });
    const r = await runCli(['secret', 'rotate', '--generate', '--json'], c3);
    expect([r.exitCode, r.json().dropped]).toEqual([0, null]); // no warning: the retired secret was no longer accepted
    expect(r.stderr).toContain(`The retired secret (fingerprint ${fingerprint(OLD)}), kept for diagnosis since its grace period ended, is no longer stored.`);
    expect(r.stderr).not.toContain('still in its grace period');
    expect(c3.memory!.data.profiles.dev).toEqual({ provider: 'chatbase', secret: HEX, previousSecret: NEW, previousSecretExpiresAt: '2026-01-02T02:00:00.000Z' });
  });

  it('rotating back to the previous secret (undoing a rotation) makes it current again: not dropped, not retired, no warning', async () => {
    const ctx = createTestCtx({ profiles: profiles(), activeProfile: 'dev', stdin: NEW });
    await runCli(['secret', 'rotate', '--secret-stdin'], ctx);
    const c2 = createTestCtx({ profiles: ctx.memory!.data.profiles, activeProfile: 'dev', stdin: OLD });
    const r = await runCli(['secret', 'rotate', '--secret-stdin', '--json'], c2);
    expect([r.exitCode, r.json().current.fingerprint, r.json().previous.fingerprint, r.json().dropped]).toEqual([0, fingerprint(OLD), fingerprint(NEW), null]);
    expect(r.stderr).toBe('');
    expect(c2.memory!.data.profiles.dev).toEqual({ provider: 'chatbase', secret: OLD, previousSecret: NEW, previousSecretExpiresAt: '2026-01-02T00:00:00.000Z' });
  });

  it('rotating to the retired secret makes it current: not said to be no longer stored, and not kept twice', async () => {
    const retired = { dev: { provider: 'chatbase' as const, secret: OLD, retiredSecret: NEW, retiredSecretExpiredAt: '2025-12-01T00:00:00.000Z' } };
    const ctx = createTestCtx({ profiles: retired, activeProfile: 'dev', stdin: NEW });
    const r = await runCli(['secret', 'rotate', '--secret-stdin'], ctx);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).not.toContain('no longer stored');
    expect(ctx.memory!.data.profiles.dev).toEqual({ provider: 'chatbase', secret: NEW, previousSecret: OLD, previousSecretExpiresAt: '2026-01-02T00:00:00.000Z' });
  });

  it('--grace 0 also removes a retired secret: nothing old is kept', async () => {
    const retired = { dev: { provider: 'chatbase' as const, secret: OLD, retiredSecret: 'sk_older_secret_000000', retiredSecretExpiredAt: '2025-12-01T00:00:00.000Z' } };
    const ctx = createTestCtx({ profiles: retired, activeProfile: 'dev', stdin: NEW });
    const r = await runCli(['secret', 'rotate', '--secret-stdin', '--grace', '0'], ctx);
    expect(r.exitCode).toBe(0);
    expect(ctx.memory!.data.profiles.dev).toEqual({ provider: 'chatbase', secret: NEW });
  });

  it('a profile without a secret gets one, with no previous secret', async () => {
    const ctx = createTestCtx({ profiles: { g: { provider: 'generic' } }, activeProfile: 'g', stdin: NEW });
    const r = await runCli(['secret', 'rotate', '--secret-stdin', '--json'], ctx);
    expect([r.exitCode, r.json().previous]).toEqual([0, null]);
    expect(ctx.memory!.data.profiles.g).toEqual({ provider: 'generic', secret: NEW });
  });

  it.each([
    [['--secret-stdin'], OLD, 'ERR_SECRET_UNCHANGED'],
    [['--generate', '--grace', 'soon'], '', 'ERR_GRACE_INVALID'],
    [['--generate', '--grace', '3600'], '', 'ERR_GRACE_INVALID'],
    [['--generate', '--grace', '367d'], '', 'ERR_GRACE_INVALID'],
    [['--generate', '--grace', '99999999999999999999d'], '', 'ERR_GRACE_INVALID'],
    [['--generate', '--secret-stdin'], NEW, 'ERR_SECRET_SOURCES'],
    [[], '', 'ERR_INPUT_REQUIRED'],
  ])('%j exits 2 with %s and changes nothing', async (argv, stdin, code) => {
    const ctx = createTestCtx({ profiles: profiles(), activeProfile: 'dev', stdin });
    const r = await runCli(['secret', 'rotate', ...argv, '--json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, code]);
    expect(ctx.memory!.data.profiles.dev).toEqual({ provider: 'chatbase', secret: OLD });
  });

  it('names the secret it replaced as found under the lock, not as read before (another chatid rotated meanwhile)', async () => {
    const OTHER = 'sk_other_rotation_0000000';
    const mem = memoryStore({ profiles: profiles(), activeProfile: 'dev' }, () => TEST_NOW);
    // Another process stores OTHER right after this one read the profile (while it would prompt).
    const racing = changedAfterRead(mem, (d) => {
      d.profiles.dev!.secret = OTHER;
    });
    const r = await runCli(['secret', 'rotate', '--secret-stdin', '--grace', '0'], createTestCtx({ store: racing, stdin: NEW }));
    expect(r.exitCode).toBe(0);
    expect(mem.data.profiles.dev).toEqual({ provider: 'chatbase', secret: NEW });
    expect(r.stderr).toContain(`--grace 0: the old secret (fingerprint ${fingerprint(OTHER)}) is no longer stored.`);
    expect(r.stderr).not.toContain(fingerprint(OLD));
  });

  it('checks the secret again for the provider found under the lock: a profile replaced meanwhile gets no secret of the wrong shape', async () => {
    const mem = memoryStore({ profiles: profiles(), activeProfile: 'dev' }, () => TEST_NOW);
    const racing = changedAfterRead(mem, (d) => {
      d.profiles.dev = { provider: 'teamweb' };
    });
    const r = await runCli(['secret', 'rotate', '--generate', '--json'], createTestCtx({ store: racing, randomByte: 5 }));
    expect(r.exitCode).toBe(2);
    expect(r.json().error.code).toBe('ERR_SECRET_FORMAT');
    expect(r.stdout).not.toContain(HEX);
    expect(mem.data.profiles.dev).toEqual({ provider: 'teamweb' });
  });

  it('refuses the current secret at the prompt, before it is typed twice; a new one passes', async () => {
    const tty = { stdinTTY: true, stdoutTTY: true, stderrTTY: true } as const;
    const same = await runCli(['secret', 'rotate'], createTestCtx({ profiles: profiles(), activeProfile: 'dev', ...tty, answers: [OLD] }));
    // The scripted prompter reports a failed validation as an error with its message.
    expect(same.stderr).toContain('This is the secret "dev" already uses; give a new one.');
    expect(same.stdout + same.stderr).not.toContain(OLD);
    const ctx = createTestCtx({ profiles: profiles(), activeProfile: 'dev', ...tty, answers: [NEW] });
    expect((await runCli(['secret', 'rotate'], ctx)).exitCode).toBe(0);
    expect(ctx.memory!.data.profiles.dev!.secret).toBe(NEW);
  });

  it('--generate warns when stdout is a file others can read (a redirect under umask 022), not when it is 0600', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatid-rotate-'));
    for (const [mode, warned] of [
      [0o644, true],
      [0o600, false],
    ] as const) {
      const file = join(dir, `new-${mode.toString(8)}.key`);
      const fd = openSync(file, 'w', mode);
      fchmodSync(fd, mode);
      try {
        const ctx = createTestCtx({ profiles: profiles(), activeProfile: 'dev', randomByte: 5 });
        // What the shell hands over for `> new.key`: stdout is that file's descriptor.
        Object.assign(ctx.io.stdout, { fd });
        const r = await runCli(['secret', 'rotate', '--generate'], ctx);
        expect(r.exitCode).toBe(0);
        const warning = 'warning: stdout is a file readable by other users (mode 0644), and the new secret goes into it';
        if (warned) expect(r.stderr).toContain(warning);
        else expect(r.stderr).not.toContain('readable by other users');
      } finally {
        closeSync(fd);
      }
    }
    // A pipe or a terminal (no file) is not warned of.
    const piped = await runCli(['secret', 'rotate', '--generate'], createTestCtx({ profiles: profiles(), activeProfile: 'dev' }));
    expect(piped.stderr).not.toContain('readable by other users');
  });

  it('parses grace durations', () => {
    expect([parseGrace('0'), parseGrace('0s'), parseGrace('30m'), parseGrace('7d'), parseGrace('1y')]).toEqual([0, 0, 1_800_000, 604_800_000, 31_557_600_000]);
    expect(() => parseGrace('-1h')).toThrow(/not a duration/);
    for (const tiny of ['1ms', '999ms', '0.5s']) expect(() => parseGrace(tiny), tiny).toThrow(/is less than a second/);
    expect(parseGrace('1s')).toBe(1000);
    expect(generateSecret('generic', new Uint8Array(32).fill(255))).toBe('ff'.repeat(32));
  });
});
