import type { Command } from 'commander';
import { canPrompt, type Ctx, promptsOffBecause } from '../../cli/context.js';
import { UsageError } from '../../cli/errors.js';
import { emit, info } from '../../cli/output.js';
import { readSecretFlags, SECRET_OPTION_HELP } from '../../cli/secret-input.js';
import { apiKeyProblem } from '../../core/api-key.js';
import { baseUrlProblem } from '../../core/base-url.js';
import { agentIdProblem, PROVIDER_INFO, PROVIDERS, type Provider } from '../../core/providers.js';
import { relativeTime } from '../../core/relative-time.js';
import type { Profile } from '../../store/types.js';
import {
  checkAgentId,
  checkBaseUrl,
  checkProfileName,
  checkProvider,
  checkSecret,
  getProfile,
  profileView,
  type ProfileView,
  refuseProfileFlag,
  renderProfileView,
  secretProblem,
  warnProfileEnvOverride,
} from './shared.js';

export interface AddOptions {
  name: string;
  provider?: string;
  agentId?: string;
  baseUrl?: string;
  apiKeyStdin?: boolean;
  apiKeyFile?: string;
  secret?: string;
  secretStdin?: boolean;
  secretFile?: string;
  /** Make the new profile the active one (the first profile always becomes active). */
  use?: boolean;
  /** Replace a profile of the same name. */
  force?: boolean;
}

export interface AddResult {
  /** true when a profile of the same name was replaced (--force). */
  replaced: boolean;
  profile: ProfileView;
}

export function registerAdd(parent: Command, ctx: Ctx, runF = runAdd): void {
  parent
    .command('add')
    .description('Add a profile: asks for what is missing at a terminal, takes flags and stdin otherwise')
    .argument('<name>', 'profile name, e.g. prod or chatbase-dev')
    .option('--provider <name>', `vendor: ${PROVIDERS.join(', ')}`)
    .option('--agent-id <id>', "the vendor's agent / chatbot id (numeric for Bookbag)")
    .option('--base-url <url>', "API base URL (default: the vendor's)")
    .option('--api-key-stdin', 'read the vendor API key from stdin')
    .option('--api-key-file <path>', 'read the vendor API key from a file')
    .option('--secret <value>', SECRET_OPTION_HELP.secret)
    .option('--secret-stdin', SECRET_OPTION_HELP.secretStdin)
    .option('--secret-file <path>', SECRET_OPTION_HELP.secretFile)
    .option('--use', 'make it the active profile')
    .option('--force', 'replace an existing profile of the same name')
    .addHelpText(
      'after',
      `
Examples:
  $ chatid profile add prod                                   # interactive wizard
  $ pass show chatbase | chatid profile add prod --provider chatbase --agent-id abc123 --secret-stdin
  $ chatid profile add tw --provider teamweb --secret-file teamweb.key --api-key-file tw-api.key --use
  $ chatid profile add local --provider chatbase --base-url http://127.0.0.1:4010 --secret-stdin --force

Only one of the API key and the secret can come from stdin; give the other with a file.
The first profile added becomes the active one.`,
    )
    .action(async (name: string, flags: Omit<AddOptions, 'name'>) => {
      const result = await runF({ name, ...flags }, ctx);
      emit(ctx, result, renderAdd);
    });
}

