import { canPrompt, type Ctx } from '../../cli/context.js';
import { UsageError } from '../../cli/errors.js';
import { readStdinText } from '../../cli/output.js';
import { promptSecret, readSecretFlags, type SecretFlags } from '../../cli/secret-input.js';
import { requireProvider, requireSecret, resolveSettings, type Settings } from '../../cli/settings.js';
import type { JwtProvider } from '../../core/jwt-claims.js';
import type { Provider } from '../../core/providers.js';

/** Flags shared by the token verbs that need a secret. */
export interface TokenSecretFlags extends SecretFlags {
  provider?: string;
}

/** Narrow a provider to one whose tokens are HS256 JWTs; other schemes get a pointer to their command. */
export function asJwtProvider(provider: Provider, verb: string): JwtProvider {
  switch (provider) {
    case 'chatbase':
    case 'replyful':
    case 'generic':
      return provider;
    case 'bookbag':
      throw new UsageError('ERR_TOKEN_PROVIDER', `Bookbag has no identity JWT; it proves users with an HMAC user hash.`, { hint: 'Use `chatid hash <userId>`.' });
    case 'teamweb':
      throw new UsageError('ERR_TOKEN_PROVIDER', 'TeamWeb identity tokens are AES-256-GCM, not JWTs.', { hint: 'Use `chatid encrypt --id <id>` and `chatid decrypt`.' });
    case 'opencx':
      throw new UsageError('ERR_TOKEN_PROVIDER', `OpenCX contact tokens are signed by OpenCX with its own key; chatid cannot ${verb} them locally.`, {
        hint: 'Mint one with `chatid token sign --provider opencx --email …`; inspect one with `chatid token decode`.',
      });
  }
}

/**
 * Resolve provider and secret (flag → env → profile), prompting for the secret only when a
 * terminal allows it. `openStore` also loads the other profiles (the doctor compares secrets).
 */
export async function resolveTokenSettings(
  ctx: Ctx,
  flags: TokenSecretFlags,
  o: { openStore?: boolean; needSecret?: boolean } = {},
): Promise<{ settings: Settings; provider: Provider; secret: string }> {
  const secretFlag = await readSecretFlags(ctx, flags);
  const settings = await resolveSettings(ctx, { provider: flags.provider, secret: secretFlag }, { needs: ['provider', 'secret'], openStore: o.openStore });
  const provider = requireProvider(settings);
  let secret = settings.secret?.value;
  if (secret === undefined && o.needSecret !== false && canPrompt(ctx) && provider !== 'opencx') {
    secret = await promptSecret(ctx, 'Identity secret', 'Type or paste the secret shown in the vendor dashboard.');
    settings.secret = { value: secret, source: 'flag' };
  }
  return { settings, provider, secret: secret ?? (o.needSecret === false || provider === 'opencx' ? '' : requireSecret(settings)) };
}

/**
 * The token to work on: the argument, or stdin when it is `-` or omitted while stdin is
 * not a terminal (../shared/spec/cli.md §4). Surrounding whitespace from `echo` or a file is
 * removed; anything inside is kept for the strict parser to judge.
 */
export async function readTokenInput(ctx: Ctx, arg: string | undefined, secretFromStdin: boolean, command = 'token verify'): Promise<string> {
  if (arg !== undefined && arg !== '-') {
    // `chatid token verify "$TOKEN"` with TOKEN unset is a missing token (exit 2), as an empty
    // stdin is, not an invalid one (exit 3).
    if (arg.trim() === '') throw new UsageError('ERR_TOKEN_REQUIRED', 'The token argument is empty.', { hint: 'Check that the variable holding the token is set, or pipe the token in.' });
    return arg;
  }
  if (arg === undefined && ctx.io.stdin.isTTY) {
    throw new UsageError('ERR_TOKEN_REQUIRED', 'No token given.', { hint: 'Pass it as an argument, or pipe it: `chatid token sign … | chatid token verify`.' });
  }
  if (secretFromStdin) {
    throw new UsageError('ERR_STDIN_TWICE', 'Both the token and the secret would come from stdin.', { hint: 'Pass the token as an argument, or the secret with --secret-file or CHATID_SECRET.' });
  }
  const text = (await readStdinText(ctx, 64 * 1024)).trim();
  if (text === '') throw new UsageError('ERR_TOKEN_REQUIRED', 'stdin held no token.', { hint: 'Pipe a token in, or pass it as an argument.' });
  // A file of tokens read whole was "a JWT has 3 dot-separated segments; this has 5" (exit 3).
  const lines = text.split(/\r?\n/).length;
  if (lines > 1) {
    throw new UsageError('ERR_TOKEN_STDIN_LINES', `stdin holds ${lines} lines; \`${command}\` reads one token.`, {
      hint: `Pass one token per run (e.g. \`head -1 tokens.txt | chatid ${command}\`); a token wrapped over several lines must be joined into one.`,
    });
  }
  return text;
}

