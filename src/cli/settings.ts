import { apiKeyProblem } from '../core/api-key.js';
import { baseUrlProblem } from '../core/base-url.js';
import { isProvider, PROVIDER_INFO, PROVIDERS, type Provider } from '../core/providers.js';
import type { Profile, StoreData } from '../store/types.js';
import type { Ctx } from './context.js';
import { AuthError, type CliError, StoreError, UsageError } from './errors.js';
import { checkSecretText } from './secret-input.js';

/** Where a setting's value came from, highest precedence first (../shared/spec/cli.md §2). */
export type Source = 'flag' | 'env' | 'profile' | 'default';

export interface Sourced<T> {
  value: T;
  source: Source;
}

export type SettingKey = 'provider' | 'agentId' | 'baseUrl' | 'apiKey' | 'secret';

/** Values given on the command line for this invocation (already read from stdin/file). */
export type SettingFlags = Partial<Record<SettingKey, string>>;

export const ENV_VARS: Readonly<Record<SettingKey, string>> = {
  provider: 'CHATID_PROVIDER',
  agentId: 'CHATID_AGENT_ID',
  baseUrl: 'CHATID_BASE_URL',
  apiKey: 'CHATID_API_KEY',
  secret: 'CHATID_SECRET',
};

/** The error code of an empty setting flag: that of the setting's other bad values. */
const EMPTY_FLAG_CODE = { provider: 'ERR_PROVIDER_UNKNOWN', agentId: 'ERR_AGENT_ID_INVALID', baseUrl: 'ERR_BASE_URL_INVALID' } as const;

export interface Settings {
  /** The profile in use, and how it was chosen (`profile` source = the store's active profile). */
  profileName: Sourced<string> | undefined;
  profile: Profile | undefined;
  provider: Sourced<Provider> | undefined;
  agentId: Sourced<string> | undefined;
  baseUrl: Sourced<string> | undefined;
  apiKey: Sourced<string> | undefined;
  secret: Sourced<string> | undefined;
  /** The profile's previous secret while its grace period lasts (only with the profile's own secret). */
  previousSecret: { value: string; expiresAt: string } | undefined;
  /**
   * The profile's previous secret after its grace period ended (only with the profile's own
   * secret): never accepted as of now, kept for the doctors. `expiredAt` is when the grace
   * ended, when the store says.
   */
  retiredSecret?: { value: string; expiredAt?: string } | undefined;
  /** The store snapshot, when it was opened (doctor searches other profiles' secrets). */
  store: { path: string; data: StoreData } | undefined;
}

export interface ResolveOptions {
  /** Settings the command needs; the store is opened only if one of them is not given by flag or env. */
  needs?: readonly SettingKey[];
  /** Open the store even when flags and env cover everything (whoami, the doctor). */
  openStore?: boolean;
  /**
   * For a diagnostic (whoami): told, instead of failing, of what other commands fail on but
   * this invocation did not give: a store that cannot be read, CHATID_PROFILE naming no
   * profile, a provider from CHATID_PROVIDER or the profile that is unknown. Resolution goes
   * on without it (no store, no profile, no provider). Flags are still refused.
   */
  onProblem?: (err: CliError, setting: SettingKey | 'profile' | 'store', source: Source) => void;
}

/**
 * Resolve every setting by precedence flag → env → profile → default. The store is read
 * lazily: a CI job that passes everything through the environment never touches it.
 */