export async function runAdd(o: AddOptions, ctx: Ctx): Promise<AddResult> {
  const name = checkProfileName(o.name);
  refuseProfileFlag(ctx, 'profile add', name, '');
  const apiKeyFromStdin = Boolean(o.apiKeyStdin) || o.apiKeyFile === '-';
  const secretFromStdin = Boolean(o.secretStdin) || o.secretFile === '-';
  if (apiKeyFromStdin && secretFromStdin) {
    throw new UsageError('ERR_STDIN_TWICE', 'The API key and the secret cannot both be read from stdin.', {
      hint: 'Read one of them from a file instead (--api-key-file <path> or --secret-file <path>).',
    });
  }
  // Flags are checked before anything is asked or read, so a typo costs no typing.
  let provider = o.provider !== undefined ? checkProvider(o.provider) : undefined;
  if (provider && o.agentId !== undefined) checkAgentId(provider, o.agentId);
  if (o.baseUrl !== undefined) checkBaseUrl(o.baseUrl);

  const store = await ctx.store();
  const before = await store.read();
  if (!o.force && getProfile(before, name)) throw exists(name);

  const interactive = canPrompt(ctx);
  if (!provider) {
    if (!interactive) {
      throw new UsageError('ERR_PROVIDER_REQUIRED', 'No provider given for the new profile.', {
        hint: `Pass --provider (${PROVIDERS.join(', ')}); chatid does not ask here because ${promptsOffBecause(ctx) ?? 'prompting is off'}.`,
      });
    }
    provider = await ctx.prompter.select(
      'Provider',
      PROVIDERS.map((p) => ({ value: p, name: PROVIDER_INFO[p].label })),
    );
  }
  const p: Provider = provider;
  if (o.agentId !== undefined) checkAgentId(p, o.agentId);

  const apiKeyFlag = await readSecretFlags(ctx, { secretStdin: o.apiKeyStdin, secretFile: o.apiKeyFile }, 'API key', '--api-key');
  // Refused here, not at every later command that would send it.
  const keyProblem = apiKeyFlag === undefined ? undefined : apiKeyProblem(apiKeyFlag);
  if (keyProblem !== undefined) {
    throw new UsageError('ERR_API_KEY_INVALID', `The API key read from ${o.apiKeyFile !== undefined && o.apiKeyFile !== '-' ? o.apiKeyFile : 'stdin'} ${keyProblem}.`, {
      hint: 'Copy the key again from the vendor dashboard, without spaces or line breaks inside it; nothing was stored.',
    });
  }
  const secretFlag = await readSecretFlags(ctx, { secret: o.secret, secretStdin: o.secretStdin, secretFile: o.secretFile }, undefined, undefined, { forStoring: true });
  if (secretFlag !== undefined) checkSecret(p, secretFlag);

  let agentId = o.agentId;
  let baseUrl = o.baseUrl;
  let apiKey = apiKeyFlag;
  let secret = secretFlag;
  if (interactive) {
    if (agentId === undefined) {
      const answer = await ctx.prompter.input(`Agent id${PROVIDER_INFO[p].numericAgentId ? ' (numeric)' : ''} (Enter to skip)`, {
        validate: (v) => (v === '' ? true : (agentIdProblem(p, v) ?? true)),
      });
      agentId = answer === '' ? undefined : answer;
    }
    // TeamWeb documents no HTTP API (vendors.md §4): no base URL or API key to ask for.
    const hasApi = p !== 'teamweb';
    if (baseUrl === undefined && hasApi) {
      const fallback = PROVIDER_INFO[p].baseUrl;
      const answer = await ctx.prompter.input(fallback ? 'API base URL' : 'API base URL (Enter to skip)', {
        default: fallback,
        validate: (v) => (v === '' ? true : (baseUrlProblem(v) ?? true)),
      });
      // Keeping the vendor's default unset lets it follow the vendor if it ever changes.
      baseUrl = answer === '' || answer === fallback ? undefined : answer;
    }
    if (apiKey === undefined && hasApi) {
      const answer = await ctx.prompter.password('Vendor API key (hidden; Enter to skip)', {
        validate: (v) => {
          const problem = v === '' ? undefined : apiKeyProblem(v);
          return problem === undefined ? true : `This key ${problem}.`;
        },
      });
      apiKey = answer === '' ? undefined : answer;
    }
    if (secret === undefined) {
      const answer = await ctx.prompter.password(`Identity secret${p === 'teamweb' ? ' (base64, 32 bytes)' : ''} (hidden; Enter to skip)`, {
        validate: (v) => (v === '' ? true : (secretProblem(p, v) ?? true)),
      });
      secret = answer === '' ? undefined : answer;
    }
  }

  const profile: Profile = { provider: p };
  if (agentId !== undefined) profile.agentId = agentId;
  if (baseUrl !== undefined) profile.baseUrl = baseUrl;
  if (apiKey !== undefined) profile.apiKey = apiKey;
  if (secret !== undefined) profile.secret = secret;

  const { replaced, active, written } = await store.update((data) => {
    // Checked again under the lock: another process may have added it meanwhile.
    const had = getProfile(data, name) !== undefined;
    if (had && !o.force) throw exists(name);
    data.profiles[name] = profile;
    const noActive = !data.activeProfile || !getProfile(data, data.activeProfile);
    if (o.use || noActive) data.activeProfile = name;
    return { replaced: had, active: data.activeProfile === name, written: data };
  });
  if (active) warnProfileEnvOverride(ctx, written);
  if (!secret) info(ctx, `No identity secret stored yet; add one with \`chatid secret set --profile ${name}\`.`);
  return { replaced, profile: profileView(name, profile, active, false) };
}

function exists(name: string): UsageError {
  return new UsageError('ERR_PROFILE_EXISTS', `A profile named "${name}" already exists.`, {
    hint: `Pass --force to replace it, pick another name, or change its secret with \`chatid secret set --profile ${name}\`.`,
  });
}

export function renderAdd(r: AddResult, ctx: Ctx): string {
  const head = `${r.replaced ? 'Replaced' : 'Added'} profile "${r.profile.name}"${r.profile.active ? ' (now active)' : ''}.`;
  return `${head}\n${renderProfileView(r.profile, ctx.clock.now(), relativeTime)}`;
}
