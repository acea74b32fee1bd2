import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { emit } from '../../cli/output.js';
import type { Provider } from '../../core/providers.js';
import { relativeTime } from '../../core/relative-time.js';
import { renderSecretView, retiredText, type SecretView, secretView, table, targetProfile } from '../profile/shared.js';
import { warnEnvOverride } from './shared.js';

export interface ShowOptions {
  reveal?: boolean;
}

export interface ShowResult {
  profile: string;
  provider: Provider;
  secret: SecretView | null;
  previousSecret: (SecretView & { expiresAt: string }) | null;
  /** A previous secret past its grace period: no longer accepted, kept so the doctors can name it. */
  retiredSecret: (SecretView & { expiredAt: string | null }) | null;
}

export function registerShow(parent: Command, ctx: Ctx, runF = runShow): void {
  parent
    .command('show')
    .description("Show the profile's secret masked, with its fingerprint, and the previous (or retired) secret with its expiry")
    .option('--reveal', 'print the secrets in clear')
    .addHelpText('after', '\nExamples:\n  $ chatid secret show\n  $ chatid secret show --profile prod --json\n  $ chatid secret show --reveal   # prints the secret: mind who is watching')
    .action(async (flags: ShowOptions) => {
      emit(ctx, await runF(flags, ctx), renderShow);
    });
}

export async function runShow(o: ShowOptions, ctx: Ctx): Promise<ShowResult> {
  const { name, profile } = targetProfile(ctx, await (await ctx.store()).read());
  const reveal = Boolean(o.reveal);
  warnEnvOverride(ctx);
  return {
    profile: name,
    provider: profile.provider,
    secret: profile.secret ? secretView(profile.secret, reveal) : null,
    previousSecret:
      profile.previousSecret && profile.previousSecretExpiresAt
        ? { ...secretView(profile.previousSecret, reveal), expiresAt: profile.previousSecretExpiresAt }
        : null,
    retiredSecret: profile.retiredSecret ? { ...secretView(profile.retiredSecret, reveal), expiredAt: profile.retiredSecretExpiredAt ?? null } : null,
  };
}

export function renderShow(r: ShowResult, ctx: Ctx): string {
  const rows: Array<[string, string]> = [
    ['Profile', `${r.profile} (${r.provider})`],
    ['Secret', r.secret ? renderSecretView(r.secret) : `(none; store one with \`chatid secret set --profile ${r.profile}\`)`],
  ];
  if (r.previousSecret) {
    rows.push(['Previous', `${renderSecretView(r.previousSecret)}, accepted until ${r.previousSecret.expiresAt} (${relativeTime(new Date(r.previousSecret.expiresAt), ctx.clock.now())})`]);
  }
  if (r.retiredSecret) rows.push(['Retired', `${renderSecretView(r.retiredSecret)}, ${retiredText(r.retiredSecret.expiredAt, ctx.clock.now(), relativeTime)}`]);
  return table(rows);
}

