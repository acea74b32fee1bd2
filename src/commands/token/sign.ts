import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { UsageError } from '../../cli/errors.js';
import { emit, info, jsonString, quoteVisible, readUserIdFromStdin, warn } from '../../cli/output.js';
import { SECRET_OPTION_HELP } from '../../cli/secret-input.js';
import type { ExpiryChoice, JwtProvider } from '../../core/jwt-claims.js';
import { asJwtProvider, resolveTokenSettings } from './shared.js';

export interface SignOptions {
  provider?: string;
  secret?: string;
  secretStdin?: boolean;
  secretFile?: string;
  userId?: string;
  email?: string;
  name?: string;
  phone?: string;
  attrs: Array<[string, string]>;
  stripeAccounts: Array<[string, string]>;
  claims: Array<[string, unknown, string]>;
  /** `--exp` as written: a duration, Unix seconds, or `none` (needs the clock, so parsed in run); undefined: 1h. */
  exp?: string;
  iat: boolean;
  allowWeakSecret: boolean;
  /** `--batch <file|->` */
  batch?: string;
  json: boolean;
}

/** Whether every number in a parsed JSON value is finite. */
function finiteThroughout(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(finiteThroughout);
  if (v !== null && typeof v === 'object') return Object.values(v).every(finiteThroughout);
  return true;
}

/**
 * The first integer literal of a JSON text (valid JSON: it parsed) that JSON.parse cannot hold
 * exactly, such as an id 12345678901234567890; undefined when there is none. Strings are
 * skipped whole, so digits inside them do not count.
 */
export function inexactInteger(text: string): string | undefined {
  for (const m of text.matchAll(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g)) {
    const tok = m[0];
    if (tok.startsWith('"')) continue;
    const written = decimalValue(tok);
    // Integers only, in any form (9007199254740993, 9007199254740993.0, 90071992547409930e-1):
    // no decimal fraction is held exactly, and none is promised.
    if (written.exp < 0) continue;
    const n = Number(tok);
    if (!Number.isFinite(n)) continue; // too large for JSON at all: finiteThroughout says so
    // What is signed is JSON.stringify(n): 1.5e30 stays 1.5e+30, 9007199254740993 becomes …992.
    const signed = decimalValue(JSON.stringify(n));
    if (signed.digits !== written.digits || signed.exp !== written.exp || signed.negative !== written.negative) return tok;
  }
  return undefined;
}

/** A JSON number literal's exact value as sign, significant digits and power of ten (zero: digits '0', exp 0, not negative). */
function decimalValue(literal: string): { negative: boolean; digits: string; exp: number } {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(literal);
  if (!m) return { negative: false, digits: literal, exp: 0 };
  let digits = `${m[2]}${m[3] ?? ''}`.replace(/^0+/, '');
  let exp = Number(m[4] ?? 0) - (m[3]?.length ?? 0);
  if (digits === '') return { negative: false, digits: '0', exp: 0 };
  const trailing = /0+$/.exec(digits)?.[0].length ?? 0;
  digits = digits.slice(0, digits.length - trailing);
  exp += trailing;
  return { negative: m[1] === '-', digits, exp };
}

export interface SignResult {
  token: string;
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  expiresAt: string | null;
}

/** The batch path streams its own output; this is what is left to say. */
export interface SignBatchResult {
  batch: true;
  count: number;
}

