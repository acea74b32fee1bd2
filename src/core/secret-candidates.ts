/**
 * The keys a user may *actually* have signed with when a hash or token does not match:
 * the configured secret with the usual mistakes applied (vendors.md §8), the previous
 * secret, and other profiles' secrets. Pure: no I/O, no clock. The hash doctor and
 * `token verify` recompute with each candidate and report only the ones that reproduce
 * the value the user has, so a label here is a hypothesis, never a claim.
 */
import { decodeBase64Strict, decodeBase64UrlStrict } from './base64.js';
import { parseSecretKey } from './secret-key.js';

/** Cause codes a secret candidate can prove (cli.md §6 and §7, plus our own). */
export const SECRET_CAUSES = {
  whitespace: 'SECRET_WHITESPACE',
  encoding: 'SECRET_ENCODING',
  previous: 'SIGNED_WITH_PREVIOUS_SECRET',
  otherProfile: 'SIGNED_WITH_OTHER_PROFILE_SECRET',
  /** The secret was pasted with its quotes (`SECRET="abc"` read by a loader that keeps them). */
  quoted: 'SECRET_QUOTED',
  /** The vendor API key (`oc_…`, `rfl_…`, `ocx_…`) was used as the identity secret. */
  apiKey: 'API_KEY_AS_SECRET',
} as const;
export type SecretCause = (typeof SECRET_CAUSES)[keyof typeof SECRET_CAUSES];

/** One key to try, with why it might be the one the user signed with. */
export interface SecretCandidate {
  /** Key bytes to recompute the HMAC / JWT signature with. */
  bytes: Uint8Array;
  /** Cause code proven when this key reproduces the user's value. */
  cause: SecretCause;
  /** Human description of the key, e.g. `the secret with a trailing "\n"`; never the secret itself. */
  label: string;
  /** The profile the key belongs to (SIGNED_WITH_OTHER_PROFILE_SECRET). */
  profile?: string;
  /** That profile is the one in use: the secret checked (a flag or CHATID_SECRET) is not its stored one. */
  profileInUse?: boolean;
  /** SIGNED_WITH_PREVIOUS_SECRET only: as in the input, when the previous secret's grace period has ended. */
  graceEnded?: string;
}

export interface SecretCandidateInput {
  /** The configured secret as written (raw text, or `hex:` / `base64:` prefixed). */
  secret: string;
  /** The previous secret (after a rotation), if any, whether or not its grace period lasts. */
  previousSecret?: string;
  /**
   * Set when the previous secret's grace period has ended (as of the moment checked), so it is
   * no longer accepted: the ISO 8601 time it ended, or '' when that is not known. The caller
   * decides, with its clock: this module reads none.
   */
  previousSecretGraceEnded?: string;
  /**
   * An older secret still kept for diagnosis while `previousSecret` is in its grace period (a
   * second rotation cut the first one's short), with when its grace ended ('' when unknown).
   */
  olderSecret?: { value: string; graceEnded: string };
  /**
   * Other profiles' secrets, by profile name; `retiredSecret` is a previous one past its grace.
   * The profile in use is left out, unless the secret checked is not its stored one (`inUse`).
   */
  otherProfiles?: ReadonlyArray<{ name: string; secret?: string; previousSecret?: string; retiredSecret?: string; apiKey?: string; inUse?: boolean }>;
  /** The vendor API key from settings; users paste it where the identity secret belongs. */
  apiKey?: string;
}

/** Prefixes of vendor API keys (vendors.md §3, §5, §6); a secret starting with one is suspicious. */
export const API_KEY_PREFIXES = ['oc_live_', 'oc_test_', 'rfl_live_', 'rfl_test_', 'ocx_live_', 'ocx_', 'rfl_', 'oc_'] as const;

/**
 * Whether a secret looks like a vendor API key rather than an identity secret. A hint for
 * warnings only: it proves nothing about a hash.
 * @example looksLikeApiKey('oc_live_abc') // true
 */
export function looksLikeApiKey(secret: string): boolean {
  return API_KEY_PREFIXES.some((p) => secret.startsWith(p));
}

const enc = new TextEncoder();
const HEX = /^(?:[0-9a-fA-F]{2})+$/;

/**
 * Labelled variant keys for the doctor, in a stable order, without duplicates and without
 * the configured key itself.
 * @example
 * secretCandidates({ secret: 'sk_test' }).map((c) => c.label)
 * // ['the secret with a trailing "\n"', …, 'the base64 encoding of the secret', …]
 */
