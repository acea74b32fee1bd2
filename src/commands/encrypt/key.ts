import { canPrompt, type Ctx } from '../../cli/context.js';
import { UsageError } from '../../cli/errors.js';
import { warn } from '../../cli/output.js';
import { readSecretFlags, type SecretFlags } from '../../cli/secret-input.js';
import { describeSource, requireSecret, resolveSettings } from '../../cli/settings.js';
import { parseTeamWebKey } from '../../core/teamweb-key.js';

/**
 * The TeamWeb AES key for `encrypt` and `decrypt`: the identity secret from --secret* flags,
 * CHATID_SECRET or the profile (cli.md §2), or a hidden prompt at a terminal; then strict
 * base64 of 32 bytes (ERR_SECRET_NOT_BASE64 / ERR_SECRET_KEY_LENGTH, exit 2).
 */
export async function resolveTeamWebKey(ctx: Ctx, flags: SecretFlags): Promise<Uint8Array> {
  const flag = await readSecretFlags(ctx, flags);
  const settings = await resolveSettings(ctx, flag === undefined ? {} : { secret: flag }, { needs: ['secret'] });
  if (!settings.secret && canPrompt(ctx)) {
    const typed = await ctx.prompter.password('TeamWeb identity secret (base64)');
    if (typed === '') throw new UsageError('ERR_SECRET_EMPTY', 'The identity secret is empty.', { hint: 'Paste the identity secret TeamWeb shows for the Browser External channel.' });
    settings.secret = { value: typed, source: 'flag' };
  }
  const secret = requireSecret(settings);
  if (settings.provider && settings.provider.value !== 'teamweb') {
    warn(ctx, `the provider is ${settings.provider.value} (from ${describeSource(settings.provider.source, 'provider')}); encrypt/decrypt make and read TeamWeb AI tokens.`);
  }
  return parseTeamWebKey(secret);
}

/** Whether the secret would be read from stdin too (it cannot share stdin with a token or ids). */
export function secretFromStdin(f: SecretFlags): boolean {
  return Boolean(f.secretStdin) || f.secretFile === '-';
}
