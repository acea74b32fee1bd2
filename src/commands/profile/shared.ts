// Helpers shared by the profile, secret and whoami commands: validation of what a profile
// holds, which profile a command targets, and the masked views of secrets and keys.
import type { Ctx } from '../../cli/context.js';
import { UsageError } from '../../cli/errors.js';
import { warn } from '../../cli/output.js';
import { decodeBase64Strict } from '../../core/base64.js';
import { baseUrlProblem, maskUserinfo } from '../../core/base-url.js';
import { fingerprint, mask } from '../../core/fingerprint.js';
import { agentIdProblem, isProvider, PROVIDER_INFO, PROVIDERS, type Provider } from '../../core/providers.js';
import { parseSecretKey, secretTextProblem } from '../../core/secret-key.js';
import type { Profile, StoreData } from '../../store/types.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A profile name: letters, digits, `.`, `_`, `-`, starting with a letter or digit, at most 64 characters. */
export function checkProfileName(name: string): string {
  if (NAME.test(name) && name in Object.prototype) {
    throw new UsageError('ERR_PROFILE_NAME_INVALID', `"${name}" is reserved: it is the name of a built-in property of JavaScript objects.`, {
      hint: 'Pick another name, e.g. prod or chatbase-dev.',
    });
  }
  if (!NAME.test(name)) {
    throw new UsageError('ERR_PROFILE_NAME_INVALID', `"${name}" is not a valid profile name.`, {
      hint: 'Use letters, digits, ".", "_" and "-" (at most 64, starting with a letter or digit), e.g. prod or chatbase-dev.',
    });
  }
  return name;
}

export function checkProvider(name: string): Provider {
  if (isProvider(name)) return name;
  throw new UsageError('ERR_PROVIDER_UNKNOWN', `Unknown provider "${name}".`, { hint: `Use one of: ${PROVIDERS.join(', ')}.` });
}

export function checkBaseUrl(url: string): string {
  const problem = baseUrlProblem(url);
  if (problem) {
    throw new UsageError('ERR_BASE_URL_INVALID', `Invalid base URL: ${problem}.`, {
      hint: 'Give the scheme and host, e.g. https://www.chatbase.co or http://127.0.0.1:4010 for the sandbox.',
    });
  }
  return url;
}

export function checkAgentId(provider: Provider, id: string): string {
  const problem = agentIdProblem(provider, id);
  if (problem) throw new UsageError('ERR_AGENT_ID_INVALID', `Invalid agent id: ${problem}.`, { hint: "Copy the id from the vendor's dashboard." });
  return id;
}

/**
 * Why `secret` cannot be `provider`'s identity secret, or undefined when it can: TeamWeb
 * keys are canonical base64 of exactly 32 bytes; other secrets are text, or a well-formed
 * `hex:`/`base64:` value.
 */
export function secretProblem(provider: Provider, secret: string): string | undefined {
  // Stored secrets are used for months: whitespace around one is a copy mistake, not the secret.
  const text = secretTextProblem(secret);
  if (text) return `it ${text.what}${text.kind === 'whitespace' ? ", which no vendor's secret has; paste it without" : text.kind === 'placeholder' ? ', not a secret' : ''}`;
  if (PROVIDER_INFO[provider].secretFormat === 'base64-32') {
    const bytes = decodeBase64Strict(secret);
    if (!bytes) return 'a TeamWeb identity secret is standard base64 (44 characters ending in "="), and this is not';
    if (bytes.length !== 32) return `a TeamWeb identity secret decodes to 32 bytes, this one to ${bytes.length}`;
    return undefined;
  }
  // "HEX:00ff" or "Base64:…" is not the prefix (lowercase, cli.md §2): it would be used as text,
  // and every hash and token made with it would be wrong without a word.
  const prefix = /^(hex|base64):/i.exec(secret)?.[1];
  if (prefix !== undefined && prefix !== prefix.toLowerCase()) {
    return `it starts with "${prefix}:", which chatid would use as text: the binary-key prefixes are lowercase (${prefix.toLowerCase()}:)`;
  }
  try {
    parseSecretKey(secret);
  } catch (err) {
    return (err as Error).message.replace(/\.$/, '');
  }
  return undefined;
}

export function checkSecret(provider: Provider, secret: string): string {
  const problem = secretProblem(provider, secret);
  const textKind = secretTextProblem(secret)?.kind;
  if (problem) {
    throw new UsageError('ERR_SECRET_FORMAT', `Invalid identity secret: ${problem}.`, {
      hint: textKind === 'whitespace'
        ? 'Copy the secret again without the whitespace (a file written by echo or an editor ends in a newline: printf %s, or strip it).'
        : textKind !== undefined
        ? 'Paste the secret itself, as the vendor dashboard shows it.'
        : provider === 'teamweb'
          ? 'Copy the identity secret of the Browser External channel as shown (base64), or generate one with `chatid secret rotate --generate`.'
          : 'Write the secret as text, or as hex:<hex> / base64:<b64> for binary keys.',
    });
  }
  return secret;
}