/** RFC 7518 §3.2: an HS256 key must be at least as long as the hash output. */
export const MIN_SECRET_BYTES = 32;

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function registerSign(parent: Command, ctx: Ctx, runF = runSign): void {
  parent
    .command('sign')
    .description("Mint an identity token (HS256 JWT) for the profile's provider")
    .argument('[userId]', 'the signed-in user (same as --user-id); "-" or omitted with a pipe: read from stdin')
    .option('--user-id <id>', 'the signed-in user; always written as a string claim')
    .option('--email <email>', 'email claim')
    .option('--name <name>', 'name claim')
    .option('--phone <phone>', 'phone claim (Chatbase: phonenumber; OpenCX: phone), e.g. +14155550123')
    .option('--attr <k=v>', 'Chatbase custom attribute, or OpenCX customData (repeatable)', collect, [])
    .option('--stripe-account <label=cus_…>', 'Chatbase stripe account (repeatable)', collect, [])
    .option('--claim <k=v>', 'extra string claim (repeatable)', collect, [])
    .option('--claim-json <k=json>', 'extra typed claim, the value as JSON (repeatable)', collect, [])
    .option('--exp <dur|unix|none>', 'lifetime (30m, 1h, 24h, 7d, +1h), absolute Unix seconds, or none (default: 1h)')
    .option('--iat', 'include iat', true)
    .option('--no-iat', 'leave iat out (not for Replyful, which always has it)')
    .option('--allow-weak-secret', `sign even with a secret under ${MIN_SECRET_BYTES} bytes`, false)
    .option('--provider <name>', 'chatbase, replyful, generic (opencx asks the vendor)')
    .option('--secret <value>', SECRET_OPTION_HELP.secret)
    .option('--secret-stdin', SECRET_OPTION_HELP.secretStdin)
    .option('--secret-file <path>', SECRET_OPTION_HELP.secretFile)
    .option('--batch <file|->', 'sign one token per user id: a file (one id per line, or CSV with user_id/external_id/id, email, name) or - for stdin')
    .addHelpText(
      'after',
      `
Output: the token alone on stdout; --json prints {"token","header","payload","expiresAt"}.
With --batch: one token per line, or NDJSON {"userId","token"} with --json. The flags
apply to every row; a CSV email or name cell wins for its row, and --email/--name fill
the rows without one (on a plain id list, every token gets the same email and name).

Examples:
  $ chatid token sign --user-id user_123 --email ada@example.com
  $ chatid token sign user_123 --provider chatbase --attr plan=pro --exp 15m
  $ chatid token sign user_123 --provider replyful --claim plan=pro --claim-json seats=5
  $ chatid token sign user_123 | chatid token verify
  $ cut -d, -f1 users.csv | chatid token sign --batch - > tokens.txt`,
    )
    .action(async (userIdArg: string | undefined, flags: Record<string, unknown>, cmd: Command) => {
      const g = cmd.optsWithGlobals<{ json?: boolean }>();
      const opts = parseSignFlags(userIdArg, flags, Boolean(g.json));
      const result = await runF(opts, ctx);
      if ('batch' in result) return;
      emit(ctx, result, renderSign);
    });
}

