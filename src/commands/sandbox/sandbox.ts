import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { NetworkError, StoreError, UsageError } from '../../cli/errors.js';
import { emit, info, verbose } from '../../cli/output.js';
import { parseDuration } from '../../core/duration.js';
import { apiKeyProblem } from '../../core/api-key.js';
import { agentIdProblem } from '../../core/providers.js';
import { secretTextProblem } from '../../core/secret-key.js';
import type { startSandbox as StartSandboxFn } from '../../sandbox/index.js';
import type { FaultKind, SandboxOptions, SandboxProvider } from '../../sandbox/options.js';
import type { AttributeType, CustomAttribute } from '../../vendors/types.js';

// Kept in step with src/sandbox/options.ts; repeated here so registering the command does
// not load the sandbox.
const FAULTS: readonly FaultKind[] = ['429', '500', '503', 'reset-before', 'reset-after'];
const ATTRIBUTE_TYPES: readonly AttributeType[] = ['text', 'number', 'boolean', 'date'];
/** The port `chatid sandbox` listens on without --port. */
export const DEFAULT_SANDBOX_PORT = 4010;

type StartSandbox = typeof StartSandboxFn;

/** Parsed flags of `chatid sandbox`. */
export interface SandboxCommandOptions {
  port: number;
  provider: SandboxProvider;
  dataFile: string | undefined;
  latencyMs: number;
  faultRate: number;
  faults: FaultKind[] | undefined;
  retryAfterSeconds: number | undefined;
  retryAfterFormat: 'seconds' | 'http-date';
  /** undefined: each vendor's own window (100/10s on /api paths, 100/60s Replyful and OpenCX). */
  rateLimit: { limit: number; windowMs: number } | false | undefined;
  apiKeys: string[] | undefined;
  agentIds: string[] | undefined;
  /** Extra keys limited to some agents or to reads, to try 403 handling. */
  keyScopes: Record<string, { agents?: string[]; readOnly?: boolean }>;
  attributes: CustomAttribute[];
  seed: number | undefined;
  identitySecret: string | undefined;
  teamwebKey: string | undefined;
}

/** What `chatid sandbox --json` prints once, when it is listening. */
export interface SandboxResult {
  url: string;
  port: number;
  provider: SandboxProvider;
  apiKey: string;
  agentId: string;
  agentIds: string[];
  dataFile: string | null;
  faultRate: number;
  faults: FaultKind[];
  /** The window on /api/v1 and /api/v2 (on every path when --rate-limit is given); null with --rate-limit off. */
  rateLimit: { limit: number; windowMs: number } | null;
  /** Without --rate-limit: Replyful's and OpenCX's own window on their paths (vendors.md §5, §6). */
  rateLimitPerMinutePaths?: { limit: number; windowMs: number };
  latencyMs: number;
  /** POST here to check a token or user hash the way the widget backend would. */
  identifyUrl: string;
  /** The environment a chatid in another terminal needs to use this sandbox. */
  env: Record<string, string>;
}

interface SandboxFlags {
  port?: string;
  provider?: string;
  data?: string;
  latency?: string;
  faultRate?: string;
  faults?: string;
  retryAfter?: string;
  retryAfterFormat?: string;
  rateLimit?: string;
  apiKey?: string[];
  agentId?: string[];
  scopedKey?: string[];
  readOnlyKey?: string[];
  attribute?: string[];
  seed?: string;
  identitySecret?: string;
  teamwebKey?: string;
}

const bad = (message: string, hint: string): UsageError => new UsageError('ERR_USAGE_BAD_VALUE', message, { hint });
const MAX_LATENCY_MS = 60 * 60 * 1000;
const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