/** A secret or key as commands show it: masked with a fingerprint; the value only with --reveal. */
export interface SecretView {
  masked: string;
  fingerprint: string;
  value?: string;
}

export function secretView(value: string, reveal: boolean): SecretView {
  return reveal ? { masked: mask(value), fingerprint: fingerprint(value), value } : { masked: mask(value), fingerprint: fingerprint(value) };
}

/** Human form of a SecretView: `sk_…f00 (fingerprint 1a2b3c4d)`, or the value with --reveal. */
export function renderSecretView(v: SecretView): string {
  return v.value !== undefined ? `${v.value} (fingerprint ${v.fingerprint})` : `${v.masked} (fingerprint ${v.fingerprint})`;
}

/** Own-property lookup: `constructor` or `toString` are never profiles. */
export function getProfile(data: StoreData, name: string): Profile | undefined {
  return Object.hasOwn(data.profiles, name) ? data.profiles[name] : undefined;
}

export function profileNotFound(name: string, data: StoreData): UsageError {
  const names = Object.keys(data.profiles);
  return new UsageError('ERR_PROFILE_NOT_FOUND', `No profile named "${name}".`, {
    hint: names.length ? `Known profiles: ${names.join(', ')}. Add one with \`chatid profile add ${name}\`.` : `Add it with \`chatid profile add ${name}\`.`,
  });
}

/**
 * The store names an active profile that it does not hold (a hand-edited file, or one written
 * by another tool): no command uses it, and the way out is to choose another, not to add it.
 */
export function activeProfileMissing(name: string, data: StoreData): UsageError {
  const names = Object.keys(data.profiles);
  return new UsageError('ERR_PROFILE_NOT_FOUND', `The active profile "${name}" named in the store does not exist.`, {
    hint: names.length
      ? `Choose another with \`chatid profile use <name>\` (${names.join(', ')}), pass --profile <name>, or add it with \`chatid profile add ${name}\`.`
      : `Add it with \`chatid profile add ${name}\`.`,
  });
}

/**
 * The global --profile on a command that takes its profile as an argument (`profile add`,
 * `use`, `remove`, `show <name>`) or works on every profile (`profile list`, `secret list`):
 * refused unless it names the argument's profile, rather than ignored.
 * @example refuseProfileFlag(ctx, 'profile list', undefined, 'chatid profile show prod')
 */
export function refuseProfileFlag(ctx: Ctx, command: string, argument: string | undefined, instead: string): void {
  const flag = ctx.ui.profile;
  if (flag === undefined || flag === argument) return;
  const message =
    argument === undefined
      ? `${command} works on every profile: --profile ${JSON.stringify(flag)} does not apply to it.`
      : `${command} takes its profile as the argument ("${argument}"), and --profile names another ("${flag}").`;
  throw new UsageError('ERR_PROFILE_FLAG', message, { hint: `Drop --profile${instead ? `, or run \`${instead}\`` : ''}.` });
}

/**
 * The profile a command works on: the explicit name, else --profile, else CHATID_PROFILE,
 * else the store's active profile.
 */
export function targetProfile(ctx: Ctx, data: StoreData, explicit?: string): { name: string; profile: Profile; source: 'argument' | 'flag' | 'env' | 'active' } {
  const picked: [string, 'argument' | 'flag' | 'env' | 'active'] | undefined = explicit
    ? [explicit, 'argument']
    : ctx.ui.profile
      ? [ctx.ui.profile, 'flag']
      : ctx.env.CHATID_PROFILE
        ? [ctx.env.CHATID_PROFILE, 'env']
        : data.activeProfile
          ? [data.activeProfile, 'active']
          : undefined;
  if (!picked) {
    const names = Object.keys(data.profiles);
    throw new UsageError('ERR_PROFILE_REQUIRED', names.length ? 'No profile is active.' : 'There are no profiles yet.', {
      hint: names.length
        ? `Choose one with \`chatid profile use <name>\` (${names.join(', ')}) or pass --profile <name>.`
        : 'Add one with `chatid profile add <name>`.',
    });
  }
  const profile = getProfile(data, picked[0]);
  if (!profile) {
    if (picked[1] === 'active') throw activeProfileMissing(picked[0], data);
    if (picked[1] === 'env') {
      // A CHATID_PROFILE exported long ago is easy to forget: name it, as the settings do.
      const e = profileNotFound(picked[0], data);
      throw new UsageError(e.code, `No profile named "${picked[0]}" (from CHATID_PROFILE).`, { hint: `Unset CHATID_PROFILE to use the active profile, or pass --profile <name>. ${e.hint ?? ''}`.trimEnd() });
    }
    throw profileNotFound(picked[0], data);
  }
  return { name: picked[0], profile, source: picked[1] };
}