/** argv → SignOptions; pure, so flag handling is tested without running anything. */
export function parseSignFlags(userIdArg: string | undefined, f: Record<string, unknown>, json: boolean): SignOptions {
  const userIdFlag = f.userId as string | undefined;
  if (userIdArg !== undefined && userIdFlag !== undefined && userIdArg !== userIdFlag) {
    throw new UsageError('ERR_TOKEN_USER_ID_TWICE', `Two different user ids: "${userIdArg}" and --user-id "${userIdFlag}".`, { hint: 'Give the user id once.' });
  }
  const pairs = (list: unknown, flag: string): Array<[string, string]> =>
    (list as string[]).map((kv) => {
      const i = kv.indexOf('=');
      if (i <= 0) throw new UsageError('ERR_TOKEN_FLAG_FORMAT', `${flag} "${kv}" is not key=value.`, { hint: `Example: ${flag} ${flag === '--stripe-account' ? 'default=cus_123' : flag === '--claim-json' ? 'seats=5' : 'plan=pro'}` });
      return [kv.slice(0, i), kv.slice(i + 1)];
    });
  const claims: Array<[string, unknown, string]> = pairs(f.claim, '--claim').map(([k, v]) => [k, v, '--claim']);
  for (const [k, v] of pairs(f.claimJson, '--claim-json')) {
    let value: unknown;
    try {
      value = JSON.parse(v) as unknown;
    } catch {
      throw new UsageError('ERR_TOKEN_CLAIM_JSON', `--claim-json ${k}=${v}: the value is not JSON.`, { hint: `Quote strings: --claim-json '${k}="text"'; numbers and objects as is: --claim-json seats=5.` });
    }
    // 1e999 parses to Infinity, which the token would carry as null.
    if (!finiteThroughout(value)) {
      throw new UsageError('ERR_TOKEN_CLAIM_JSON', `--claim-json ${k}=${v}: a number in it is too large for JSON (it would be signed as null).`, { hint: 'Write the number within ±1.7e308, or as a string.' });
    }
    const inexact = inexactInteger(v);
    if (inexact !== undefined) {
      throw new UsageError('ERR_TOKEN_CLAIM_JSON', `--claim-json ${k}=${v}: the integer ${inexact} has more digits than a JSON number keeps exactly (it would be signed as ${String(Number(inexact))}).`, {
        hint: `Write it as a string: --claim-json '${k}="${inexact}"'; integers up to ±${Number.MAX_SAFE_INTEGER} are always kept exactly.`,
      });
    }
    claims.push([k, value, '--claim-json']);
  }
  // `--email "$EMAIL"` with EMAIL unset would sign "email": "" as if it were the user's.
  for (const [flag, v] of [['--email', f.email], ['--name', f.name], ['--phone', f.phone]] as const) {
    if (typeof v === 'string' && v.trim() === '') {
      throw new UsageError('ERR_TOKEN_FLAG_EMPTY', `${flag} was given an empty value.`, { hint: `Give a value, or leave ${flag} out to sign no ${flag.slice(2)} claim (check the variable holding it is set).` });
    }
  }
  const opts: SignOptions = {
    provider: f.provider as string | undefined,
    secret: f.secret as string | undefined,
    secretStdin: f.secretStdin as boolean | undefined,
    secretFile: f.secretFile as string | undefined,
    userId: userIdFlag ?? userIdArg,
    email: f.email as string | undefined,
    name: f.name as string | undefined,
    phone: f.phone as string | undefined,
    attrs: pairs(f.attr, '--attr'),
    stripeAccounts: pairs(f.stripeAccount, '--stripe-account'),
    claims,
    iat: f.iat !== false,
    allowWeakSecret: Boolean(f.allowWeakSecret),
    json,
  };
  if (f.batch !== undefined) opts.batch = f.batch as string;
  if (f.exp !== undefined) opts.exp = f.exp as string;
  return opts;
}

/**
 * `--exp` → an expiry choice, given the signing time in Unix seconds. A bare number is an
 * absolute time; one in milliseconds or in the past is refused with the likely intent.
 * @example parseExp('15m', 1767225600) // { kind: 'in', seconds: 900 }
 */