/** Turn the flags into options, refusing every bad value with exit 2. */
export function parseSandboxFlags(f: SandboxFlags): SandboxCommandOptions {
  const portText = f.port ?? String(DEFAULT_SANDBOX_PORT);
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) throw bad(`--port must be a whole number from 0 to 65535, not "${portText}".`, 'For example --port 4010, or --port 0 for any free port.');
  const provider = f.provider ?? 'chatbase';
  if (provider !== 'chatbase' && provider !== 'bookbag') {
    throw bad(`--provider must be chatbase or bookbag, not "${provider}".`, 'The sandbox serves OpenCX and Replyful paths whatever the provider; --provider picks whose /api/v1 and /api/v2 behaviour to imitate.');
  }
  let latencyMs = 0;
  if (f.latency !== undefined) {
    const ms = f.latency.trim() === '0' ? 0 : parseDuration(f.latency);
    if (ms === undefined) throw bad(`--latency must be a duration such as 50ms or 1s, not "${f.latency}".`, 'Units are required: 50ms, 0.5s.');
    // Past Node's longest timer (~24.8 days) the delay silently became 1 ms.
    if (ms > MAX_LATENCY_MS) throw bad(`--latency must be at most 1h, not "${f.latency}".`, 'To test a client timeout, a few seconds more than its timeout is enough, e.g. --latency 40s.');
    latencyMs = ms;
  }
  let faultRate = 0;
  if (f.faultRate !== undefined) {
    const t = f.faultRate.trim();
    const pct = /^(\d+(?:\.\d+)?)%$/.exec(t);
    faultRate = pct ? Number(pct[1]) / 100 : /^\d+(\.\d+)?$/.test(t) ? Number(t) : Number.NaN;
    if (!(faultRate >= 0 && faultRate <= 1)) throw bad(`--fault-rate must be a number from 0 to 1 (or a percentage), not "${f.faultRate}".`, 'For example --fault-rate 0.2 (one request in five).');
  }
  let faults: FaultKind[] | undefined;
  if (f.faults !== undefined) {
    const list = f.faults.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (list.length === 1 && list[0] === 'all') faults = [...FAULTS];
    else {
      const unknown = list.filter((k) => !FAULTS.includes(k as FaultKind));
      if (list.length === 0 || unknown.length > 0) throw bad(`--faults: unknown fault kind ${unknown.length ? `"${unknown.join('", "')}"` : '(empty list)'}.`, `Use a comma-separated list of ${FAULTS.join(', ')} (or all).`);
      faults = [...new Set(list as FaultKind[])];
    }
    if (f.faultRate === undefined) throw bad('--faults needs --fault-rate: without it no fault is ever injected.', 'For example --fault-rate 0.2 --faults 429,reset-after.');
  }
  let retryAfterSeconds: number | undefined;
  if (f.retryAfter !== undefined) {
    if (!/^\d+$/.test(f.retryAfter.trim())) throw bad(`--retry-after must be whole seconds, not "${f.retryAfter}".`, 'For example --retry-after 2.');
    retryAfterSeconds = Number(f.retryAfter);
  }
  const retryAfterFormat = f.retryAfterFormat ?? 'seconds';
  if (retryAfterFormat !== 'seconds' && retryAfterFormat !== 'http-date') throw bad(`--retry-after-format must be seconds or http-date, not "${f.retryAfterFormat}".`, 'The vendors send seconds; http-date tests the other form RFC 9110 allows.');
  let rateLimit: SandboxCommandOptions['rateLimit'];
  if (f.rateLimit !== undefined) {
    const t = f.rateLimit.trim();
    if (t === 'off' || t === 'none') rateLimit = false;
    else {
      const m = /^(\d+)\/(.+)$/.exec(t);
      const window = m ? (/^[a-z]+$/i.test(m[2] as string) ? parseDuration(`1${m[2]}`) : parseDuration(m[2] as string)) : undefined;
      if (!m || Number(m[1]) < 1 || window === undefined || window <= 0) throw bad(`--rate-limit must look like 100/10s (requests/window) or off, not "${f.rateLimit}".`, 'For example --rate-limit 100/10s (the vendors\' limit) or --rate-limit 5/1s to test back-off.');
      rateLimit = { limit: Number(m[1]), windowMs: window };
    }
  }
  // The same rule as the client's (core/api-key.ts): a key the sandbox accepts, chatid can send.
  for (const k of f.apiKey ?? []) {
    const problem = apiKeyProblem(k);
    if (problem !== undefined) throw bad(`--api-key ${problem}.`, 'For example --api-key sk_test_123.');
  }
  const agentIds = f.agentId;
  for (const id of agentIds ?? []) {
    if (id.trim() === '' || id.includes('/')) throw bad(`--agent-id "${id}" is not usable in a URL path.`, 'Use letters, digits, "-" and "_".');
    if (provider === 'bookbag' && !/^\d+$/.test(id)) throw bad(`Bookbag agent ids are numeric, not "${id}".`, 'For example --agent-id 1001.');
    // The client's rule (core/providers.ts): an agent the sandbox serves, chatid can address.
    const problem = agentIdProblem(provider, id);
    if (problem !== undefined) throw bad(`--agent-id: ${problem}.`, 'Use letters, digits, "-" and "_".');
  }
  const keyScopes: SandboxCommandOptions['keyScopes'] = {};
  for (const sk of f.scopedKey ?? []) {
    const m = /^([^\s=]+)=([^\s=]+)$/.exec(sk);
    if (!m) throw bad(`--scoped-key must look like key=agent[,agent…], not "${sk}".`, 'For example --scoped-key oc_test_one=1001.');
    const agents = (m[2] as string).split(',').filter((a) => a !== '');
    if (agents.length === 0) throw bad(`--scoped-key "${sk}" names no agent.`, 'For example --scoped-key oc_test_one=1001.');
    keyScopes[m[1] as string] = { agents };
  }
  for (const k of f.readOnlyKey ?? []) {
    if (k.trim() === '' || /\s/.test(k)) throw bad('--read-only-key must be a non-empty key without spaces.', 'For example --read-only-key ocx_read_only.');
    keyScopes[k] = { ...(keyScopes[k] ?? {}), readOnly: true };
  }
  const attributes: CustomAttribute[] = [];
  for (const a of f.attribute ?? []) {
    const m = /^([a-zA-Z][a-zA-Z0-9_-]*):(\w+)$/.exec(a);
    if (!m || !ATTRIBUTE_TYPES.includes(m[2] as AttributeType)) throw bad(`--attribute must look like name:type with type ${ATTRIBUTE_TYPES.join('|')}, not "${a}".`, 'For example --attribute plan:text --attribute seats:number.');
    attributes.push({ name: m[1] as string, type: m[2] as AttributeType });
  }
  let seed: number | undefined;
  if (f.seed !== undefined) {
    if (!/^\d+$/.test(f.seed.trim())) throw bad(`--seed must be a whole number, not "${f.seed}".`, 'For example --seed 42 to replay the same faults.');
    seed = Number(f.seed);
  }
  if (f.identitySecret !== undefined) {
    // The secret every identify check uses for the sandbox's lifetime: the rule for storing one.
    const problem = f.identitySecret === '' ? 'is empty' : secretTextProblem(f.identitySecret)?.what;
    if (problem !== undefined) {
      throw bad(`--identity-secret ${problem}: every token and user hash would be checked against that.`, 'Pass the test secret your tokens are signed with, e.g. --identity-secret "$CHATID_SECRET" (set), or omit the flag for the sandbox default.');
    }
  }
  return {
    port: Number(portText),
    provider,
    dataFile: f.data,
    latencyMs,
    faultRate,
    faults,
    retryAfterSeconds,
    retryAfterFormat,
    rateLimit,
    apiKeys: f.apiKey,
    agentIds,
    keyScopes,
    attributes,
    seed,
    identitySecret: f.identitySecret,
    teamwebKey: f.teamwebKey,
  };
}

