import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { ExitCode, ExitWithCode } from '../../cli/errors.js';
import { emit, verbose } from '../../cli/output.js';
import { SECRET_OPTION_HELP } from '../../cli/secret-input.js';
import type { Settings } from '../../cli/settings.js';
import type { JwtProvider } from '../../core/jwt-claims.js';
import type { JwtCheck, JwtCheckStatus, JwtIssue } from '../../core/jwt-verify.js';
import type { SecretCandidateInput } from '../../core/secret-candidates.js';
import type { Profile } from '../../store/types.js';
import { renderClaims } from './render-claims.js';
import { asJwtProvider, parseAt, parseLeeway, readTokenInput, resolveTokenSettings } from './shared.js';

export interface VerifyOptions {
  /** The token argument as given (`-` or undefined: stdin). */
  token?: string;
  provider?: string;
  secret?: string;
  secretStdin?: boolean;
  secretFile?: string;
  /** `--leeway` as written (default 60s). */
  leeway: string;
  /** `--at` as written: ISO 8601 or Unix seconds. */
  at?: string;
}

/** The JSON document of ../shared/spec/cli.md §6, key for key. */
export interface VerifyResult {
  valid: boolean;
  header: Record<string, unknown> | null;
  payload: unknown;
  secret: 'current' | 'previous' | null;
  errors: JwtIssue[];
  warnings: JwtIssue[];
  causes: JwtIssue[];
}

/** What the human rendering says about how the check was made (not part of the JSON). */
export interface VerifyContext {
  provider: JwtProvider;
  at: number;
  atGiven: boolean;
  leeway: number;
  hasPrevious: boolean;
  /** Each check's outcome, for the "Checked" list. */
  checks: Record<JwtCheck, JwtCheckStatus>;
}

export function registerVerify(parent: Command, ctx: Ctx, runF = runVerify): void {
  parent
    .command('verify')
    .description('Verify a user token strictly and explain every failure (exit 3 when invalid)')
    .argument('[token]', 'the JWT; `-` or omitted reads stdin')
    .option('--leeway <dur>', 'clock tolerance for exp/nbf/iat', '60s')
    .option('--at <time>', 'verify as of this moment: ISO 8601 (UTC unless it names a zone) or Unix seconds')
    .option('--provider <name>', 'chatbase, replyful or generic (decides the id claim and rules)')
    .option('--secret <value>', SECRET_OPTION_HELP.secret)
    .option('--secret-stdin', SECRET_OPTION_HELP.secretStdin)
    .option('--secret-file <path>', SECRET_OPTION_HELP.secretFile)
    .addHelpText(
      'after',
      `
Checks: strict compact form, alg HS256 only, the signature (current secret, and the
previous one during its grace period), exp/nbf/iat with leeway, and the provider's user id
claim. When it fails, the causes chatid can prove (a Bearer prefix, a secret with a
trailing newline, another profile's secret, exp in milliseconds, clock skew, …).

Exit: 0 valid, 3 invalid. --json: {"valid","header","payload","secret","errors","warnings","causes"}.

Examples:
  $ chatid token verify eyJhbGciOi…
  $ chatid token sign user_123 | chatid token verify --json
  $ chatid token verify "$TOKEN" --at 2026-01-01T12:00:00Z   # was it valid back then?
  $ pbpaste | chatid token verify --provider chatbase --leeway 2m`,
    )
    .action(async (token: string | undefined, flags: Omit<VerifyOptions, 'token'>) => {
      const opts: VerifyOptions = { ...flags };
      if (token !== undefined) opts.token = token;
      const { result, context } = await runF(opts, ctx);
      emit(ctx, result, (r, c) => renderVerify(r, context, c));
      if (!result.valid) throw new ExitWithCode(ExitCode.mismatch);
    });
}