export async function parseExp(text: string, now: number): Promise<ExpiryChoice> {
  const t = text.trim();
  if (t.toLowerCase() === 'none') return { kind: 'none' };
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (n >= 1e11) throw new UsageError('ERR_TOKEN_EXP', `--exp ${t} looks like milliseconds (EXP_IN_MILLISECONDS).`, { hint: `Unix time is in seconds: --exp ${Math.floor(n / 1000)}, or give a duration like 1h.` });
    if (n <= now) {
      throw new UsageError('ERR_TOKEN_EXP', `--exp ${t} is a Unix time in the past (${new Date(n * 1000).toISOString()}).`, {
        hint:
          n === 0
            ? 'A token must live at least a second: give a lifetime such as --exp 30s, 1h or 7d.'
            : n < 1e9 // a lifetime in seconds missing its unit; from 2001 on, a Unix time that has passed
              ? `Durations need a unit: --exp ${n}s, 1h, 7d.`
              : `Give a lifetime such as --exp 1h or 7d. A Unix time must be after ${now} (now).`,
      });
    }
    return { kind: 'at', unix: n };
  }
  const { parseDuration } = await import('../../core/duration.js');
  const ms = parseDuration(t);
  if (ms !== undefined && ms < 1000) {
    throw new UsageError('ERR_TOKEN_EXP', `--exp "${text}" is shorter than a second; the token would be expired before anyone used it.`, { hint: 'Give a lifetime such as --exp 30s, 1h or 7d.' });
  }
  if (ms === undefined) {
    throw new UsageError('ERR_TOKEN_EXP', `--exp "${text}" is not a duration, Unix seconds or none.`, { hint: 'Examples: --exp 30m, --exp 1h, --exp 7d, --exp 1767229200, --exp none.' });
  }
  const seconds = Math.round(ms / 1000);
  // Past 9999-12-31 the expiry is no date at all (and beyond year 275760 it crashes toISOString).
  if (now + seconds > MAX_EXP_UNIX) {
    throw new UsageError('ERR_TOKEN_EXP', `--exp "${text}" ends after the year 9999.`, { hint: 'Give a lifetime in minutes, hours or days (Chatbase asks for under 24h), or --exp none.' });
  }
  return { kind: 'in', seconds };
}

/** The lifetime of a token when --exp is not given. */
const DEFAULT_EXP = '1h';

/** 9999-12-31T23:59:59Z: the last expiry `--exp` accepts. */
const MAX_EXP_UNIX = 253_402_300_799;

export async function runSign(opts: SignOptions, ctx: Ctx): Promise<SignResult | SignBatchResult> {
  // The user id given as `-`, or left out with stdin a pipe, is read from stdin (cli.md §4).
  const idFromStdin = opts.batch === undefined && (opts.userId === '-' || (opts.userId === undefined && !ctx.io.stdin.isTTY));
  if ((opts.batch === '-' || (idFromStdin && opts.userId === '-')) && (opts.secretStdin || opts.secretFile === '-')) {
    throw new UsageError('ERR_STDIN_TWICE', `Both the ${opts.batch === '-' ? 'batch ids' : 'user id'} and the secret would come from stdin.`, { hint: 'Pass the secret with --secret-file <path> or CHATID_SECRET.' });
  }
  const { provider: anyProvider, secret } = await resolveTokenSettings(ctx, opts, { needSecret: true });
  if (anyProvider === 'opencx') {
    refuseOpencxFlags(opts);
    const { signOpencx } = await import('./sign-opencx.js');
    if (!opts.email) throw new UsageError('ERR_TOKEN_EMAIL_REQUIRED', 'OpenCX identifies contacts by email.', { hint: 'Pass --email <address> (and optionally --name).' });
    await signOpencx({ email: opts.email, name: opts.name, phone: opts.phone, customData: opencxCustomData(opts.attrs), json: opts.json }, ctx);
    return { batch: true, count: 1 };
  }
  const provider = asJwtProvider(anyProvider, 'sign');
  const { parseSecretKey } = await import('../../core/secret-key.js');
  const key = parseSecretKey(secret).bytes;
  if (key.length < MIN_SECRET_BYTES && !opts.allowWeakSecret) {
    throw new UsageError('ERR_SECRET_WEAK', `The secret is ${key.length} bytes; HS256 signing keys need at least ${MIN_SECRET_BYTES} (RFC 7518 §3.2).`, {
      hint: 'Use the full secret from the vendor dashboard, make a strong one with `chatid secret rotate --generate`, or pass --allow-weak-secret for a throwaway test.',
    });
  }
  const now = Math.floor(ctx.clock.now().getTime() / 1000);
  const exp = await parseExp(opts.exp ?? DEFAULT_EXP, now);
  if (opts.batch !== undefined) return signBatch(opts, ctx, provider, key, now, exp);

  // With the secret on stdin, an id left out cannot come from there too.
  const userId = idFromStdin && !opts.secretStdin && opts.secretFile !== '-' ? await readUserIdFromStdin(ctx, { command: 'token sign', code: 'ERR_TOKEN' }) : opts.userId;
  if (userId === undefined) {
    throw new UsageError('ERR_TOKEN_USER_ID_REQUIRED', 'No user id.', { hint: 'Pass it: `chatid token sign user_123` or --user-id user_123 (or --batch for many).' });
  }
  checkUserId(ctx, userId);
  const { buildTokenClaims } = await import('../../core/jwt-claims.js');
  const payload = buildTokenClaims({ ...claimFields(opts), provider, userId, now, exp, iat: opts.iat });
  warnLifetime(ctx, provider, exp, now);
  // node:crypto, not jose: same bytes (pinned by test), without loading jose and WebCrypto at start-up.
  const [{ HS256_HEADER }, { signHs256Sync }] = await Promise.all([import('../../core/jwt-sign.js'), import('../../core/jwt-sign-sync.js')]);
  const token = signHs256Sync(key, payload);
  return { token, header: { ...HS256_HEADER }, payload, expiresAt: typeof payload.exp === 'number' ? new Date(payload.exp * 1000).toISOString() : null };
}