/** Register `chatid sandbox` (cli.md §9). */
export function registerSandbox(program: Command, ctx: Ctx, runF = runSandbox): void {
  program
    .command('sandbox')
    .description('Run a local emulator of the vendor APIs (contacts, attributes, chat, OpenCX, Replyful, identify) on 127.0.0.1')
    .option('--port <n>', `TCP port (0 = any free port)`, String(DEFAULT_SANDBOX_PORT))
    .option('--provider <name>', 'whose /api/v1 and /api/v2 behaviour to imitate: chatbase or bookbag', 'chatbase')
    .option('--data <file.json>', 'keep the state in this file: loaded at start, saved after every change (one sandbox per file, held with <file>.lock)')
    .option('--latency <duration>', 'delay every response, e.g. 50ms')
    .option('--fault-rate <0..1>', 'share of requests that fail (e.g. 0.2 or 20%)')
    .option('--faults <kinds>', `which faults to inject, comma-separated: ${FAULTS.join(', ')} (default all)`)
    .option('--retry-after <seconds>', 'Retry-After sent with injected 429s (default 1)')
    .option('--retry-after-format <form>', 'Retry-After as seconds (default) or http-date')
    .option('--rate-limit <n/window>', "requests per sliding window per key on every path, e.g. 100/10s, or off (default: each vendor's, 100/10s for Chatbase and Bookbag, 100/60s for Replyful and OpenCX)")
    .option('--api-key <key>', `accepted Bearer key (repeatable; default a fixed test key)`, collect)
    .option('--agent-id <id>', 'agent/chatbot id to serve (repeatable; Bookbag ids are numeric)', collect)
    .option('--scoped-key <key=agents>', 'an extra key limited to these agents (comma-separated): others get 403 on v2, 404 on v1 (repeatable)', collect)
    .option('--read-only-key <key>', 'an extra key that may only read: writes get 403 (repeatable)', collect)
    .option('--attribute <name:type>', 'custom attribute every agent starts with, e.g. seats:number (repeatable)', collect)
    .option('--seed <n>', 'seed of the fault sequence, to replay the same faults')
    .option('--identity-secret <secret>', 'HMAC/JWT secret the identify endpoint checks (test secrets only; default a fixed one)')
    .option('--teamweb-key <base64>', 'TeamWeb AES-256 key (base64 of 32 bytes) the identify endpoint checks')
    .addHelpText(
      'after',
      `
Examples:
  $ chatid sandbox                                        # Chatbase-like API on http://127.0.0.1:4010
  $ chatid sandbox --provider bookbag --data state.json   # Bookbag-like, state kept across runs
  $ chatid sandbox --fault-rate 0.2 --faults 429,500,reset-after --seed 7
  $ chatid sandbox --port 0 --json                        # one line {"url","apiKey",…} once listening (NDJSON)
  $ chatid sandbox --port 0 --json > sandbox.json &        # in CI: start it, wait for the file
  $ export $(jq -r '.env | to_entries[] | "\\(.key)=\\(.value)"' sandbox.json)   # provider, URL, key, agent

Serves: /api/v1/chatbots/:id/contacts[/:externalId], /api/v1/chatbots/:id/custom-attributes[/:name],
/api/v1/get-chatbots, /api/v1/chat, /api/v2/health, /api/v2/me, /api/v2/agents/:id/chat,
/api/v2/agents/:id/users/:userId/conversations, /api/v2/agents/:id/conversations[/:cid[/messages]],
/widget/authenticate-user (OpenCX), /v1/conversations (Replyful), /health, and
POST /sandbox/identify {provider?, token | user_id+user_hash} which answers
{identified, userId | reason} the way the widget backend would.
A chat message of exactly /error makes the stream end with an error frame.
Health checks and /sandbox/identify are never rate limited or faulted. Stop it with Ctrl-C.`,
    )
    .action(async (flags: SandboxFlags) => {
      // --json is NDJSON here: the document printed when listening, then, if stopping fails
      // (the last save of --data), the error as a second line.
      ctx.ui.ndjson = ctx.ui.json;
      await runF(parseSandboxFlags(flags), ctx);
    });
}

