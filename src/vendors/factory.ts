/**
 * Build the right vendor client from resolved settings (flag → env → profile → default,
 * src/cli/settings.ts), wired to the context: its Dispatcher, clock, sleep, randomness and
 * abort signal. Commands call these instead of constructing clients, so "not offered for
 * <provider>" is decided in one place (exit 2).
 */
import type { Ctx } from '../cli/context.js';
import { UsageError } from '../cli/errors.js';
import { verbose } from '../cli/output.js';
import { describeSource, ENV_VARS, requireApiKey, requireBaseUrl, requireProvider, resolveSettings, type Settings } from '../cli/settings.js';
// profile add's rule, so an id it would refuse is refused here too, wherever it came from.
import { parseDuration } from '../core/duration.js';
import { agentIdProblem, PROVIDER_INFO, type Provider } from '../core/providers.js';
import type { AgentApiClient, CheckResult } from './agent-api.js';
import type { VendorClientOptions } from './chatbase.js';
import type { RateLimitOptions, RetryFlags, RetryOptions } from './http.js';
import type { OpencxClient } from './opencx.js';
import type { NetworkFlags, VendorFlags } from './flags.js';
import type { ClientStats, ContactsApi } from './types.js';

export type { NetworkFlags, VendorFlags } from './flags.js';

/** What a command may tune about the network layer (from --max-retries, --max-wait, --rate-limit). */
export interface ClientTuning {
  retry?: Partial<RetryOptions>;
  /** Replaces the vendor's default client-side limit. */
  rateLimit?: RateLimitOptions;
  /** Extra abort signal besides ctx.signal. */
  signal?: AbortSignal;
  /** The retry flags the command offers, named in error hints (default 'network'). */
  retryFlags?: RetryFlags;
}

/** The features a command needs; each provider offers a subset. */
export type Capability = 'contacts' | 'attributes' | 'chat' | 'conversations' | 'check' | 'server-token';

const OFFERED: Readonly<Record<Provider, readonly Capability[]>> = {
  chatbase: ['contacts', 'attributes', 'chat', 'conversations', 'check'],
  bookbag: ['contacts', 'attributes', 'chat', 'conversations', 'check'],
  replyful: ['check'],
  opencx: ['check', 'server-token'],
  teamweb: [],
  generic: [],
};

const CAPABILITY_TEXT: Readonly<Record<Capability, string>> = {
  contacts: 'Contacts',
  attributes: 'Custom attributes',
  chat: 'Chat',
  conversations: 'Per-user conversations',
  check: 'Checking the API key',
  'server-token': 'Server-side token minting',
};

/** Whether `provider` has an endpoint for `capability`. */
export function offers(provider: Provider, capability: Capability): boolean {
  return OFFERED[provider].includes(capability);
}

/** Throw exit 2 unless the provider offers the capability. */
export function requireCapability(settings: Settings, capability: Capability): Provider {
  const provider = requireProvider(settings);
  if (offers(provider, capability)) return provider;
  const who = Object.values(PROVIDER_INFO)
    .filter((p) => offers(p.name, capability))
    .map((p) => p.name);
  throw new UsageError('ERR_NOT_SUPPORTED', `${CAPABILITY_TEXT[capability]} is not offered for ${provider}: ${PROVIDER_INFO[provider].label} has no API endpoint for it.`, {
    hint: who.length ? `Use a profile whose provider is ${who.join(' or ')} (--profile, or CHATID_PROVIDER).` : 'No supported provider offers this.',
  });
}