export async function runVerify(opts: VerifyOptions, ctx: Ctx): Promise<{ result: VerifyResult; context: VerifyContext }> {
  // Bad flags and a missing token fail before anything is read or prompted for.
  const leeway = await parseLeeway(opts.leeway);
  const atGiven = opts.at !== undefined ? parseAt(opts.at) : undefined;
  const token = await readTokenInput(ctx, opts.token, Boolean(opts.secretStdin || opts.secretFile === '-'));
  const { settings, provider: anyProvider, secret } = await resolveTokenSettings(ctx, opts);
  const provider = asJwtProvider(anyProvider, 'verify');
  // The clock is read once every input is in (stdin, a secret prompt): a token piped from
  // `token sign` was made before this moment, never after it.
  const at = atGiven ?? ctx.clock.now().getTime() / 1000;
  const [{ parseSecretKey }, { verifyJwt }, { diagnoseJwt }] = await Promise.all([
    import('../../core/secret-key.js'),
    import('../../core/jwt-verify.js'),
    import('../../core/jwt-causes.js'),
  ]);
  const keys: Array<{ label: 'current' | 'previous'; bytes: Uint8Array }> = [{ label: 'current', bytes: parseSecretKey(secret).bytes }];
  // The previous secret counts only while its grace period lasts at the moment checked (--at):
  // a retired one too, when --at goes back into its grace period.
  const previous = previousOf(settings, at);
  if (previous?.accepted) {
    try {
      keys.push({ label: 'previous', bytes: parseSecretKey(previous.value).bytes });
    } catch {
      // A malformed stored previous secret cannot have signed anything; the doctor ignores it too.
    }
  }
  const verify = { keys, provider, now: at, leewaySeconds: leeway, momentChosen: atGiven !== undefined };
  const r = verifyJwt({ ...verify, token });
  // The doctor compares other profiles' secrets, which only matters for a bad signature: a
  // valid token (the common case) skips reading the store. When flags and env gave
  // everything, a missing or unreadable store must not stop the verification itself.
  let profiles = settings.store?.data.profiles;
  if (!profiles && !r.valid) {
    try {
      profiles = (await (await ctx.store()).read()).profiles;
    } catch (err) {
      verbose(ctx, `store not read for the doctor: ${(err as Error).message}`);
    }
  }
  const causes = diagnoseJwt({ verify, token, result: r, secrets: secretSearch(settings, secret, previous, profiles ?? {}), momentChosen: atGiven !== undefined });
  return {
    result: { valid: r.valid, header: r.header, payload: r.payload, secret: r.secret, errors: r.errors, warnings: r.warnings, causes },
    context: { provider, at, atGiven: atGiven !== undefined, leeway, hasPrevious: keys.length > 1, checks: r.checks },
  };
}

/** The profile's previous secret (in its grace period now, or retired), and whether it is accepted at `at`. */
interface PreviousSecret {
  value: string;
  accepted: boolean;
  /** When not accepted: when its grace period ended (ISO 8601), '' when the store does not say. */
  graceEnded?: string;
}

function previousOf(s: Settings, at: number): PreviousSecret | undefined {
  const p = s.previousSecret ? { value: s.previousSecret.value, end: s.previousSecret.expiresAt } : s.retiredSecret ? { value: s.retiredSecret.value, end: s.retiredSecret.expiredAt } : undefined;
  if (!p) return undefined;
  const end = p.end !== undefined ? Date.parse(p.end) / 1000 : Number.NaN;
  if (end > at) return { value: p.value, accepted: true };
  return { value: p.value, accepted: false, graceEnded: Number.isNaN(end) ? '' : new Date(end * 1000).toISOString() };
}