export function secretCandidates(input: SecretCandidateInput): SecretCandidate[] {
  const primary = safeKey(input.secret);
  const out: SecretCandidate[] = [];
  const seen = new Set<string>([hexOf(primary)]);
  const add = (bytes: Uint8Array, cause: SecretCause, label: string, profile?: string, graceEnded?: string, profileInUse?: boolean): void => {
    if (bytes.length === 0) return;
    const k = hexOf(bytes);
    if (seen.has(k)) return;
    seen.add(k);
    const c: SecretCandidate = { bytes, cause, label };
    if (profile !== undefined) c.profile = profile;
    if (profileInUse) c.profileInUse = true;
    if (graceEnded !== undefined) c.graceEnded = graceEnded;
    out.push(c);
  };

  const text = input.secret;
  const prefixed = text.startsWith('hex:') || text.startsWith('base64:');

  // Whitespace: a file written by echo or an editor, a Docker secret, a CRLF .env file.
  const trimmed = text.trim();
  if (trimmed !== text && trimmed !== '') {
    add(safeKey(trimmed), SECRET_CAUSES.whitespace, 'the secret without its leading/trailing whitespace');
    // Both ends dirty: one side may have been stripped and not the other (dedup drops repeats).
    add(safeKey(text.trimEnd()), SECRET_CAUSES.whitespace, 'the secret without its trailing whitespace');
    add(safeKey(text.trimStart()), SECRET_CAUSES.whitespace, 'the secret without its leading whitespace');
  }
  for (const [suffix, name] of [['\n', '\\n'], ['\r\n', '\\r\\n'], [' ', 'space'], ['\r', '\\r']] as const) {
    add(concat(primary, enc.encode(suffix)), SECRET_CAUSES.whitespace, `the secret with a trailing ${name === 'space' ? 'space' : `"${name}"`}`);
  }
  add(concat(enc.encode(' '), primary), SECRET_CAUSES.whitespace, 'the secret with a leading space');

  // Quotes kept by a .env loader or copied from JSON.
  if (/^(["'`]).+\1$/s.test(text)) add(safeKey(text.slice(1, -1)), SECRET_CAUSES.quoted, 'the secret without its surrounding quotes');
  add(enc.encode(`"${text}"`), SECRET_CAUSES.quoted, 'the secret wrapped in double quotes');
  add(enc.encode(`'${text}'`), SECRET_CAUSES.quoted, 'the secret wrapped in single quotes');

  // Encoding: decoded when it should be raw text, or the reverse.
  if (prefixed) {
    const body = text.slice(text.indexOf(':') + 1);
    add(enc.encode(body), SECRET_CAUSES.encoding, `the secret's ${text.startsWith('hex:') ? 'hex' : 'base64'} text used as raw bytes (not decoded)`);
    add(enc.encode(text), SECRET_CAUSES.encoding, 'the secret text including its prefix');
  } else {
    const b64 = decodeBase64Strict(text) ?? decodeBase64Strict(padBase64(text));
    if (b64) add(b64, SECRET_CAUSES.encoding, "the secret's base64-decoded bytes");
    const b64url = decodeBase64UrlStrict(text);
    if (b64url) add(b64url, SECRET_CAUSES.encoding, "the secret's base64url-decoded bytes");
    if (HEX.test(text)) add(new Uint8Array(Buffer.from(text, 'hex')), SECRET_CAUSES.encoding, "the secret's hex-decoded bytes");
  }
  const b = Buffer.from(primary.buffer, primary.byteOffset, primary.byteLength);
  add(enc.encode(b.toString('base64')), SECRET_CAUSES.encoding, 'the base64 encoding of the secret');
  add(enc.encode(b.toString('base64url')), SECRET_CAUSES.encoding, 'the base64url encoding of the secret');
  add(enc.encode(b.toString('hex')), SECRET_CAUSES.encoding, 'the hex encoding of the secret');

  if (input.previousSecret) {
    const ended = input.previousSecretGraceEnded;
    const label = ended === undefined ? 'the previous secret' : `the previous secret, whose grace period ${ended ? `ended at ${ended}` : 'has ended'}`;
    add(safeKey(input.previousSecret), SECRET_CAUSES.previous, label, undefined, ended);
  }
  if (input.olderSecret) {
    const ended = input.olderSecret.graceEnded;
    add(safeKey(input.olderSecret.value), SECRET_CAUSES.previous, `the secret before the previous one, whose grace period ${ended ? `ended at ${ended}` : 'has ended'}`, undefined, ended);
  }
  if (input.apiKey) add(safeKey(input.apiKey), SECRET_CAUSES.apiKey, 'the API key');

  for (const p of input.otherProfiles ?? []) {
    const which = p.inUse ? `profile "${p.name}" (the profile in use)` : `profile "${p.name}"`;
    if (p.secret) add(safeKey(p.secret), SECRET_CAUSES.otherProfile, `the ${p.inUse ? 'stored ' : ''}secret of ${which}`, p.name, undefined, p.inUse);
    if (p.previousSecret) add(safeKey(p.previousSecret), SECRET_CAUSES.otherProfile, `the previous secret of ${which}`, p.name, undefined, p.inUse);
    if (p.retiredSecret) add(safeKey(p.retiredSecret), SECRET_CAUSES.otherProfile, `the retired previous secret of ${which} (its grace period has ended)`, p.name, undefined, p.inUse);
  }
  for (const p of input.otherProfiles ?? []) {
    if (p.apiKey) add(safeKey(p.apiKey), SECRET_CAUSES.apiKey, `the API key of profile "${p.name}"`, p.name);
  }
  return out;
}

/**
 * What to do when a key of the profile in use made the value, but the secret checked came from
 * a flag or CHATID_SECRET (which win over the profile, cli.md §2) and is not that key: another
 * --profile changes nothing, the override is what differs.
 */
export function overriddenSecretFix(profile: string | undefined): string {
  const name = profile === undefined ? 'the profile' : `profile "${profile}"`;
  return `The secret checked came from --secret/--secret-file/--secret-stdin or CHATID_SECRET, which win over ${name}'s stored secret, and differs from it. Drop the flag or unset CHATID_SECRET to check with the stored secret; or, if the new value is the right one, store it (\`chatid secret set\`) and deploy it to the server that signs.`;
}

/** Key bytes of a secret as written; a malformed `hex:`/`base64:` value falls back to its text. */
function safeKey(secret: string): Uint8Array {
  try {
    return parseSecretKey(secret).bytes;
  } catch {
    return enc.encode(secret);
  }
}

function padBase64(text: string): string {
  return text.length % 4 === 0 ? text : text + '='.repeat(4 - (text.length % 4));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