/** Options every client gets from the context and settings. */
export async function clientOptions(ctx: Ctx, settings: Settings, tuning: ClientTuning = {}): Promise<VendorClientOptions> {
  const baseUrl = requireBaseUrl(settings);
  const apiKey = requireApiKey(settings);
  const o: VendorClientOptions = {
    dispatcher: await ctx.http(),
    baseUrl,
    apiKey,
    agentId: settings.agentId?.value,
    now: () => ctx.clock.now().getTime(),
    ...(ctx.clock.monotonic ? { monotonic: ctx.clock.monotonic } : {}),
    sleep: (ms, signal) => ctx.sleep(ms, signal),
    random: (n) => ctx.random(n),
    signal: tuning.signal ? AbortSignal.any([ctx.signal, tuning.signal]) : ctx.signal,
    retry: tuning.retry,
    onWait: (e) => verbose(ctx, `waiting ${Math.ceil(e.ms)} ms before the next request (${e.reason})`),
    onResponse: (e) => verbose(ctx, `${e.method} ${e.path} → ${e.status}${e.attempt > 0 ? ` (retry ${e.attempt})` : ''}`),
  };
  if (tuning.rateLimit) o.rateLimit = tuning.rateLimit;
  if (tuning.retryFlags) o.retryFlags = tuning.retryFlags;
  return o;
}

/**
 * The agent id checked by the rule `profile add` enforces (Bookbag ids are numeric, vendors.md
 * §3; no id is empty, padded, "." or ".."), for an id from --agent-id, CHATID_AGENT_ID or a
 * profile: a bad one is exit 2 here rather than a vendor 404 or a retried request later.
 * Throws ERR_AGENT_ID_INVALID naming where the id came from; nothing when no id is set.
 */
export function checkAgentIdSetting(settings: Settings, provider: Provider): void {
  const a = settings.agentId;
  if (!a) return;
  const problem = agentIdProblem(provider, a.value);
  if (problem === undefined) return;
  const name = settings.profileName?.value;
  const from = a.source === 'profile' && name ? `profile "${name}"` : describeSource(a.source, 'agentId');
  const p = settings.provider;
  // CHATID_PROVIDER=bookbag over a Chatbase profile: the id is right, the provider is not.
  const overridden =
    p && p.source !== 'profile' && settings.profile && settings.profile.provider !== provider
      ? ` The provider ${provider} comes from ${describeSource(p.source, 'provider')} and overrides profile "${name ?? '?'}"'s ${settings.profile.provider}: ${p.source === 'env' ? `unset ${ENV_VARS.provider}` : 'drop --provider'} if the id belongs to that profile.`
      : '';
  throw new UsageError('ERR_AGENT_ID_INVALID', `Invalid agent id from ${from}: ${problem}.`, {
    hint: `Copy the id from the ${PROVIDER_INFO[provider].label} dashboard and pass it with --agent-id, CHATID_AGENT_ID or the profile.${overridden}`,
  });
}

/** The Chatbase or Bookbag client for contacts, attributes, chat or conversations. */
export async function openAgentApi(ctx: Ctx, settings: Settings, capability: Capability, tuning: ClientTuning = {}): Promise<AgentApiClient> {
  const provider = requireCapability(settings, capability);
  checkAgentIdSetting(settings, provider);
  const o = await clientOptions(ctx, settings, tuning);
  if (provider === 'bookbag') {
    const { bookbagClient } = await import('./bookbag.js');
    return bookbagClient(o);
  }
  const { chatbaseClient } = await import('./chatbase.js');
  return chatbaseClient(o);
}

/**
 * The client contacts sync uses (../shared/spec/cli.md §8). Exit 2 for providers without
 * a contacts endpoint; exit 4 when no API key is set; exit 2 without an agent id.
 */
export async function createContactsApi(ctx: Ctx, settings: Settings, tuning: ClientTuning = {}): Promise<ContactsApi & AgentApiClient> {
  const client = await openAgentApi(ctx, settings, 'contacts', { retryFlags: 'sync', ...tuning });
  if (!client.agentId) {
    throw new UsageError('ERR_AGENT_ID_REQUIRED', 'No agent id is set.', { hint: 'Pass --agent-id, set CHATID_AGENT_ID, or store it in the profile.' });
  }
  return client;
}

/** The OpenCX client (server-side contact tokens). */
export async function openOpencx(ctx: Ctx, settings: Settings, tuning: ClientTuning = {}): Promise<OpencxClient> {
  requireCapability(settings, 'server-token');
  const { opencxClient } = await import('./opencx.js');
  // token sign takes no retry flags.
  return opencxClient(await clientOptions(ctx, settings, { retryFlags: 'none', ...tuning }));
}

