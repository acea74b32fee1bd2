import { dirname } from 'node:path';
import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { CliError } from '../../cli/errors.js';
import { emit, warn } from '../../cli/output.js';
import { describeSource, ENV_VARS, requireApiKey, requireBaseUrl, resolveSettings, type SettingKey, type Settings, type Source } from '../../cli/settings.js';
import { maskUserinfo } from '../../core/base-url.js';
import { fingerprint, mask } from '../../core/fingerprint.js';
import { PROVIDER_INFO, PROVIDERS, type Provider } from '../../core/providers.js';
import { relativeTime } from '../../core/relative-time.js';
import type { KeyCheckOutcome } from '../../vendors/check.js';
import { activeProfileMissing, checkBaseUrl, table } from '../profile/shared.js';

export interface WhoamiOptions {
  /** Setting flags, to preview what a command given them would use. */
  provider?: string;
  agentId?: string;
  baseUrl?: string;
  /** Ask the vendor whether the API key works (exit 4 if not). */
  check?: boolean;
}

export interface SourcedValue<T = string> {
  value: T;
  source: Source;
}

export interface WhoamiResult {
  /** The profile in use and how it was chosen: `flag` (--profile), `env` (CHATID_PROFILE) or `profile` (the store's active profile). */
  profile: { name: string; source: Source } | null;
  provider: SourcedValue<Provider> | null;
  agentId: SourcedValue | null;
  baseUrl: SourcedValue | null;
  apiKey: { masked: string; fingerprint: string; source: Source } | null;
  secret: { fingerprint: string; source: Source } | null;
  /** The profile's previous secret while its grace period lasts. */
  previousSecret: { fingerprint: string; expiresAt: string } | null;
  store: {
    path: string;
    exists: boolean;
    /** Octal permission bits, e.g. "0600"; null when there is no file yet. */
    mode: string | null;
    dir: string;
    dirMode: string | null;
  };
  warnings: WhoamiWarning[];
  /** With --check: the vendor's verdict on the API key (absent without --check). */
  check?: Omit<KeyCheckOutcome, 'cause'>;
  /**
   * With a failed --check: the error in the contract's shape (cli.md §1), beside the facts,
   * so `jq .error.code` works as for any failing command; the exit code is the same.
   */
  error?: { code: string; message: string; hint?: string };
}

/**
 * Something wrong with the settings in use. A setting another command would refuse
 * (`setting` and `source` name it) has the code of that command's error without `ERR_`:
 * `BASE_URL_INVALID` is what `contacts list` fails with as `ERR_BASE_URL_INVALID`.
 */
export interface WhoamiWarning {
  code: string;
  message: string;
  hint?: string;
  setting?: SettingKey;
  source?: Source;
}

export function registerWhoami(program: Command, ctx: Ctx, runF = runWhoami): void {
  program
    .command('whoami')
    .description('Show the profile, provider, agent, base URL and credentials in use, and where each setting came from (offline)')
    .option('--provider <name>', `provider to assume (${PROVIDERS.join(', ')})`)
    .option('--agent-id <id>', 'agent id to assume')
    .option('--base-url <url>', 'API base URL to assume')
    .option('--check', 'also ask the vendor whether the API key works (exit 4 if rejected, 1 if unreachable)')
    .addHelpText(
      'after',
      `
Examples:
  $ chatid whoami
  $ chatid whoami --profile staging --json
  $ chatid whoami --check                                   # is the API key still accepted?
  $ CHATID_PROVIDER=chatbase CHATID_SECRET=… chatid whoami   # CI: the environment alone

Precedence: flag, then environment variable, then the active profile, then the vendor's default.`,
    )
    .action(async (flags: WhoamiOptions) => {
      const r = await runF(flags, ctx);
      emit(ctx, r, renderWhoami);
      if (r.check && !r.check.ok) await failCheck(ctx, r);
    });
}

function octal(mode: number | undefined): string | null {
  return mode === undefined ? null : `0${mode.toString(8).padStart(3, '0')}`;
}