/** --attr k=v as OpenCX's `customData` (vendors.md §6), each key once; undefined without --attr. */
function opencxCustomData(attrs: ReadonlyArray<readonly [string, string]>): Record<string, string> | undefined {
  if (attrs.length === 0) return undefined;
  const seen = new Set<string>();
  for (const [k] of attrs) {
    if (seen.has(k)) throw new UsageError('ERR_TOKEN_CLAIM_TWICE', `--attr ${k} is given twice.`, { hint: 'Give each attribute once.' });
    seen.add(k);
  }
  // fromEntries defines own keys, so even "__proto__" stays a key of the JSON body.
  return Object.fromEntries(attrs);
}

/**
 * OpenCX makes the token itself from what authenticate-user takes (email, name, phone,
 * customData): a user id, claims, a lifetime or a batch would be dropped without a word, so
 * they are refused.
 */
function refuseOpencxFlags(opts: SignOptions): void {
  const unused = [
    opts.userId !== undefined && 'a user id',
    opts.batch !== undefined && '--batch',
    opts.exp !== undefined && '--exp',
    !opts.iat && '--no-iat',
    opts.stripeAccounts.length > 0 && '--stripe-account',
    opts.claims.length > 0 && '--claim/--claim-json',
  ].filter((x): x is string => x !== false);
  if (unused.length === 0) return;
  throw new UsageError('ERR_TOKEN_OPENCX_FLAGS', `OpenCX makes the contact token itself, from --email, --name, --phone and --attr (its customData) only: ${unused.join(', ')} cannot be used with it.`, {
    hint: unused.includes('--batch')
      ? 'Run `chatid token sign --email <address>` once per contact (OpenCX answers one contact per request).'
      : `Drop ${unused.join(', ')}; OpenCX decides the token's claims and lifetime.`,
  });
}

function claimFields(opts: SignOptions): { email?: string; name?: string; phone?: string; attrs: Array<[string, string]>; stripeAccounts: Array<[string, string]>; claims: Array<[string, unknown, string]> } {
  const o: ReturnType<typeof claimFields> = { attrs: opts.attrs, stripeAccounts: opts.stripeAccounts, claims: opts.claims };
  if (opts.email !== undefined) o.email = opts.email;
  if (opts.name !== undefined) o.name = opts.name;
  if (opts.phone !== undefined) o.phone = opts.phone;
  return o;
}

function checkUserId(ctx: Ctx, id: string): void {
  if (id === '') throw new UsageError('ERR_TOKEN_USER_ID_EMPTY', 'The user id is empty.', { hint: 'Pass the id your app uses for this user.' });
  if (id.trim() !== id) warn(ctx, `the user id ${quoteVisible(id)} has leading or trailing whitespace; vendors match ids byte for byte.`);
}

