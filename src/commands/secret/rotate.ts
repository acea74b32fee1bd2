import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { UsageError } from '../../cli/errors.js';
import { emit, info, warn } from '../../cli/output.js';
import { SECRET_OPTION_HELP, type SecretFlags } from '../../cli/secret-input.js';
import { encodeBase64 } from '../../core/base64.js';
import { parseDuration } from '../../core/duration.js';
import { fingerprint } from '../../core/fingerprint.js';
import { PROVIDER_INFO, type Provider } from '../../core/providers.js';
import { relativeTime } from '../../core/relative-time.js';
import { checkSecret, getProfile, profileNotFound, renderSecretView, type SecretView, secretView, table, targetProfile } from '../profile/shared.js';
import { readNewSecret, warnEnvOverride } from './shared.js';

const DEFAULT_GRACE = '24h';
const MAX_GRACE_MS = 366 * 86_400_000;

export interface RotateOptions extends SecretFlags {
  /** Make 32 random bytes in the provider's format instead of reading a secret. */
  generate?: boolean;
  /** How long the old secret stays accepted: `24h` (default), `7d`, `0` drops it now. */
  grace?: string;
}

export interface RotateResult {
  profile: string;
  provider: Provider;
  generated: boolean;
  /** The generated secret, in clear: present only with --generate, and printed only this once. */
  secret?: string;
  current: SecretView;
  /** The old secret, accepted until `expiresAt`; null without one or with `--grace 0`. */
  previous: (SecretView & { expiresAt: string }) | null;
  /** A previous secret still in its grace period that this rotation pushed out. */
  dropped: SecretView | null;
  /** With `--grace 0`: the secret that was current until now, no longer stored (null otherwise). */
  replaced: SecretView | null;
}

export function registerRotate(parent: Command, ctx: Ctx, runF = runRotate): void {
  parent
    .command('rotate')
    .description('Make a new secret current and keep the old one as the previous secret until the grace period ends')
    .option('--generate', "make 32 random bytes in the provider's format (base64 for TeamWeb, 64 hex chars otherwise) and print them once")
    .option('--grace <duration>', `how long the old secret stays accepted, e.g. 1h, 7d (1s to 366d); 0 drops it now (default ${DEFAULT_GRACE})`)
    .option('--secret <value>', SECRET_OPTION_HELP.secret)
    .option('--secret-stdin', SECRET_OPTION_HELP.secretStdin)
    .option('--secret-file <path>', SECRET_OPTION_HELP.secretFile)
    .addHelpText(
      'after',
      `
Examples:
  $ chatid secret rotate --generate                    # prints the new secret once: paste it into the vendor dashboard
  $ chatid secret rotate --secret-file new.key --grace 7d
  $ chatid secret rotate --generate --grace 0 --json   # no grace: the old secret is dropped now

While the grace period lasts, \`token verify\` and \`decrypt\` also accept the previous secret
(with a warning), and \`hash --expect\` names it as the cause of a mismatch. After it, the old
secret is no longer accepted but stays stored (as the retired secret) so that the doctors can
still say a signer uses it, until the next rotation replaces it (a rotation inside the grace
period retires the previous secret it cuts short). --grace 0 keeps nothing.`,
    )
    .action(async (flags: RotateOptions) => {
      emit(ctx, await runF(flags, ctx), renderRotate);
    });
}

/** Milliseconds of grace: a duration with a unit, or 0. */
export function parseGrace(text: string): number {
  if (/^\s*0+\s*$/.test(text)) return 0; // a bare 0 needs no unit
  const ms = parseDuration(text);
  if (ms === undefined) {
    throw new UsageError('ERR_GRACE_INVALID', `--grace "${text}" is not a duration.`, { hint: 'Use a number with a unit, e.g. 30m, 24h or 7d; 0 drops the old secret now.' });
  }
  // Under a second the old secret would be retired by the very write that stores it (expiries are
  // pruned on write), yet reported "accepted until" an instant already past.
  if (ms > 0 && ms < 1000) {
    throw new UsageError('ERR_GRACE_INVALID', `--grace "${text}" is less than a second: the old secret would stop working before chatid is done.`, {
      hint: 'Give 0 to drop the old secret now, or a grace of at least 1s, e.g. 30m or 24h.',
    });
  }
  // Past a year the old secret is simply still valid: that is no rotation (and huge values overflow Date).
  if (ms > MAX_GRACE_MS) {
    throw new UsageError('ERR_GRACE_INVALID', `--grace "${text}" is longer than a year.`, { hint: 'Give at most 366d; the point of rotating is that the old secret stops working.' });
  }
  return ms;
}

