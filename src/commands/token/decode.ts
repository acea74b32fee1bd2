import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { VerificationError } from '../../cli/errors.js';
import { emit, jsonText, warn } from '../../cli/output.js';
import { renderClaims } from './render-claims.js';
import { readTokenInput } from './shared.js';

export interface DecodeOptions {
  /** The token argument as given (`-` or undefined: stdin). */
  token?: string;
}

export interface DecodeResult {
  /** Always false: decode checks nothing. */
  verified: false;
  notice: string;
  header: Record<string, unknown>;
  payload: unknown;
  /** The signature segment as written (base64url). */
  signature: string;
  /** exp/nbf/iat as ISO 8601 (null past the Date range, ±275 760 years) and relative to now, when they are numbers. */
  times: Record<string, { iso: string | null; relative: string }>;
}

const NOTICE = 'NOT VERIFIED: decoded only. The signature, expiry and claims were not checked; anyone can write a token that decodes like this. Use `chatid token verify`.';

export function registerDecode(parent: Command, ctx: Ctx, runF = runDecode): void {
  parent
    .command('decode')
    .description('Show a token\'s header and claims with human dates, WITHOUT verifying anything')
    .argument('[token]', 'the JWT; `-` or omitted reads stdin')
    .addHelpText(
      'after',
      `
Decoding proves nothing: use \`chatid token verify\` to check the signature and claims.
A "Bearer " prefix or surrounding quotes are removed, with a warning.
--json: {"verified":false,"notice","header","payload","signature","times"}. Exit 3 if it does not decode.

Examples:
  $ chatid token decode eyJhbGciOi…
  $ pbpaste | chatid token decode --json | jq .payload`,
    )
    .action(async (token: string | undefined) => {
      const opts: DecodeOptions = {};
      if (token !== undefined) opts.token = token;
      emit(ctx, await runF(opts, ctx), renderDecode);
    });
}

export async function runDecode(opts: DecodeOptions, ctx: Ctx): Promise<DecodeResult> {
  let token = await readTokenInput(ctx, opts.token, false, 'token decode');
  // Decoding is for debugging: undo the two usual copy-paste wrappers, but say so.
  for (let i = 0; i < 3; i++) {
    const bearer = /^bearer[\s:]+/i.exec(token);
    const quoted = /^(["'`])(.*)\1$/s.exec(token);
    if (bearer) {
      token = token.slice(bearer[0].length).trim();
      warn(ctx, 'removed a "Bearer " prefix (BEARER_PREFIX): a widget given this string would reject it.');
    } else if (quoted) {
      token = quoted[2]!.trim();
      warn(ctx, 'removed surrounding quotes (QUOTED_TOKEN): a widget given this string would reject it.');
    } else break;
  }
  const [{ parseJwt }, { iso, relativeClaimTime }] = await Promise.all([import('../../core/jwt-parse.js'), import('../../core/jwt-time.js')]);
  const parsed = parseJwt(token);
  if (!parsed.ok) {
    throw new VerificationError('ERR_TOKEN_MALFORMED', `The token does not decode: ${parsed.message}.`, {
      hint: 'A JWT is three base64url segments joined by dots (eyJ….eyJ….…); check that it was copied whole.',
    });
  }
  const { header, payload, segments } = parsed.jwt;
  const now = ctx.clock.now().getTime() / 1000;
  const times: DecodeResult['times'] = {};
  if (typeof payload === 'object' && payload !== null && !Array.isArray(payload)) {
    for (const k of ['exp', 'nbf', 'iat']) {
      const v = (payload as Record<string, unknown>)[k];
      // iso is null past the Date range (±8.64e12 s): iso() would give a note, not a time.
      if (typeof v === 'number' && Number.isFinite(v)) times[k] = { iso: Math.abs(v) <= 8.64e12 ? iso(v) : null, relative: relativeClaimTime(k, v, now) };
    }
  }
  return { verified: false, notice: NOTICE, header, payload, signature: segments[2], times };
}

export function renderDecode(r: DecodeResult, ctx: Ctx): string {
  const c = ctx.color;
  const now = ctx.clock.now().getTime() / 1000;
  return [
    c.yellow.bold('⚠ NOT VERIFIED — decoded only; nothing below has been checked.'),
    c.dim('  The signature, expiry and claims were not checked. Use `chatid token verify` for that.'),
    '',
    `${c.bold('Header')}  ${jsonText(r.header)}`,
    c.bold('Claims'),
    renderClaims(r.payload, now, c).trimEnd(),
    `${c.bold('Signature')}  ${r.signature} ${c.dim('(not checked)')}`,
    '',
  ].join('\n');
}
