/**
 * The secrets a doctor may try besides the one in use (`hash --expect`, `token verify`,
 * `decrypt`): the previous secret of the profile in use, in its grace period or retired after
 * it, and every other profile's secrets. One place, so the three commands agree on which
 * profile is in use (also when the secret came from a flag or CHATID_SECRET and the store was
 * not read for settings) and on when a previous secret still counts.
 */
import type { SecretCandidateInput } from '../core/secret-candidates.js';
import type { Profile, StoreData } from '../store/types.js';
import type { Ctx } from './context.js';
import type { Settings } from './settings.js';

/** The previous secret of the profile in use, as of the moment checked. */
export interface PreviousSecret {
  value: string;
  /** Accepted at that moment: within its grace period, with the profile's own secret in use. */
  accepted: boolean;
  /** Set when its grace period is over at that moment: when it ended (ISO 8601), '' when the store does not say. */
  graceEnded?: string;
}

/** Another profile's secrets, as the doctors search them. */
export interface ProfileSecrets {
  name: string;
  secret?: string;
  previousSecret?: string;
  retiredSecret?: string;
  apiKey?: string;
  /** The profile in use, listed because the secret checked (a flag or CHATID_SECRET) is not its stored one. */
  inUse?: boolean;
}

export interface SecretHistory {
  /** The profile in use: the one settings resolved, else CHATID_PROFILE, else the store's active profile. */
  profileName: string | undefined;
  previous: PreviousSecret | undefined;
  /** The retired secret, when `previous` is one still in its grace period (a rotation cut the retired one's short). */
  older: { value: string; graceEnded: string } | undefined;
  /**
   * Every other profile's secrets; when the secret in use came from a flag or the environment,
   * the stored current secret of the profile in use too (it is then a different key).
   */
  others: ProfileSecrets[];
}

/**
 * The history of the secret in use at `at` (Unix seconds: the clock, or `--at`), from the
 * store snapshot `data` (undefined: none could be read; only settings' own profile is used).
 * @example secretHistory(ctx, settings, data, Date.now() / 1000).previous?.accepted
 */
export function secretHistory(ctx: Ctx, s: Settings, data: StoreData | undefined, at: number): SecretHistory {
  const profiles = data?.profiles ?? {};
  const profileName = s.profileName?.value ?? (ctx.env.CHATID_PROFILE || undefined) ?? data?.activeProfile;
  const profile = s.profile ?? (profileName !== undefined && Object.hasOwn(profiles, profileName) ? profiles[profileName] : undefined);
  const own = s.secret?.source === 'profile';
  // The secret in use is this profile's (from the store, or the same value by flag or env):
  // its previous and retired secrets are then "the previous secret". A secret from a flag or
  // the environment that is not the stored one makes the profile one of the others, by name.
  const ofProfile = own || (profile?.secret !== undefined && profile.secret === s.secret?.value);
  const others: ProfileSecrets[] = [];
  for (const [name, p] of Object.entries(profiles)) {
    if (name === profileName && ofProfile) continue;
    const o: ProfileSecrets = { name };
    if (name === profileName) o.inUse = true;
    if (p.secret) o.secret = p.secret;
    if (p.previousSecret) o.previousSecret = p.previousSecret;
    if (p.retiredSecret) o.retiredSecret = p.retiredSecret;
    if (p.apiKey) o.apiKey = p.apiKey;
    others.push(o);
  }
  const mine = ofProfile ? profile : undefined;
  const older = mine?.previousSecret && mine.retiredSecret ? { value: mine.retiredSecret, graceEnded: mine.retiredSecretExpiredAt ?? '' } : undefined;
  return { profileName, previous: previousOf(mine, own, at), older, others };
}

function previousOf(p: Profile | undefined, own: boolean, at: number): PreviousSecret | undefined {
  if (!p) return undefined;
  const prev = p.previousSecret ? { value: p.previousSecret, end: p.previousSecretExpiresAt } : p.retiredSecret ? { value: p.retiredSecret, end: p.retiredSecretExpiredAt } : undefined;
  if (!prev) return undefined;
  const end = prev.end !== undefined ? Date.parse(prev.end) / 1000 : Number.NaN;
  // Within its grace period: accepted when the profile's own secret is in use (with a flag or
  // CHATID_SECRET it is not a key, though it may still have signed).
  if (end > at) return { value: prev.value, accepted: own };
  return { value: prev.value, accepted: false, graceEnded: Number.isNaN(end) ? '' : new Date(end * 1000).toISOString() };
}

/** The doctors' input for the secret in use and its history. */
export function candidateInput(secret: string, h: SecretHistory, apiKey: string | undefined): SecretCandidateInput {
  const input: SecretCandidateInput = { secret };
  if (h.previous) {
    input.previousSecret = h.previous.value;
    if (h.previous.graceEnded !== undefined) input.previousSecretGraceEnded = h.previous.graceEnded;
  }
  if (h.older) input.olderSecret = h.older;
  if (apiKey) input.apiKey = apiKey;
  if (h.others.length > 0) input.otherProfiles = h.others;
  return input;
}

/** The store snapshot for a doctor: settings' own, else read now; undefined (said under --verbose) when it cannot be read. */
export async function storeForDoctor(ctx: Ctx, s: Settings, say: (message: string) => void): Promise<StoreData | undefined> {
  if (s.store) return s.store.data;
  try {
    return await (await ctx.store()).read();
  } catch (err) {
    say(`the doctor skips other profiles: the store cannot be read (${(err as Error).message})`);
    return undefined;
  }
}