export async function runWhoami(o: WhoamiOptions, ctx: Ctx): Promise<WhoamiResult> {
  if (o.baseUrl !== undefined) checkBaseUrl(o.baseUrl);
  // A diagnostic: what other commands fail on (an unreadable store, CHATID_PROFILE naming no
  // profile, an unknown CHATID_PROVIDER) is reported with everything else, not the only line.
  // Its own flags (--profile, --provider) are still refused.
  const warnings: WhoamiResult['warnings'] = [];
  const onProblem = (err: CliError, setting: SettingKey | 'profile' | 'store', source: Source): void => {
    const w: WhoamiWarning = { code: err.code.replace(/^ERR_/, ''), message: err.message };
    if (setting === 'store') w.message = `${err.message.replace(/\.$/, '')}: its profiles are not used; the settings below come from flags and the environment only.`;
    if (err.hint !== undefined) w.hint = err.hint;
    if (setting !== 'store' && setting !== 'profile') Object.assign(w, { setting, source });
    warnings.push(w);
  };
  const s = await resolveSettings(ctx, { provider: o.provider, agentId: o.agentId, baseUrl: o.baseUrl }, { openStore: true, onProblem });
  const store = await ctx.store();
  const [fileMode, dirMode] = await Promise.all([store.fileMode(), store.dirMode?.()]);
  if (fileMode !== undefined && (fileMode & 0o077) !== 0) {
    warnings.push({ code: 'STORE_MODE', message: `the store file is mode ${octal(fileMode)}, readable by others; the next write sets 0600 (or run chmod 600 ${store.path}).` });
  }
  if (dirMode !== undefined && (dirMode & 0o077) !== 0) {
    warnings.push({ code: 'STORE_DIR_MODE', message: `the store directory is mode ${octal(dirMode)}; chmod 700 ${dirname(store.path)} keeps other users out.` });
  }
  const active = s.store?.data.activeProfile;
  if (!s.profileName && active !== undefined && s.store && !Object.hasOwn(s.store.data.profiles, active)) {
    // Commands then run without a profile and fail for want of a setting, not naming the cause.
    const e = activeProfileMissing(active, s.store.data);
    warnings.push({ code: 'ACTIVE_PROFILE_MISSING', message: `the active profile "${active}" named in the store does not exist: no profile is in use.`, ...(e.hint ? { hint: e.hint } : {}) });
  }
  if (s.secret?.source === 'env' && s.profile?.secret) {
    warnings.push({
      code: 'SECRET_OVERRIDDEN',
      message: `${ENV_VARS.secret} overrides the secret stored in profile "${s.profileName?.value}".`,
      hint: `Unset ${ENV_VARS.secret} to use the stored one (or \`chatid secret set\` to store this one).`,
      setting: 'secret',
      source: 'env',
    });
  }
  // A key exported for another account or agent and forgotten: the commonest 401 with a good stored key.
  if (s.apiKey?.source === 'env' && s.profile?.apiKey && s.profile.apiKey !== s.apiKey.value) {
    warnings.push({
      code: 'API_KEY_OVERRIDDEN',
      message: `${ENV_VARS.apiKey} overrides the API key stored in profile "${s.profileName?.value}" (fingerprint ${fingerprint(s.profile.apiKey)}).`,
      hint: `Unset ${ENV_VARS.apiKey} to use the stored one.`,
      setting: 'apiKey',
      source: 'env',
    });
  }
  warnings.push(...(await settingProblems(s)));
  for (const w of warnings) {
    warn(ctx, w.message);
    if (w.hint && !ctx.ui.quiet) ctx.io.stderr.write(`  ${ctx.errColor.cyan('hint:')} ${w.hint}\n`);
  }
  let check: WhoamiResult['check'];
  if (o.check) {
    const { checkCredentials } = await import('../../vendors/check.js');
    const { cause: _cause, ...outcome } = await checkCredentials(ctx, s);
    check = outcome;
  }
  const pick = <T>(v: { value: T; source: Source } | undefined): SourcedValue<T> | null => (v ? { value: v.value, source: v.source } : null);
  return {
    ...(check && !check.ok && check.error ? { error: check.error } : {}),
    profile: s.profileName ? { name: s.profileName.value, source: s.profileName.source } : null,
    provider: pick(s.provider),
    agentId: pick(s.agentId),
    // A URL with user:password@ is refused where it would be used; here it is only shown, masked.
    baseUrl: s.baseUrl ? { value: maskUserinfo(s.baseUrl.value), source: s.baseUrl.source } : null,
    apiKey: s.apiKey ? { masked: mask(s.apiKey.value), fingerprint: fingerprint(s.apiKey.value), source: s.apiKey.source } : null,
    secret: s.secret ? { fingerprint: fingerprint(s.secret.value), source: s.secret.source } : null,
    previousSecret: s.previousSecret ? { fingerprint: fingerprint(s.previousSecret.value), expiresAt: s.previousSecret.expiresAt } : null,
    store: { path: store.path, exists: fileMode !== undefined, mode: octal(fileMode), dir: dirname(store.path), dirMode: octal(dirMode) },
    warnings,
    ...(check ? { check } : {}),
  };
}