function warnLifetime(ctx: Ctx, provider: JwtProvider, exp: ExpiryChoice, now: number): void {
  const lifetime = exp.kind === 'in' ? exp.seconds : exp.kind === 'at' ? exp.unix - now : Number.POSITIVE_INFINITY;
  if (provider === 'chatbase' && lifetime > 24 * 3600) warn(ctx, 'Chatbase asks for token lifetimes under 24h; this token lives longer.');
  if (exp.kind === 'none') warn(ctx, 'the token has no exp and never expires; anyone who copies it can use it forever.');
}

async function signBatch(opts: SignOptions, ctx: Ctx, provider: JwtProvider, key: Uint8Array, now: number, exp: ExpiryChoice): Promise<SignBatchResult> {
  if (opts.userId !== undefined) {
    throw new UsageError('ERR_TOKEN_BATCH_USER_ID', '--batch takes the user ids from its input; --user-id cannot be combined with it.', { hint: 'Drop --user-id, or drop --batch to sign one token.' });
  }
  const [{ buildTokenClaims, ID_CLAIM }, { hs256JsonSigner }, batch] = await Promise.all([
    import('../../core/jwt-claims.js'),
    import('../../core/jwt-sign-sync.js'),
    import('../../cli/batch.js'),
  ]);
  warnLifetime(ctx, provider, exp, now);
  const fields = claimFields(opts);
  // Validate the shared claims once, before the first row (a bad --claim fails fast), and
  // keep them as JSON text: each row only adds its id, email and name in front, which gives
  // exactly JSON.stringify of the full payload (pinned by test) without an object per row.
  const template = buildTokenClaims({ ...fields, provider, userId: '', now, exp, iat: opts.iat });
  const idClaim = ID_CLAIM[provider];
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(template)) if (k !== idClaim && k !== 'email' && k !== 'name') rest[k] = v;
  const restJson = JSON.stringify(rest).slice(1, -1);
  const tail = restJson === '' ? '}' : `,${restJson}}`;
  const head = `{${JSON.stringify(idClaim)}:`;
  const clash = ['email', 'name'].filter((k) => Object.prototype.hasOwnProperty.call(rest, k));
  const sign = hs256JsonSigner(key);
  const input = await batch.openBatchInput(ctx, opts.batch!);
  const out = new batch.BatchWriter(ctx.io.stdout);
  let count = 0;
  // JSON.stringify writes the ids until the input holds a character jsonText escapes.
  let quote = JSON.stringify;
  const onJsonUnsafe = () => (quote = jsonString);
  // On a bad line or Ctrl-C, what was computed before it is still written, in order.
  try {
    for await (const rows of batch.readBatchChunks(input, { signal: ctx.signal, onJsonUnsafe, ...batch.readsColumns(ctx, 'token sign --batch', ['email', 'name']) })) {
      for (const r of rows) {
        const email = r.email ?? fields.email;
        const name = r.name ?? fields.name;
        if (clash.length && (r.email !== undefined || r.name !== undefined)) {
          throw new UsageError('ERR_TOKEN_CLAIM_TWICE', `Batch line ${r.line} sets ${clash.join('/')}, which a --claim also sets.`, { hint: 'Drop the --claim, or the column.' });
        }
        let json = head + JSON.stringify(r.userId);
        if (email !== undefined) json += `,"email":${JSON.stringify(email)}`;
        if (name !== undefined) json += `,"name":${JSON.stringify(name)}`;
        const token = sign(json + tail);
        const p = out.write(opts.json ? `{"userId":${quote(r.userId)},"token":"${token}"}\n` : `${token}\n`);
        count++;
        if (p) await p;
      }
    }
  } finally {
    await out.end();
  }
  info(ctx, `signed ${count} token${count === 1 ? '' : 's'}`);
  return { batch: true, count };
}

/** Human output: the token alone, so `$(chatid token sign …)` works. */
export function renderSign(r: SignResult): string {
  return `${r.token}\n`;
}
