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

/**
 * The keys `decrypt` may try besides the one in use (see secret-history.ts): `previous`, the
 * profile's previous secret when it is accepted now (its grace period lasts), and `others`, the
 * keys a token may have been made with instead, labelled for the doctor's message. Secrets that
 * are not TeamWeb keys are skipped: they cannot have made the token.
 */
/** A key that may have made a token, named for the message. */
export interface OtherKey {
  key: Uint8Array;
  label: string;
  /** Set when it is a key of the profile in use (named here), overridden by a flag or CHATID_SECRET. */
  profileInUse?: string;
}

export async function otherTeamWebKeys(ctx: Ctx, settings: Settings): Promise<{ previous?: { key: Uint8Array; until: string }; others: OtherKey[] }> {
  const { secretHistory, storeForDoctor } = await import('../../cli/secret-history.js');
  const h = secretHistory(ctx, settings, await storeForDoctor(ctx, settings, () => undefined), ctx.clock.now().getTime() / 1000);
  const others: OtherKey[] = [];
  const keyOf = (secret: string): Uint8Array | undefined => {
    try {
      return parseTeamWebKey(secret);
    } catch {
      return undefined; // not a TeamWeb key
    }
  };
  const add = (secret: string | undefined, label: string, profileInUse?: string): void => {
    const key = secret === undefined ? undefined : keyOf(secret);
    if (key) others.push(profileInUse === undefined ? { key, label } : { key, label, profileInUse });
  };
  const p = h.previous;
  const prevKey = p ? keyOf(p.value) : undefined;
  const until = settings.previousSecret?.expiresAt;
  const previous = p?.accepted && prevKey && until ? { key: prevKey, until } : undefined;
  if (p && !previous) {
    add(p.value, p.graceEnded === undefined ? 'the previous secret (before the rotation)' : `the previous secret, whose grace period ended${p.graceEnded ? ` at ${p.graceEnded}` : ''} (the signer still uses the secret from before the rotation)`);
  }
  if (h.older) add(h.older.value, `the secret before the previous one, whose grace period ended${h.older.graceEnded ? ` at ${h.older.graceEnded}` : ''}`);
  for (const o of h.others) {
    const which = o.inUse ? `profile "${o.name}" (the profile in use)` : `profile "${o.name}"`;
    const inUse = o.inUse ? o.name : undefined;
    add(o.secret, `the ${o.inUse ? 'stored ' : ''}secret of ${which}`, inUse);
    add(o.previousSecret, `the previous secret of ${which}`, inUse);
    add(o.retiredSecret, `the retired secret of ${which}`, inUse);
  }
  return previous ? { previous, others } : { others };
}