/**
 * The settings other commands would refuse, found by the same functions they call
 * (requireBaseUrl, requireApiKey, parseSecretKey / parseTeamWebKey, the factory's agent-id
 * rule), plus a provider from a flag or CHATID_PROVIDER that overrides the profile's: its
 * agent id, key and secret were stored for another vendor.
 */
async function settingProblems(s: Settings): Promise<WhoamiWarning[]> {
  const out: WhoamiWarning[] = [];
  const name = s.profileName?.value;
  const where = (source: Source, key: SettingKey): string => (source === 'profile' && name ? `profile "${name}"` : describeSource(source, key));
  /** Run one of the other commands' checks; its refusal becomes a warning naming the setting and where it came from. */
  const attempt = (setting: SettingKey, source: Source, f: () => unknown, suffix = ''): void => {
    try {
      f();
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      const w: WhoamiWarning = { code: err.code.replace(/^ERR_/, ''), message: suffix ? `${err.message.replace(/\.$/, '')} ${suffix}.` : err.message, setting, source };
      if (err.hint !== undefined) w.hint = err.hint;
      out.push(w);
    }
  };
  const provider = s.provider;
  // Harmless when the flags and environment give everything else; said when the profile's values still apply.
  const stale = (['agentId', 'baseUrl', 'apiKey', 'secret'] as const).filter((k) => s[k]?.source === 'profile');
  if (provider && provider.source !== 'profile' && s.profile && s.profile.provider !== provider.value && stale.length) {
    const names = { agentId: 'agent id', baseUrl: 'base URL', apiKey: 'API key', secret: 'secret' } as const;
    out.push({
      code: 'PROVIDER_OVERRIDDEN',
      message: `${describeSource(provider.source, 'provider')} sets the provider to ${provider.value}, over profile "${name}"'s ${s.profile.provider}; the profile's ${listed(stale.map((k) => names[k]))}, still in use, ${stale.length > 1 ? 'were' : 'was'} stored for ${s.profile.provider}.`,
      hint: `Use a profile for ${provider.value} (--profile or CHATID_PROFILE), or ${provider.source === 'env' ? `unset ${ENV_VARS.provider}` : 'drop --provider'}.`,
      setting: 'provider',
      source: provider.source,
    });
  }
  if (s.baseUrl && s.baseUrl.source !== 'default') attempt('baseUrl', s.baseUrl.source, () => requireBaseUrl(s));
  if (s.apiKey) attempt('apiKey', s.apiKey.source, () => requireApiKey(s));
  if (s.agentId && provider) {
    const { checkAgentIdSetting } = await import('../../vendors/factory.js');
    attempt('agentId', s.agentId.source, () => checkAgentIdSetting(s, provider.value));
  }
  if (s.secret) {
    const secret = s.secret.value;
    const source = s.secret.source;
    // What hash, token sign/verify (parseSecretKey) and encrypt/decrypt (parseTeamWebKey) refuse.
    if (provider?.value === 'teamweb') {
      const { parseTeamWebKey } = await import('../../core/teamweb-key.js');
      attempt('secret', source, () => parseTeamWebKey(secret), `(from ${where(source, 'secret')})`);
    } else {
      const { parseSecretKey } = await import('../../core/secret-key.js');
      attempt('secret', source, () => parseSecretKey(secret), `(from ${where(source, 'secret')})`);
    }
    // What hash and token sign warn of (or refuse, when it is only whitespace).
    const { secretTextProblem } = await import('../../core/secret-key.js');
    const text = secretTextProblem(secret);
    if (text) {
      const code = { placeholder: 'SECRET_PLACEHOLDER', 'only-whitespace': 'SECRET_EMPTY', whitespace: 'SECRET_WHITESPACE' }[text.kind];
      out.push({
        code,
        message: `the identity secret (from ${where(source, 'secret')}) ${text.what}: hashes and tokens made with it differ from those made with the real secret.`,
        hint: 'Set the secret as the vendor dashboard shows it, e.g. with `chatid secret set`.',
        setting: 'secret',
        source,
      });
    }
  }
  return out;
}