/** Start the sandbox, announce it, serve until ctx.signal aborts (Ctrl-C), then close and save. */
export async function runSandbox(o: SandboxCommandOptions, ctx: Ctx): Promise<SandboxResult> {
  const { startSandbox } = await import('../../sandbox/index.js');
  if (o.dataFile !== undefined) await checkDataDir(resolve(ctx.cwd, o.dataFile));
  const { lockDataFile } = await import('../../sandbox/data-lock.js');
  const lock = o.dataFile === undefined ? undefined : await lockDataFile(resolve(ctx.cwd, o.dataFile), { now: () => ctx.clock.now() });
  try {
    return await serveSandbox(startSandbox, o, ctx);
  } finally {
    await lock?.release();
  }
}

async function serveSandbox(startSandbox: StartSandbox, o: SandboxCommandOptions, ctx: Ctx): Promise<SandboxResult> {
  const options: SandboxOptions = {
    port: o.port,
    provider: o.provider,
    latencyMs: o.latencyMs,
    faultRate: o.faultRate,
    ...(o.rateLimit !== undefined ? { rateLimit: o.rateLimit } : {}),
    attributes: o.attributes,
    requestLog: false,
    now: () => ctx.clock.now().getTime(),
    log: (line) => (line.startsWith('identify') || line.startsWith('error') ? info(ctx, line) : verbose(ctx, line)),
    ...(o.faults ? { faults: o.faults } : {}),
    ...(o.retryAfterSeconds !== undefined ? { retryAfterSeconds: o.retryAfterSeconds } : {}),
    retryAfterFormat: o.retryAfterFormat,
    ...(o.apiKeys ? { apiKeys: o.apiKeys } : {}),
    ...(o.agentIds ? { agentIds: o.agentIds } : {}),
    ...(Object.keys(o.keyScopes).length > 0 ? { keyScopes: o.keyScopes } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.dataFile !== undefined ? { dataFile: resolve(ctx.cwd, o.dataFile) } : {}),
    ...(o.identitySecret !== undefined ? { identitySecret: o.identitySecret } : {}),
    ...(o.teamwebKey !== undefined ? { teamwebKey: o.teamwebKey } : {}),
  };
  let sb;
  try {
    sb = await startSandbox(options);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new NetworkError('ERR_SANDBOX_PORT_IN_USE', `Port ${o.port} on 127.0.0.1 is already in use.`, { cause: e, hint: `Stop whatever uses it (maybe another sandbox), or pick another port: --port ${o.port === 65535 ? 4010 : o.port + 1}, or --port 0 for any free one.` });
    }
    if (code === 'EACCES') {
      throw new NetworkError('ERR_SANDBOX_PORT_DENIED', `Not allowed to listen on port ${o.port}.`, { cause: e, hint: 'Ports below 1024 need privileges; use --port 4010.' });
    }
    throw e;
  }
  const apiKey = sb.apiKeys[0] as string;
  const agentId = sb.agentIds[0] as string;
  const result: SandboxResult = {
    url: sb.url,
    port: sb.port,
    provider: sb.provider,
    apiKey,
    agentId,
    agentIds: [...sb.agentIds],
    dataFile: options.dataFile ?? null,
    faultRate: o.faultRate,
    faults: o.faultRate > 0 ? (o.faults ?? [...FAULTS]) : [],
    rateLimit: o.rateLimit === false ? null : (o.rateLimit ?? { limit: 100, windowMs: 10_000 }),
    ...(o.rateLimit === undefined ? { rateLimitPerMinutePaths: { limit: 100, windowMs: 60_000 } } : {}),
    latencyMs: o.latencyMs,
    identifyUrl: `${sb.url}/sandbox/identify`,
    env: { CHATID_PROVIDER: sb.provider, CHATID_BASE_URL: sb.url, CHATID_API_KEY: apiKey, CHATID_AGENT_ID: agentId },
  };
  if (ctx.ui.json) emit(ctx, result, () => '');
  info(ctx, renderSandbox(result));
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  try {
    await sb.close();
  } catch (e) {
    // The server has stopped; only the last save of --data failed (its directory went away,
    // the disk filled up…). Say what is lost instead of reporting a bug in chatid.
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'its directory no longer exists' : (e as Error).message;
    throw new StoreError('ERR_SANDBOX_DATA_SAVE', `The sandbox stopped, but its state could not be saved to ${result.dataFile ?? '?'} (${why}); the changes since the last successful save are lost.`, {
      cause: e,
      hint: 'Keep --data in a directory that exists and that you can write to while the sandbox runs (the error lines above say when saving began to fail).',
    });
  }
  info(ctx, `Sandbox stopped after ${sb.requestCount} request(s)${result.dataFile ? `; state saved to ${result.dataFile}` : ''}.`);
  return result;
}

