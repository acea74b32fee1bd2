import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { emit } from '../../cli/output.js';
import { SECRET_OPTION_HELP, type SecretFlags } from '../../cli/secret-input.js';
import type { Provider } from '../../core/providers.js';
import { checkSecret, getProfile, profileNotFound, type SecretView, secretView, targetProfile } from '../profile/shared.js';
import { readNewSecret, warnEnvOverride } from './shared.js';

export type SetOptions = SecretFlags;

export interface SetResult {
  profile: string;
  provider: Provider;
  secret: SecretView;
  /** A different secret was stored before (and is now gone: use `secret rotate` to keep it for a while). */
  replaced: boolean;
}

export function registerSet(parent: Command, ctx: Ctx, runF = runSet): void {
  parent
    .command('set')
    .description('Store the identity secret of the active profile (or --profile): hidden prompt, stdin or file')
    .option('--secret <value>', SECRET_OPTION_HELP.secret)
    .option('--secret-stdin', SECRET_OPTION_HELP.secretStdin)
    .option('--secret-file <path>', SECRET_OPTION_HELP.secretFile)
    .addHelpText(
      'after',
      `
Examples:
  $ chatid secret set                                  # hidden prompt
  $ pass show chatbase/secret | chatid secret set --secret-stdin --profile prod
  $ chatid secret set --secret-file teamweb.key --profile tw

To replace a secret that is in use, prefer \`chatid secret rotate\`: it keeps the old one for a grace period.`,
    )
    .action(async (flags: SetOptions) => {
      emit(ctx, await runF(flags, ctx), renderSet);
    });
}

export async function runSet(o: SetOptions, ctx: Ctx): Promise<SetResult> {
  const store = await ctx.store();
  const { name, profile } = targetProfile(ctx, await store.read());
  const secret = await readNewSecret(ctx, o, profile.provider, name);
  const result = await store.update((data) => {
    const p = getProfile(data, name);
    if (!p) throw profileNotFound(name, data);
    // Replaced meanwhile (during the prompt) by a profile for another provider: check for that one.
    if (p.provider !== profile.provider) checkSecret(p.provider, secret);
    const replaced = p.secret !== undefined && p.secret !== secret;
    p.secret = secret;
    // The previous or retired secret made current again: one copy, as the current secret (a
    // second one would be listed as still accepted until, or no longer accepted since, a date).
    if (p.previousSecret === secret) {
      delete p.previousSecret;
      delete p.previousSecretExpiresAt;
    }
    if (p.retiredSecret === secret) {
      delete p.retiredSecret;
      delete p.retiredSecretExpiredAt;
    }
    return { profile: name, provider: p.provider, secret: secretView(secret, false), replaced };
  });
  warnEnvOverride(ctx);
  return result;
}

export function renderSet(r: SetResult): string {
  return `Stored the identity secret of profile "${r.profile}" (fingerprint ${r.secret.fingerprint}).${r.replaced ? ' The secret it replaces is no longer stored.' : ''}`;
}
