import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { ExitCode, ExitWithCode } from '../../cli/errors.js';
import { emit, escapeControls, jsonText, verbose } from '../../cli/output.js';
import { SECRET_OPTION_HELP } from '../../cli/secret-input.js';
import type { JwtProvider } from '../../core/jwt-claims.js';
import type { JwtCheck, JwtCheckStatus, JwtIssue } from '../../core/jwt-verify.js';
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
  const [{ parseSecretKey }, { verifyJwt }, { diagnoseJwt }, { candidateInput, secretHistory, storeForDoctor }] = await Promise.all([
    import('../../core/secret-key.js'),
    import('../../core/jwt-verify.js'),
    import('../../core/jwt-causes.js'),
    import('../../cli/secret-history.js'),
  ]);
  const keys: Array<{ label: 'current' | 'previous'; bytes: Uint8Array }> = [{ label: 'current', bytes: parseSecretKey(secret).bytes }];
  // The previous secret counts only while its grace period lasts at the moment checked (--at):
  // a retired one too, when --at goes back into its grace period.
  let history = secretHistory(ctx, settings, settings.store?.data, at);
  const previous = history.previous;
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
  if (!settings.store && !r.valid) history = secretHistory(ctx, settings, await storeForDoctor(ctx, settings, (m) => verbose(ctx, m)), at);
  const causes = diagnoseJwt({ verify, token, result: r, secrets: candidateInput(secret, history, settings.apiKey?.value), momentChosen: atGiven !== undefined });
  return {
    result: { valid: r.valid, header: r.header, payload: r.payload, secret: r.secret, errors: r.errors, warnings: r.warnings, causes },
    context: { provider, at, atGiven: atGiven !== undefined, leeway, hasPrevious: keys.length > 1, checks: r.checks },
  };
}

const CHECKS: ReadonlyArray<{ check: JwtCheck; label: (v: VerifyContext) => string }> = [
  { check: 'form', label: () => 'compact form: three canonical base64url segments, JSON header and payload' },
  { check: 'alg', label: () => 'alg is HS256' },
  { check: 'signature', label: (v) => `signature (current secret${v.hasPrevious ? ', then the previous one' : ''})` },
  { check: 'time', label: (v) => `exp, nbf, iat (leeway ${v.leeway}s)` },
  { check: 'userId', label: (v) => `user id claim (${v.provider === 'chatbase' ? 'user_id or sub' : v.provider === 'replyful' ? 'userId' : 'sub'}) is a non-empty string` },
];

/**
 * Human output: verdict, decoded claims with dates, each check, errors, warnings and proven causes.
 * The token is untrusted text: its header, claims and the messages quoting them are written with
 * their control characters escaped (an alg of "\u001b[2J" must not clear the terminal).
 */
export function renderVerify(r: VerifyResult, v: VerifyContext, ctx: Ctx): string {
  const c = ctx.color;
  const atText = new Date(Math.floor(v.at) * 1000).toISOString().replace('.000Z', 'Z');
  let out = r.valid
    ? `${c.green.bold('✓ Valid token')} ${c.dim(`signed with the ${r.secret} secret, checked for ${v.provider} at ${atText}${v.atGiven ? ' (--at)' : ''}`)}\n`
    : `${c.red.bold('✗ Invalid token')} ${c.dim(`checked for ${v.provider} at ${atText}${v.atGiven ? ' (--at)' : ''}`)}\n`;
  if (r.header) out += `\n${c.bold('Header')}  ${jsonText(r.header)}\n`;
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
    for (const e of r.errors) out += `  ${c.red(e.code)}  ${escapeControls(e.message)}\n`;
  }
  if (r.warnings.length) {
    out += `\n${c.bold('Warnings')}\n`;
    for (const w of r.warnings) out += `  ${c.yellow(w.code)}  ${escapeControls(w.message)}\n`;
  }
  if (r.causes.length) {
    out += `\n${c.bold('Why (proven by recomputation)')}\n`;
    for (const k of r.causes) out += `  ${c.cyan(k.code)}  ${escapeControls(k.message)}\n`;
  } else if (!r.valid) {
    out += `\n${c.dim('No known cause could be proven. Compare secret fingerprints with `chatid secret show` on both sides, and decode the token with `chatid token decode`.')}\n`;
  }
  return out;
}