/**
 * --data is saved next to itself (a temp file renamed over it): refuse at start a directory that
 * is missing or not writable, rather than answer every write with 200 and save nothing.
 */
async function checkDataDir(file: string): Promise<void> {
  const { access, stat } = await import('node:fs/promises');
  const { constants } = await import('node:fs');
  const { dirname } = await import('node:path');
  const dir = dirname(file);
  const isDir = await stat(dir).then((st) => st.isDirectory(), () => false);
  const writable = isDir && (await access(dir, constants.W_OK).then(() => true, () => false));
  if (!writable) {
    throw bad(`--data ${file}: the sandbox could not save there (${isDir ? 'the directory is not writable' : 'the directory does not exist'}).`, 'Pass a file in a directory that exists and that you can write to, e.g. --data ./state.json.');
  }
  // Each save renames a new file over it: a pipe hung the start (its first read waits for a
  // writer, and Ctrl-C could not end it), and a device such as /dev/null would be replaced.
  const st = await stat(file).catch(() => undefined);
  if (st && !st.isFile()) {
    throw bad(
      `--data ${file}: ${st.isDirectory() ? 'it is a directory' : 'it is not a regular file (a device such as /dev/null, or a pipe)'}, and the sandbox replaces the file on every save.`,
      'Pass a file path (it need not exist yet), e.g. --data ./state.json; leave --data out to keep the state in memory only.',
    );
  }
}

