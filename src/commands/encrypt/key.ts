import { canPrompt, type Ctx } from '../../cli/context.js';
import { warn } from '../../cli/output.js';
import { promptSecret, readSecretFlags, type SecretFlags } from '../../cli/secret-input.js';
import { describeSource, requireSecret, resolveSettings, type Settings } from '../../cli/settings.js';
import { parseTeamWebKey } from '../../core/teamweb-key.js';

/**
 * The TeamWeb AES key for `encrypt` and `decrypt`: the identity secret from --secret* flags,
 * CHATID_SECRET or the profile (cli.md §2), or a hidden prompt at a terminal; then strict
 * base64 of 32 bytes (ERR_SECRET_NOT_BASE64 / ERR_SECRET_KEY_LENGTH, exit 2).
 */
export async function resolveTeamWebKey(ctx: Ctx, flags: SecretFlags): Promise<{ key: Uint8Array; settings: Settings }> {
  const flag = await readSecretFlags(ctx, flags);
  const settings = await resolveSettings(ctx, flag === undefined ? {} : { secret: flag }, { needs: ['secret'] });
  if (!settings.secret && canPrompt(ctx)) {
    const typed = await promptSecret(ctx, 'TeamWeb identity secret (base64)', 'Paste the identity secret TeamWeb shows for the Browser External channel.');
    settings.secret = { value: typed, source: 'flag' };
  }
  const secret = requireSecret(settings);
  if (settings.provider && settings.provider.value !== 'teamweb') {
    warn(ctx, `the provider is ${settings.provider.value} (from ${describeSource(settings.provider.source, 'provider')}); encrypt/decrypt make and read TeamWeb AI tokens.`);
  }
  return { key: parseTeamWebKey(secret), settings };
}

/** The profile's previous secret as a TeamWeb key while its grace period lasts, or undefined. */
export function previousTeamWebKey(settings: Settings, now: Date): { key: Uint8Array; until: string } | undefined {
  const prev = settings.previousSecret;
  if (!prev || !(Date.parse(prev.expiresAt) > now.getTime())) return undefined;
  try {
    return { key: parseTeamWebKey(prev.value), until: prev.expiresAt };
  } catch {
    return undefined; // not a TeamWeb key: it cannot have made the token
  }
}

/**
 * Keys a token may have been made with instead (decrypt's doctor): the previous secret and
 * other profiles' TeamWeb secrets, labelled. Secrets that are not TeamWeb keys are skipped.
 */
export async function otherTeamWebKeys(ctx: Ctx, settings: Settings): Promise<Array<{ key: Uint8Array; label: string }>> {
  const out: Array<{ key: Uint8Array; label: string }> = [];
  const add = (secret: string | undefined, label: string): void => {
    if (!secret) return;
    try {
      out.push({ key: parseTeamWebKey(secret), label });
    } catch {
      // not a TeamWeb key: cannot have made this token
    }
  };
  add(settings.previousSecret?.value, 'the previous secret (before the rotation)');
  const retired = settings.retiredSecret;
  add(retired?.value, `the previous secret, whose grace period ended${retired?.expiredAt ? ` at ${retired.expiredAt}` : ''} (the signer still uses the secret from before the rotation)`);
  let profiles = settings.store?.data.profiles;
  if (!profiles) {
    try {
      profiles = (await (await ctx.store()).read()).profiles;
    } catch {
      profiles = {};
    }
  }
  for (const [name, p] of Object.entries(profiles)) {
    if (name === settings.profileName?.value) continue;
    add(p.secret, `the secret of profile "${name}"`);
    add(p.previousSecret, `the previous secret of profile "${name}"`);
    add(p.retiredSecret, `the retired secret of profile "${name}"`);
  }
  return out;
}