/** The secrets the doctor may try: the profile's previous one and every other profile's. */
function secretSearch(s: Settings, secret: string, previous: PreviousSecret | undefined, profiles: Record<string, Profile>): SecretCandidateInput {
  const input: SecretCandidateInput = { secret };
  if (previous) {
    input.previousSecret = previous.value;
    if (previous.graceEnded !== undefined) input.previousSecretGraceEnded = previous.graceEnded;
  } else {
    // The secret came from a flag or CHATID_SECRET: the profile's previous secret was not a key, but may have signed.
    const prev = s.profile?.previousSecret ?? s.profile?.retiredSecret;
    if (prev) input.previousSecret = prev;
  }
  if (s.apiKey) input.apiKey = s.apiKey.value;
  const current = s.profileName?.value;
  const others: NonNullable<SecretCandidateInput['otherProfiles']>[number][] = [];
  for (const [name, p] of Object.entries(profiles)) {
    // The active profile's own secret counts as "another" when the secret came from a flag or env.
    if (name === current && s.secret?.source === 'profile') continue;
    const o: (typeof others)[number] = { name };
    if (p.secret) o.secret = p.secret;
    if (p.previousSecret && name !== current) o.previousSecret = p.previousSecret;
    if (p.retiredSecret && name !== current) o.retiredSecret = p.retiredSecret;
    others.push(o);
  }
  if (others.length) input.otherProfiles = others;
  return input;
}

const CHECKS: ReadonlyArray<{ check: JwtCheck; label: (v: VerifyContext) => string }> = [
  { check: 'form', label: () => 'compact form: three canonical base64url segments, JSON header and payload' },
  { check: 'alg', label: () => 'alg is HS256' },
  { check: 'signature', label: (v) => `signature (current secret${v.hasPrevious ? ', then the previous one' : ''})` },
  { check: 'time', label: (v) => `exp, nbf, iat (leeway ${v.leeway}s)` },
  { check: 'userId', label: (v) => `user id claim (${v.provider === 'chatbase' ? 'user_id or sub' : v.provider === 'replyful' ? 'userId' : 'sub'}) is a non-empty string` },
];

/** Human output: verdict, decoded claims with dates, each check, errors, warnings and proven causes. */
export function renderVerify(r: VerifyResult, v: VerifyContext, ctx: Ctx): string {
  const c = ctx.color;
  const atText = new Date(Math.floor(v.at) * 1000).toISOString().replace('.000Z', 'Z');
  let out = r.valid
    ? `${c.green.bold('✓ Valid token')} ${c.dim(`signed with the ${r.secret} secret, checked for ${v.provider} at ${atText}${v.atGiven ? ' (--at)' : ''}`)}\n`
    : `${c.red.bold('✗ Invalid token')} ${c.dim(`checked for ${v.provider} at ${atText}${v.atGiven ? ' (--at)' : ''}`)}\n`;
  if (r.header) out += `\n${c.bold('Header')}  ${JSON.stringify(r.header)}\n`;
  if (r.payload !== null && r.payload !== undefined) out += `${c.bold('Claims')}\n${renderClaims(r.payload, v.at, c)}`;
  out += `\n${c.bold('Checked')}\n`;
  for (const check of CHECKS) {
    const status = v.checks[check.check];
    const skipped = status === 'skip';
    const mark = status === 'fail' ? c.red('✗') : skipped ? c.dim('–') : c.green('✓');
    out += `  ${mark} ${check.label(v)}${skipped ? c.dim(' (not checked)') : ''}\n`;
  }
  if (r.errors.length) {
    out += `\n${c.bold('Errors')}\n`;
    for (const e of r.errors) out += `  ${c.red(e.code)}  ${e.message}\n`;
  }
  if (r.warnings.length) {
    out += `\n${c.bold('Warnings')}\n`;
    for (const w of r.warnings) out += `  ${c.yellow(w.code)}  ${w.message}\n`;
  }
  if (r.causes.length) {
    out += `\n${c.bold('Why (proven by recomputation)')}\n`;
    for (const k of r.causes) out += `  ${c.cyan(k.code)}  ${k.message}\n`;
  } else if (!r.valid) {
    out += `\n${c.dim('No known cause could be proven. Compare secret fingerprints with `chatid secret show` on both sides, and decode the token with `chatid token decode`.')}\n`;
  }
  return out;
}