/**
 * `--at <ISO 8601 | Unix seconds>` → Unix seconds. A date and time without a zone is UTC.
 * @example parseAt('1767225600') // 1767225600
 */
export function parseAt(text: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) {
    const n = Number(t);
    if (n >= 1e11) throw new UsageError('ERR_TOKEN_AT', `--at ${t} looks like milliseconds.`, { hint: `Use seconds: ${Math.floor(n / 1000)}.` });
    return n;
  }
  // A time without a zone is UTC, whatever the machine's zone (JavaScript would read it as
  // local time, so the same command would mean different instants on two machines).
  // RFC 3339 allows a lower-case t and z too.
  const iso = t.replace(/^(\d{4}-\d{2}-\d{2})[ Tt](\d{2}:\d{2}(:\d{2}(\.\d+)?)?)(z|Z)?$/, '$1T$2Z');
  // Only the ISO 8601 forms are handed to Date.parse, and only real dates and times: V8 reads
  // 2026-02-30 as March 2 and 24:00 as the next day, and takes "2026-01-01 (note)" too.
  const m = ISO_AT.exec(iso);
  // Date.parse wants the offset's minutes: +01 is +01:00.
  const ms = m && realDateTime(m) ? Date.parse(/[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?[+-]\d{2}$/i.test(iso) ? `${iso}:00` : iso) : Number.NaN;
  if (Number.isNaN(ms)) {
    const impossible = m !== null && !realDateTime(m);
    throw new UsageError('ERR_TOKEN_AT', impossible ? `--at "${text}" is no real date and time (no such day, hour, minute or second).` : `--at "${text}" is neither an ISO 8601 time nor Unix seconds.`, {
      hint: 'Example: --at 2026-01-01T12:00:00Z, --at "2026-01-01 13:00+01:00" or --at 1767268800 (a time without a zone is UTC).',
    });
  }
  return ms / 1000;
}

/** An ISO 8601 date, with a time and a zone offset (Z, ±hh, ±hhmm, ±hh:mm) optional. */
const ISO_AT = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:[zZ]|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)?)?$/;

/** Whether the fields ISO_AT matched name a day of the calendar and a time of day (00:00–23:59:59). */
function realDateTime(m: RegExpExecArray): boolean {
  const [y, mo, d, h = 0, mi = 0, sec = 0] = m.slice(1).map((v) => (v === undefined ? undefined : Number(v))) as number[];
  // setUTCFullYear, not Date.UTC: that reads the years 0–99 as 1900–1999.
  const daysInMonth = new Date(new Date(0).setUTCFullYear(y!, mo!, 0)).getUTCDate();
  return mo! >= 1 && mo! <= 12 && d! >= 1 && d! <= daysInMonth && h <= 23 && mi <= 59 && sec <= 59;
}

/** The largest --leeway: clock skew, not another day. */
const MAX_LEEWAY_MS = 24 * 3600 * 1000;

/**
 * `--leeway <dur>` → seconds; `0` is allowed without a unit; at most 24h.
 * @example parseLeeway('2m') // 120
 */
export async function parseLeeway(text: string): Promise<number> {
  if (text.trim() === '0') return 0;
  const { parseDuration } = await import('../../core/duration.js');
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError('ERR_TOKEN_LEEWAY', `--leeway "${text}" is not a duration.`, { hint: 'Write it with a unit: 30s, 2m (minutes), 1h.' });
  // Beyond a day the leeway no longer tolerates clock skew: it switches exp/nbf/iat off (and
  // `1e19d` overflows the dates in the messages). Another moment is what --at is for.
  if (ms > MAX_LEEWAY_MS) {
    throw new UsageError('ERR_TOKEN_LEEWAY', `--leeway "${text}" is more than 24h: it would accept tokens long expired or not yet valid.`, {
      hint: 'Clocks differ by seconds or minutes: --leeway 2m. To check a token as of another moment, use --at <ISO time|Unix seconds>.',
    });
  }
  return ms / 1000;
}