/** Anything that can check the key: `whoami --check`. */
export interface KeyChecker {
  readonly stats: ClientStats;
  check(o?: { signal?: AbortSignal }): Promise<CheckResult>;
}

export async function openChecker(ctx: Ctx, settings: Settings, tuning: ClientTuning = {}): Promise<KeyChecker> {
  const provider = requireCapability(settings, 'check');
  // A check answers a question, not a job to finish: give up after 3 attempts, whatever the vendor.
  const checkTuning: ClientTuning = { retryFlags: 'none', ...tuning, retry: { maxRetries: 2, ...tuning.retry } };
  const o = await clientOptions(ctx, settings, checkTuning);
  switch (provider) {
    case 'replyful': {
      const { replyfulClient } = await import('./replyful.js');
      return replyfulClient(o);
    }
    case 'opencx': {
      const { opencxClient } = await import('./opencx.js');
      return opencxClient(o);
    }
    default:
      return openAgentApi(ctx, settings, 'check', checkTuning);
  }
}

/** Parse the network flags; bad values are usage errors (exit 2). */
export function parseNetworkFlags(f: NetworkFlags): ClientTuning {
  const t: ClientTuning = {};
  const retry: Partial<RetryOptions> = {};
  if (f.maxRetries !== undefined) {
    if (!/^\d+$/.test(f.maxRetries) || Number(f.maxRetries) > 100) {
      throw new UsageError('ERR_USAGE_BAD_VALUE', `--max-retries must be a whole number from 0 to 100, not "${f.maxRetries}".`, { hint: 'For example --max-retries 3.' });
    }
    retry.maxRetries = Number(f.maxRetries);
  }
  if (f.maxWait !== undefined) {
    const ms = parseDuration(f.maxWait);
    if (ms === undefined) throw new UsageError('ERR_USAGE_BAD_VALUE', `--max-wait must be a duration such as 60s or 5m, not "${f.maxWait}".`, { hint: 'Units are required: 30s, 2m, 1h.' });
    retry.maxWaitMs = ms;
  }
  if (Object.keys(retry).length) t.retry = retry;
  if (f.rateLimit !== undefined) {
    const m = /^(\d+)\/(.+)$/.exec(f.rateLimit.trim());
    // A bare unit is one of it (5/s, 90/min), as `chatid sandbox --rate-limit` reads it.
    const windowMs = m ? parseDuration(/^[a-z]+$/i.test(m[2]!) ? `1${m[2]!}` : m[2]!) : undefined;
    if (!m || windowMs === undefined || windowMs <= 0 || Number(m[1]) < 1) {
      throw new UsageError('ERR_USAGE_BAD_VALUE', `--rate-limit must look like 90/10s (requests/window), not "${f.rateLimit}".`, { hint: 'For example --rate-limit 50/10s.' });
    }
    t.rateLimit = { limit: Number(m[1]), windowMs };
  }
  return t;
}

/** Resolve the settings a vendor command needs, by flag → env → profile → default. */
export async function resolveVendorSettings(ctx: Ctx, f: VendorFlags): Promise<Settings> {
  if (f.baseUrl !== undefined && !/^https?:\/\/[^\s/]+/i.test(f.baseUrl)) {
    throw new UsageError('ERR_USAGE_BAD_VALUE', `--base-url must be an http(s) URL, not "${f.baseUrl}".`, { hint: 'For example --base-url http://127.0.0.1:4010' });
  }
  const flags: Record<string, string> = {};
  if (f.provider !== undefined) flags.provider = f.provider;
  if (f.agentId !== undefined) flags.agentId = f.agentId;
  if (f.baseUrl !== undefined) flags.baseUrl = f.baseUrl;
  return resolveSettings(ctx, flags, { needs: ['provider', 'agentId', 'baseUrl', 'apiKey'] });
}