/** `a`, `a and b`, `a, b and c`. */
function listed(items: string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** A failed --check after the result was printed: the error on stderr (human) and its exit code (4 rejected, 1 network). */
async function failCheck(ctx: Ctx, r: WhoamiResult): Promise<never> {
  const { ExitWithCode, ExitCode } = await import('../../cli/errors.js');
  const c = r.check!;
  if (!ctx.ui.json && c.error) {
    ctx.io.stderr.write(`${ctx.errColor.red('error:')} ${c.error.message} ${ctx.errColor.dim(`(${c.error.code})`)}\n`);
    if (c.error.hint) ctx.io.stderr.write(`${ctx.errColor.cyan('hint:')} ${c.error.hint}\n`);
  }
  throw new ExitWithCode(c.exitCode === ExitCode.ok ? ExitCode.failure : c.exitCode);
}

/** `(from --base-url)`, `(from CHATID_API_KEY)`, `(from profile "dev")`, `(default)`. */
function from(source: Source, key: SettingKey, profile: string | undefined): string {
  switch (source) {
    case 'flag':
      return `from --${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    case 'env':
      return `from ${ENV_VARS[key]}`;
    case 'profile':
      return `from profile "${profile ?? '?'}"`;
    case 'default':
      return 'default';
  }
}

export function renderWhoami(r: WhoamiResult, ctx: Ctx): string {
  const pname = r.profile?.name;
  const profileLine = !r.profile
    ? '(none: settings come from flags and the environment only)'
    : `${r.profile.name} (${r.profile.source === 'flag' ? 'from --profile' : r.profile.source === 'env' ? 'from CHATID_PROFILE' : 'the active profile'})`;
  const line = (v: SourcedValue<string> | null, key: SettingKey, none: string): string => (v ? `${v.value} (${from(v.source, key, pname)})` : none);
  const rows: Array<[string, string]> = [
    ['Profile', profileLine],
    ['Provider', r.provider ? `${r.provider.value} — ${PROVIDER_INFO[r.provider.value].label} (${from(r.provider.source, 'provider', pname)})` : '(not set: pass --provider or set CHATID_PROVIDER)'],
    ['Agent id', line(r.agentId, 'agentId', '(not set)')],
    ['Base URL', line(r.baseUrl, 'baseUrl', '(not set)')],
    ['API key', r.apiKey ? `${r.apiKey.masked}, fingerprint ${r.apiKey.fingerprint} (${from(r.apiKey.source, 'apiKey', pname)})` : '(not set)'],
    ['Secret', r.secret ? `fingerprint ${r.secret.fingerprint} (${from(r.secret.source, 'secret', pname)})` : '(not set)'],
  ];
  if (r.previousSecret) {
    rows.push(['Previous', `fingerprint ${r.previousSecret.fingerprint}, accepted until ${r.previousSecret.expiresAt} (${relativeTime(new Date(r.previousSecret.expiresAt), ctx.clock.now())})`]);
  }
  if (r.check) rows.push(['Key check', r.check.ok ? `accepted by ${r.check.provider} (${r.check.endpoint}: ${r.check.detail})` : `FAILED: ${r.check.error?.message ?? 'unknown'}`]);
  rows.push(['Store', r.store.exists ? `${r.store.path} (mode ${r.store.mode})` : `${r.store.path} (no file yet)`]);
  rows.push(['Store dir', r.store.dirMode ? `${r.store.dir} (mode ${r.store.dirMode})` : `${r.store.dir} (not created yet)`]);
  return table(rows);
}