export async function resolveSettings(ctx: Ctx, flags: SettingFlags, o: ResolveOptions = {}): Promise<Settings> {
  const needs = o.needs ?? (['provider', 'agentId', 'baseUrl', 'apiKey', 'secret'] as const);
  // An empty flag (`--agent-id "$ID"` with ID unset) is a mistake, not "use the profile's":
  // refused rather than passed over for the environment, the profile or the default.
  for (const k of ['provider', 'agentId', 'baseUrl'] as const) {
    if (flags[k] !== undefined && flags[k].trim() === '') {
      throw new UsageError(EMPTY_FLAG_CODE[k], `${describeSource('flag', k)} was given an empty value.`, {
        hint: `Give a value, or leave ${describeSource('flag', k)} out to use ${ENV_VARS[k]} or the profile's.`,
      });
    }
  }
  const fromArgs = (k: SettingKey): Sourced<string> | undefined => {
    const f = flags[k];
    if (f !== undefined && f !== '') return { value: f, source: 'flag' };
    const e = ctx.env[ENV_VARS[k]];
    if (e !== undefined && e !== '') return { value: e, source: 'env' };
    return undefined;
  };
  const explicitName: Sourced<string> | undefined = ctx.ui.profile
    ? { value: ctx.ui.profile, source: 'flag' }
    : ctx.env.CHATID_PROFILE
      ? { value: ctx.env.CHATID_PROFILE, source: 'env' }
      : undefined;

  let store: Settings['store'];
  let profileName = explicitName;
  let profile: Profile | undefined;
  const open = o.openStore || explicitName !== undefined || needs.some((k) => fromArgs(k) === undefined);
  if (open) {
    const s = await ctx.store();
    let data: StoreData | undefined;
    try {
      data = await s.read();
    } catch (err) {
      if (!(err instanceof StoreError) || !o.onProblem) throw err;
      o.onProblem(err, 'store', 'profile');
      // No profile can be read: the settings come from the flags and the environment only.
      profileName = undefined;
    }
    if (data) store = { path: s.path, data };
    if (data && explicitName) {
      // Own keys only: `--profile toString` must not find Object.prototype.toString.
      profile = Object.hasOwn(data.profiles, explicitName.value) ? data.profiles[explicitName.value] : undefined;
      if (!profile) {
        const names = Object.keys(data.profiles);
        const err = new UsageError('ERR_PROFILE_NOT_FOUND', `No profile named "${explicitName.value}" (from ${explicitName.source === 'flag' ? '--profile' : 'CHATID_PROFILE'}).`, {
          hint: names.length ? `Known profiles: ${names.join(', ')}. Add one with \`chatid profile add ${explicitName.value}\`.` : `Add it with \`chatid profile add ${explicitName.value}\`.`,
        });
        if (explicitName.source === 'flag' || !o.onProblem) throw err;
        o.onProblem(err, 'profile', explicitName.source);
        profileName = undefined;
      }
    } else if (data?.activeProfile && Object.hasOwn(data.profiles, data.activeProfile)) {
      profileName = { value: data.activeProfile, source: 'profile' };
      profile = data.profiles[data.activeProfile];
    }
  }

  const pick = (k: Exclude<SettingKey, 'provider'>): Sourced<string> | undefined => {
    const a = fromArgs(k);
    if (a) return a;
    const p = profile?.[k];
    return p !== undefined && p !== '' ? { value: p, source: 'profile' } : undefined;
  };

  let provider: Sourced<Provider> | undefined;
  const providerRaw = fromArgs('provider') ?? (profile ? { value: profile.provider, source: 'profile' as const } : undefined);
  if (providerRaw) {
    if (!isProvider(providerRaw.value)) {
      const where = providerRaw.source === 'profile' && profileName ? `profile "${profileName.value}"` : describeSource(providerRaw.source, 'provider');
      const err = new UsageError('ERR_PROVIDER_UNKNOWN', `Unknown provider "${providerRaw.value}" (from ${where}).`, {
        hint: `Use one of: ${PROVIDERS.join(', ')}.`,
      });
      if (providerRaw.source === 'flag' || !o.onProblem) throw err;
      o.onProblem(err, 'provider', providerRaw.source);
    } else {
      provider = { value: providerRaw.value, source: providerRaw.source };
    }
  }
  let baseUrl = pick('baseUrl');
  const defaultUrl = provider ? PROVIDER_INFO[provider.value].baseUrl : undefined;
  if (!baseUrl && defaultUrl) baseUrl = { value: defaultUrl, source: 'default' };

  const secret = pick('secret');
  // Only for the commands that name the secret in `needs`: whoami resolves every setting to
  // show it, and must not stop at one. Flags, stdin, files and prompts are checked where they
  // are read (secret-input.ts).
  if (secret && secret.source !== 'flag' && o.needs?.includes('secret')) checkSecretText(ctx, secret.value, `identity secret from ${describeSource(secret.source, 'secret')}`);
  const previousSecret =
    secret?.source === 'profile' && profile?.previousSecret && profile.previousSecretExpiresAt
      ? { value: profile.previousSecret, expiresAt: profile.previousSecretExpiresAt }
      : undefined;
  const retiredSecret: Settings['retiredSecret'] =
    secret?.source === 'profile' && profile?.retiredSecret
      ? { value: profile.retiredSecret, ...(profile.retiredSecretExpiredAt ? { expiredAt: profile.retiredSecretExpiredAt } : {}) }
      : undefined;

  return { profileName, profile, provider, agentId: pick('agentId'), baseUrl, apiKey: pick('apiKey'), secret, previousSecret, retiredSecret, store };
}