/** The banner (stderr). */
export function renderSandbox(r: SandboxResult): string {
  const lines = [
    `chatid sandbox (${r.provider}) listening on ${r.url}`,
    `  API key:   ${r.apiKey}`,
    `  Agent id:  ${r.agentIds.join(', ')}`,
    `  Limits:    ${r.rateLimit ? `${r.rateLimit.limit} requests / ${r.rateLimit.windowMs / 1000}s per key${r.rateLimitPerMinutePaths ? ` (Replyful, OpenCX: ${r.rateLimitPerMinutePaths.limit} / ${r.rateLimitPerMinutePaths.windowMs / 1000}s)` : ''}` : 'no rate limit'}, 1000 contacts per request`,
  ];
  if (r.faultRate > 0) lines.push(`  Faults:    ${Math.round(r.faultRate * 1000) / 10}% of requests (${r.faults.join(', ')})`);
  if (r.latencyMs > 0) lines.push(`  Latency:   ${r.latencyMs}ms`);
  if (r.dataFile) lines.push(`  Data file: ${r.dataFile}`);
  lines.push(`  Identify:  POST ${r.identifyUrl}`);
  lines.push('', 'In another terminal:', `  export ${Object.entries(r.env).map(([k, v]) => `${k}=${v}`).join(' ')}`, '', 'Press Ctrl-C to stop.');
  return lines.join('\n');
}
