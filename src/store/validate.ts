import { StoreError } from '../cli/errors.js';
import { isProvider } from '../core/providers.js';
import type { Profile, StoreData } from './types.js';

const STRING_FIELDS = ['agentId', 'baseUrl', 'apiKey', 'secret', 'previousSecret', 'previousSecretExpiresAt', 'retiredSecret', 'retiredSecretExpiredAt'] as const;

/** The fields commands print in clear (secrets and keys are only ever masked or fingerprinted). */
const SHOWN_FIELDS = ['agentId', 'baseUrl', 'previousSecretExpiresAt', 'retiredSecretExpiredAt'] as const;

/** C0 and C1 controls and DEL: what moves the cursor, recolours or clears a terminal. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A name for an error message, its control characters written as escapes. */
function quoted(text: string): string {
  return JSON.stringify(text).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Check a parsed store file field by field. A wrong type is an error naming the field,
 * never a silent reset: the user's secrets are in there. Unknown fields pass through
 * untouched, so an older chatid does not erase what a newer one stored.
 */
export function validateStoreData(raw: unknown, path: string): StoreData {
  const bad = (what: string): StoreError =>
    new StoreError('ERR_STORE_INVALID', `The store ${path} is not valid: ${what}.`, {
      hint: `Fix or move the file by hand (chatid never overwrites it); a backup copy is safer than deleting it.`,
    });
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw bad('the top level is not a JSON object');
  const obj = raw as Record<string, unknown>;
  const profilesRaw = obj.profiles ?? {};
  if (profilesRaw === null || typeof profilesRaw !== 'object' || Array.isArray(profilesRaw)) throw bad('"profiles" is not an object');
  if (obj.activeProfile !== undefined && typeof obj.activeProfile !== 'string') throw bad('"activeProfile" is not a string');
  // Names, agent ids and URLs are printed as they are: a control character in one (ESC in a file
  // chatid did not write, e.g. a config checked into a repository) would drive the terminal.
  if (typeof obj.activeProfile === 'string' && CONTROL.test(obj.activeProfile)) throw bad(`"activeProfile" ${quoted(obj.activeProfile)} holds a control character`);
  const profiles: Record<string, Profile> = {};
  for (const [name, p] of Object.entries(profilesRaw as Record<string, unknown>)) {
    // JSON.parse makes "__proto__" an own key; assigning it below would replace the prototype.
    if (name === '__proto__') throw bad('a profile is named "__proto__"');
    if (CONTROL.test(name)) throw bad(`the profile name ${quoted(name)} holds a control character`);
    if (p === null || typeof p !== 'object' || Array.isArray(p)) throw bad(`profile "${name}" is not an object`);
    const rec = p as Record<string, unknown>;
    if (typeof rec.provider !== 'string' || !isProvider(rec.provider)) {
      // Quote the value only when it looks like a vendor's name (a typo, another tool's vendor):
      // short and without digits. A misplaced secret or key (sk_live_0123…, hex) must not be printed.
      const shown = typeof rec.provider === 'string' && /^[a-z][a-z _-]{0,15}$/i.test(rec.provider) ? ` "${rec.provider}"` : '';
      throw bad(`profile "${name}" has an unknown provider${shown}`);
    }
    for (const key of STRING_FIELDS) {
      const v = rec[key];
      if (v !== undefined && typeof v !== 'string') throw bad(`profile "${name}" field "${key}" is not a string`);
    }
    for (const key of SHOWN_FIELDS) {
      const v = rec[key];
      if (typeof v === 'string' && CONTROL.test(v)) throw bad(`profile "${name}" field "${key}" holds a control character`);
    }
    // Fields this version does not know (written by a newer chatid) are kept, not dropped on the next write.
    profiles[name] = { ...rec } as unknown as Profile;
  }
  return { ...obj, profiles } as StoreData;
}

/**
 * Retire previous secrets whose grace period has ended (as of `now`): the secret moves from
 * `previousSecret` to `retiredSecret`, so no command accepts it any more, but the doctors can
 * still prove that a signer uses it. It replaces an older retired secret (one is kept: the
 * most recent). A previous secret without a readable expiry is retired too, without a time.
 * Returns a new object; the caller's data is not changed.
 */
export function pruneExpired(data: StoreData, now: Date): StoreData {
  const profiles: Record<string, Profile> = {};
  for (const [name, p] of Object.entries(data.profiles)) {
    const expires = p.previousSecretExpiresAt ? Date.parse(p.previousSecretExpiresAt) : NaN;
    if (p.previousSecret !== undefined && !(expires > now.getTime())) {
      const { previousSecret, previousSecretExpiresAt: _e, ...rest } = p;
      profiles[name] = rest;
      if (previousSecret !== '') {
        delete rest.retiredSecretExpiredAt;
        rest.retiredSecret = previousSecret;
        if (Number.isFinite(expires)) rest.retiredSecretExpiredAt = new Date(expires).toISOString();
      }
    } else {
      profiles[name] = { ...p };
    }
  }
  return { ...data, profiles };
}
