import { canPrompt, type Ctx } from '../../cli/context.js';
import { UsageError } from '../../cli/errors.js';
import { verbose } from '../../cli/output.js';
import { readSecretFlags, type SecretFlags } from '../../cli/secret-input.js';
import { requireSecret, resolveSettings, type Settings } from '../../cli/settings.js';
import type { Profile } from '../../store/types.js';

/**
 * The identity secret for `hash`, `encrypt` and `decrypt`: --secret / --secret-stdin /
 * --secret-file, then CHATID_SECRET, then the profile (cli.md §2), then a hidden prompt
 * when a terminal allows it. No provider is needed: a hash is the same for every vendor.
 */
export async function resolveIdentitySecret(ctx: Ctx, flags: SecretFlags, o: { openStore?: boolean } = {}): Promise<{ settings: Settings; secret: string }> {
  const secretFlag = await readSecretFlags(ctx, flags);
  const settings = await resolveSettings(ctx, { secret: secretFlag }, { needs: ['secret'], openStore: o.openStore });
  if (!settings.secret && canPrompt(ctx)) {
    const secret = await ctx.prompter.password('Identity secret');
    if (secret === '') throw new UsageError('ERR_SECRET_EMPTY', 'The identity secret is empty.', { hint: 'Type or paste the secret shown in the vendor dashboard.' });
    settings.secret = { value: secret, source: 'flag' };
  }
  return { settings, secret: requireSecret(settings) };
}

/**
 * Every profile in the store, for the doctors (other profiles' secrets). When flags and env
 * gave everything, a missing or unreadable store must not stop the command itself.
 */
export async function allProfiles(ctx: Ctx, settings: Settings): Promise<Record<string, Profile>> {
  if (settings.store) return settings.store.data.profiles;
  try {
    return (await (await ctx.store()).read()).profiles;
  } catch (err) {
    verbose(ctx, `store not read for the doctor: ${(err as Error).message}`);
    return {};
  }
}

/** Whether the secret and a value argument would both be read from stdin. */
export function secretFromStdin(f: SecretFlags): boolean {
  return Boolean(f.secretStdin) || f.secretFile === '-';
}