/** Human wording of a source, naming the flag or variable. */
export function describeSource(source: Source, key: SettingKey): string {
  switch (source) {
    case 'flag':
      return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    case 'env':
      return ENV_VARS[key];
    case 'profile':
      return 'the profile';
    case 'default':
      return 'the default';
  }
}

export function requireProvider(s: Settings): Provider {
  if (s.provider) return s.provider.value;
  throw new UsageError('ERR_PROVIDER_REQUIRED', 'No provider is set.', {
    hint: `Pass --provider, set CHATID_PROVIDER (${PROVIDERS.join(', ')}), or add a profile with \`chatid profile add <name>\`.`,
  });
}

export function requireSecret(s: Settings): string {
  if (s.secret) return s.secret.value;
  // `chatid secret set` needs a profile: without one it would fail with "no profiles yet".
  throw new AuthError('ERR_SECRET_MISSING', `No identity secret${s.profileName ? ` in profile "${s.profileName.value}"` : ''}.`, {
    hint: s.profileName
      ? `Store one with \`chatid secret set --profile ${s.profileName.value}\`, or pass --secret-stdin / --secret-file, or set CHATID_SECRET.`
      : 'Pass --secret-stdin or --secret-file, set CHATID_SECRET, or keep it in a profile: `chatid profile add <name> --provider <vendor> --secret-stdin`.',
  });
}

/**
 * The API key, refused when it is missing or is no vendor's key shape (core/api-key.ts: a space,
 * a line break, a placeholder `…` from the docs), which would otherwise fail later as a network
 * error or a 401. The key itself is never printed, only the character and where it is.
 */
export function requireApiKey(s: Settings): string {
  const name = s.profileName?.value;
  const replace = name ? `\`chatid profile add ${name} --force --api-key-stdin\` and its other settings (--force replaces the whole profile)` : undefined;
  if (s.apiKey) {
    const key = s.apiKey.value;
    const problem = apiKeyProblem(key);
    if (problem === undefined) return key;
    const from = s.apiKey.source === 'profile' && name ? `profile "${name}"` : describeSource(s.apiKey.source, 'apiKey');
    throw new AuthError('ERR_API_KEY_INVALID', `The API key from ${from} ${problem}.`, {
      hint: `Copy the key again from the vendor dashboard, without spaces or line breaks around it (a placeholder such as \`oc_test_…\` in the docs stands for your own key)${s.apiKey.source === 'profile' && replace ? `, and store it with ${replace}` : ''}.`,
    });
  }
  throw new AuthError('ERR_API_KEY_MISSING', `No API key${name ? ` in profile "${name}"` : ''}.`, {
    hint: replace ? `Set CHATID_API_KEY, or store the key in the profile with ${replace}.` : 'Set CHATID_API_KEY, or store one with `chatid profile add <name> --api-key-stdin`.',
  });
}

export function requireAgentId(s: Settings): string {
  if (s.agentId) return s.agentId.value;
  throw new UsageError('ERR_AGENT_ID_REQUIRED', 'No agent id is set.', {
    hint: 'Pass --agent-id, set CHATID_AGENT_ID, or store it in the profile.',
  });
}

export function requireBaseUrl(s: Settings): string {
  if (s.baseUrl) {
    // The same rule as profile add's, for a URL from the flag, CHATID_BASE_URL or a hand-edited store.
    const problem = baseUrlProblem(s.baseUrl.value);
    if (problem === undefined) return s.baseUrl.value;
    throw new UsageError('ERR_BASE_URL_INVALID', `Invalid base URL from ${describeSource(s.baseUrl.source, 'baseUrl')}: ${problem}.`, {
      hint: 'Give the scheme and host, e.g. https://www.chatbase.co or http://127.0.0.1:4010 for the sandbox.',
    });
  }
  throw new UsageError('ERR_BASE_URL_REQUIRED', `No API base URL for provider ${s.provider?.value ?? '(none)'}.`, {
    hint: 'Pass --base-url, set CHATID_BASE_URL, or store it in the profile.',
  });
}