/**
 * CHATID_PROFILE wins over the active profile (../shared/spec/cli.md §2): where the active
 * profile is listed or chosen, say so when it names another profile, or none.
 */
export function warnProfileEnvOverride(ctx: Ctx, data: StoreData): void {
  const name = ctx.env.CHATID_PROFILE;
  if (!name || name === data.activeProfile || ctx.ui.profile) return;
  if (!getProfile(data, name)) {
    warn(ctx, `CHATID_PROFILE=${name} names no profile: commands that need one fail until you unset it or add "${name}".`);
  } else {
    warn(ctx, `CHATID_PROFILE=${name} is set: commands use profile "${name}"${data.activeProfile ? `, not the active profile "${data.activeProfile}",` : ''} until you unset it.`);
  }
}

/** A profile as `profile show`, `profile add` and `profile list --json` print it. */
export interface ProfileView {
  name: string;
  active: boolean;
  provider: Provider;
  agentId: string | null;
  /** The stored base URL, or the provider's default (see `baseUrlSource`). */
  baseUrl: string | null;
  baseUrlSource: 'profile' | 'default' | null;
  apiKey: SecretView | null;
  secret: SecretView | null;
  previousSecret: (SecretView & { expiresAt: string }) | null;
  /** The previous secret after its grace period: never accepted, kept for the doctors. */
  retiredSecret: (SecretView & { expiredAt: string | null }) | null;
}

export function profileView(name: string, p: Profile, active: boolean, reveal: boolean): ProfileView {
  const defaultUrl = PROVIDER_INFO[p.provider].baseUrl;
  return {
    name,
    active,
    provider: p.provider,
    agentId: p.agentId ?? null,
    // A hand-edited store may hold user:password@; shown masked, as whoami does.
    baseUrl: p.baseUrl !== undefined ? maskUserinfo(p.baseUrl) : (defaultUrl ?? null),
    baseUrlSource: p.baseUrl ? 'profile' : defaultUrl ? 'default' : null,
    apiKey: p.apiKey ? secretView(p.apiKey, reveal) : null,
    secret: p.secret ? secretView(p.secret, reveal) : null,
    previousSecret:
      p.previousSecret && p.previousSecretExpiresAt ? { ...secretView(p.previousSecret, reveal), expiresAt: p.previousSecretExpiresAt } : null,
    retiredSecret: p.retiredSecret ? { ...secretView(p.retiredSecret, reveal), expiredAt: p.retiredSecretExpiredAt ?? null } : null,
  };
}

/** Human lines for one profile (no trailing newline). */
export function renderProfileView(v: ProfileView, now: Date, relative: (then: Date, now: Date) => string): string {
  const rows: Array<[string, string]> = [
    ['Profile', `${v.name}${v.active ? ' (active)' : ''}`],
    ['Provider', `${v.provider} (${PROVIDER_INFO[v.provider].label})`],
    ['Agent id', v.agentId ?? '(none)'],
    ['Base URL', v.baseUrl ? `${v.baseUrl}${v.baseUrlSource === 'default' ? ' (default)' : ''}` : '(none)'],
    ['API key', v.apiKey ? renderSecretView(v.apiKey) : '(none)'],
    ['Secret', v.secret ? renderSecretView(v.secret) : '(none)'],
  ];
  if (v.previousSecret) {
    rows.push(['Previous', `${renderSecretView(v.previousSecret)}, accepted until ${v.previousSecret.expiresAt} (${relative(new Date(v.previousSecret.expiresAt), now)})`]);
  }
  if (v.retiredSecret) rows.push(['Retired', `${renderSecretView(v.retiredSecret)}, ${retiredText(v.retiredSecret.expiredAt, now, relative)}`]);
  return table(rows);
}

/** What a retired secret is, for `profile show` and `secret show`. */
export function retiredText(expiredAt: string | null, now: Date, relative: (then: Date, now: Date) => string): string {
  const when = expiredAt ? `its grace period ended ${expiredAt} (${relative(new Date(expiredAt), now)})` : 'its grace period has ended';
  return `${when}; no longer accepted, kept only to diagnose tokens and hashes made with it`;
}

/** Two aligned columns. */
export function table(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