export async function runRotate(o: RotateOptions, ctx: Ctx): Promise<RotateResult> {
  const graceMs = parseGrace(o.grace ?? DEFAULT_GRACE);
  const generate = Boolean(o.generate);
  if (generate && (o.secret !== undefined || o.secretStdin || o.secretFile !== undefined)) {
    throw new UsageError('ERR_SECRET_SOURCES', '--generate makes the new secret; do not pass one as well.', {
      hint: 'Drop --generate to store a secret of your own, or drop --secret/--secret-stdin/--secret-file.',
    });
  }
  const store = await ctx.store();
  const { name, profile } = targetProfile(ctx, await store.read());
  const secret = generate ? generateSecret(profile.provider, ctx.random(32)) : await readNewSecret(ctx, o, profile.provider, name, profile.secret !== undefined ? { refuseCurrent: profile.secret } : {});
  const now = ctx.clock.now();

  let retiredGone: SecretView | undefined;
  // The secret that was current, as found under the lock: the profile read above is a
  // snapshot from before the prompt, which another chatid may have rotated since.
  let replacedSecret: string | undefined;
  const result = await store.update((data): RotateResult => {
    const p = getProfile(data, name);
    if (!p) throw profileNotFound(name, data);
    // Replaced meanwhile by a profile for another provider: the secret was made or checked for the old one.
    if (p.provider !== profile.provider) checkSecret(p.provider, secret);
    if (p.secret === secret) {
      throw new UsageError('ERR_SECRET_UNCHANGED', `The new secret is the one profile "${name}" already uses.`, {
        hint: 'Give a different secret, or let chatid make one with --generate.',
      });
    }
    // Rotating back to the previous secret (undoing a rotation) cuts nothing short: that secret
    // is the current one again, neither dropped nor retired.
    const cutShort = p.previousSecret !== undefined && p.previousSecret !== secret ? p.previousSecret : undefined;
    const dropped = cutShort !== undefined ? secretView(cutShort, false) : null;
    // One older secret is kept at most, for the doctors only: a previous secret cut short by
    // this rotation becomes it (a signer may well still use it), else the retired one stays
    // out. --grace 0 keeps nothing.
    const retire = graceMs > 0 ? cutShort : undefined;
    // A retired secret made current again is still stored.
    if (p.retiredSecret !== undefined && p.retiredSecret !== secret) retiredGone = secretView(p.retiredSecret, false);
    const old = p.secret;
    replacedSecret = old;
    p.secret = secret;
    delete p.previousSecret;
    delete p.previousSecretExpiresAt;
    delete p.retiredSecret;
    delete p.retiredSecretExpiredAt;
    if (retire !== undefined) {
      p.retiredSecret = retire;
      p.retiredSecretExpiredAt = now.toISOString();
    }
    let previous: RotateResult['previous'] = null;
    if (old !== undefined && graceMs > 0) {
      p.previousSecret = old;
      p.previousSecretExpiresAt = new Date(now.getTime() + graceMs).toISOString();
      previous = { ...secretView(old, false), expiresAt: p.previousSecretExpiresAt };
    }
    const replaced = old !== undefined && graceMs === 0 ? secretView(old, false) : null;
    const r: RotateResult = { profile: name, provider: p.provider, generated: generate, current: secretView(secret, false), previous, dropped, replaced };
    if (generate) r.secret = secret;
    return r;
  });

  if (retiredGone) info(ctx, `The retired secret (fingerprint ${retiredGone.fingerprint}), kept for diagnosis since its grace period ended, is no longer stored.`);
  if (result.dropped) {
    warn(ctx, `the previous secret (fingerprint ${result.dropped.fingerprint}) was still in its grace period and is no longer accepted${graceMs > 0 ? '; it is kept as the retired secret, so the doctors can still name it' : ''}.`);
  }
  if (replacedSecret === undefined) info(ctx, `Profile "${name}" had no secret before; nothing to keep for a grace period.`);
  else if (graceMs === 0) info(ctx, `--grace 0: the old secret (fingerprint ${fingerprint(replacedSecret)}) is no longer stored.`);
  if (generate) {
    info(ctx, `New secret for profile "${name}" (fingerprint ${result.current.fingerprint}) is shown only once: copy it into the vendor's dashboard now.`);
    if (!ctx.ui.json && result.previous) info(ctx, `The previous secret stays accepted until ${result.previous.expiresAt} (${relativeTime(new Date(result.previous.expiresAt), now)}).`);
    // `chatid secret rotate --generate > new.key` makes the file with the shell's umask, 0644 as a rule.
    const mode = await looseStdoutFile(ctx);
    if (mode !== undefined) warn(ctx, `stdout is a file readable by other users (mode 0${mode.toString(8)}), and the new secret goes into it: chmod 600 it now, or write it from a subshell with umask 077.`);
  }
  warnEnvOverride(ctx);
  return result;
}

/**
 * The permission bits of stdout when it is a regular file that group or others may read
 * (a redirect made with the usual umask), else undefined: a pipe, a terminal, a 0600 file.
 */
async function looseStdoutFile(ctx: Ctx): Promise<number | undefined> {
  const fd = (ctx.io.stdout as { fd?: unknown }).fd;
  if (typeof fd !== 'number' || ctx.platform.os === 'win32') return undefined;
  try {
    const { fstatSync } = await import('node:fs');
    const st = fstatSync(fd);
    const mode = st.mode & 0o777;
    return st.isFile() && (mode & 0o044) !== 0 ? mode : undefined;
  } catch {
    return undefined;
  }
}

/** 32 random bytes as the provider writes its secret: base64 for TeamWeb, lowercase hex text otherwise. */
export function generateSecret(provider: Provider, bytes: Uint8Array): string {
  return PROVIDER_INFO[provider].secretFormat === 'base64-32' ? encodeBase64(bytes) : Buffer.from(bytes).toString('hex');
}

export function renderRotate(r: RotateResult, ctx: Ctx): string {
  // --generate: stdout carries the secret alone, so `chatid secret rotate --generate | pbcopy` works.
  if (r.secret !== undefined) return r.secret;
  const rows: Array<[string, string]> = [['Current', renderSecretView(r.current)]];
  if (r.previous) rows.push(['Previous', `${renderSecretView(r.previous)}, accepted until ${r.previous.expiresAt} (${relativeTime(new Date(r.previous.expiresAt), ctx.clock.now())})`]);
  return `Rotated the identity secret of profile "${r.profile}".\n${table(rows)}`;
}
