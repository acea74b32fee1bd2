import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { emit } from '../../cli/output.js';
import type { Provider } from '../../core/providers.js';
import { relativeTime } from '../../core/relative-time.js';
import { refuseProfileFlag, type SecretView, secretView, warnProfileEnvOverride } from '../profile/shared.js';

export interface SecretListEntry {
  profile: string;
  active: boolean;
  provider: Provider;
  secret: SecretView | null;
  previousSecret: (SecretView & { expiresAt: string }) | null;
  /** A previous secret past its grace period: no longer accepted, kept so the doctors can name it. */
  retiredSecret: (SecretView & { expiredAt: string | null }) | null;
}

export type ListResult = SecretListEntry[];

export function registerList(parent: Command, ctx: Ctx, runF = runList): void {
  parent
    .command('list')
    .alias('ls')
    .description('List the secrets of every profile, masked, with fingerprints and the previous secrets\' expiry')
    .addHelpText('after', '\nExamples:\n  $ chatid secret list\n  $ chatid secret list --json | jq \'.[] | {profile, fp: .secret.fingerprint}\'')
    .action(async () => {
      emit(ctx, await runF(ctx), renderList);
    });
}

export async function runList(ctx: Ctx): Promise<ListResult> {
  refuseProfileFlag(ctx, 'secret list', undefined, `chatid secret show --profile ${ctx.ui.profile ?? ''}`);
  const data = await (await ctx.store()).read();
  warnProfileEnvOverride(ctx, data);
  return Object.keys(data.profiles)
    .sort()
    .map((name) => {
      const p = data.profiles[name]!;
      return {
        profile: name,
        active: data.activeProfile === name,
        provider: p.provider,
        secret: p.secret ? secretView(p.secret, false) : null,
        previousSecret: p.previousSecret && p.previousSecretExpiresAt ? { ...secretView(p.previousSecret, false), expiresAt: p.previousSecretExpiresAt } : null,
        retiredSecret: p.retiredSecret ? { ...secretView(p.retiredSecret, false), expiredAt: p.retiredSecretExpiredAt ?? null } : null,
      };
    });
}

export function renderList(r: ListResult, ctx: Ctx): string {
  if (r.length === 0) return 'No profiles yet. Add one with `chatid profile add <name>`.';
  const now = ctx.clock.now();
  const rows = r.map((e) => [
    `${e.active ? '*' : ' '} ${e.profile}`,
    e.provider,
    e.secret ? `${e.secret.masked} ${e.secret.fingerprint}` : '(no secret)',
    e.previousSecret
      ? `previous ${e.previousSecret.masked} ${e.previousSecret.fingerprint}, expires ${relativeTime(new Date(e.previousSecret.expiresAt), now)}`
      : e.retiredSecret
        ? `retired ${e.retiredSecret.masked} ${e.retiredSecret.fingerprint}, grace ended${e.retiredSecret.expiredAt ? ` ${relativeTime(new Date(e.retiredSecret.expiredAt), now)}` : ''} (not accepted)`
        : '',
  ]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}
