import { createHmac, timingSafeEqual } from 'node:crypto';
import { ID_CLAIM, type JwtProvider } from './jwt-claims.js';
import { isPlainObject, parseCompactJws, type ParsedJwt, parseJwt } from './jwt-parse.js';
import { ago, iso } from './jwt-time.js';

/** One problem or remark, as `token verify --json` prints it (../shared/spec/cli.md §6). */
export interface JwtIssue {
  code: string;
  message: string;
}

export type JwtErrorCode =
  | 'MALFORMED'
  | 'ALG_NOT_ALLOWED'
  | 'BAD_SIGNATURE'
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'IAT_IN_FUTURE'
  | 'MISSING_USER_ID'
  | 'USER_ID_NOT_STRING'
  | 'PAYLOAD_NOT_OBJECT';

/** A key the token may be signed with; `label` is reported as `secret` when it matches. */
export interface VerifyKey {
  label: 'current' | 'previous';
  bytes: Uint8Array;
}

export interface VerifyJwtInput {
  token: string;
  /** Tried in order; the first that verifies the MAC wins. */
  keys: readonly VerifyKey[];
  provider: JwtProvider;
  /** The moment to verify at, in Unix seconds (the caller's clock or `--at`). */
  now: number;
  leewaySeconds: number;
  /** `now` is a moment the user chose (`--at`), not this machine's clock: messages say "the moment checked". */
  momentChosen?: boolean;
}

/** The checks of `token verify`, in the order its human output lists them. */
export const JWT_CHECKS = ['form', 'alg', 'signature', 'time', 'userId'] as const;
export type JwtCheck = (typeof JWT_CHECKS)[number];
/** `skip`: not checked, because an earlier failure made it meaningless (no header, no MAC with a refused alg). */
export type JwtCheckStatus = 'pass' | 'fail' | 'skip';

export interface VerifyJwtResult {
  valid: boolean;
  /** The decoded header, or null when the token could not be decoded that far. */
  header: Record<string, unknown> | null;
  payload: unknown;
  secret: 'current' | 'previous' | null;
  errors: JwtIssue[];
  warnings: JwtIssue[];
  /** Which check each error belongs to (an error code alone does not say: MALFORMED is also a bad `exp` type). */
  checks: Record<JwtCheck, JwtCheckStatus>;
}

const TIME_CODES: ReadonlySet<string> = new Set(['EXPIRED', 'NOT_YET_VALID', 'IAT_IN_FUTURE']);

/** Chatbase asks for lifetimes under 24 h (../shared/spec/vendors.md §2.1). */
const CHATBASE_MAX_LIFETIME = 24 * 3600;

/**
 * Verify an HS256 user token strictly and report every error, not just the first:
 * strict parse, `alg` exactly HS256 (no none, HS384/512, RS256…), no `crit` or `b64`
 * extensions, the MAC against each key, `exp`/`nbf`/`iat` with leeway, and the provider's
 * id claim. Time is a parameter; nothing here reads a clock. `valid` means no errors
 * (warnings do not invalidate).
 * @example verifyJwt({ token, keys: [{ label: 'current', bytes: key }], provider: 'generic', now: 1767225600, leewaySeconds: 60 }).valid
 */
export function verifyJwt(o: VerifyJwtInput): VerifyJwtResult {
  const parsed = parseJwt(o.token);
  if (!parsed.ok) {
    return {
      valid: false,
      header: parsed.header ?? null,
      payload: parsed.payload ?? null,
      secret: null,
      errors: [{ code: 'MALFORMED', message: `Malformed token: ${parsed.message}.` }],
      warnings: [],
      checks: { form: 'fail', alg: 'skip', signature: 'skip', time: 'skip', userId: 'skip' },
    };
  }
  const { jwt } = parsed;
  const errors: JwtIssue[] = [];
  const checks: Record<JwtCheck, JwtCheckStatus> = { form: 'pass', alg: 'pass', signature: 'pass', time: 'pass', userId: 'pass' };
  let secret: VerifyJwtResult['secret'] = null;
  const headerProblem = checkHeader(jwt.header);
  if (headerProblem) {
    errors.push(headerProblem);
    checks[headerProblem.code === 'ALG_NOT_ALLOWED' ? 'alg' : 'form'] = 'fail';
    checks.signature = 'skip';
  } else {
    secret = o.keys.find((k) => macMatches(jwt, k.bytes))?.label ?? null;
    if (secret === null) {
      checks.signature = 'fail';
      errors.push({
        code: 'BAD_SIGNATURE',
        message:
          jwt.signature.length !== 32
            ? `The signature is ${jwt.signature.length} bytes; HS256 makes 32.`
            : `The signature does not match the ${o.keys.length > 1 ? 'current or previous secret' : 'secret'}.`,
      });
    }
  }
  const claims = checkClaims(jwt.payload, o.provider, o.now, o.leewaySeconds, o.momentChosen);
  errors.push(...claims.errors);
  for (const e of claims.errors) {
    if (e.code === 'PAYLOAD_NOT_OBJECT') Object.assign(checks, { form: 'fail', time: 'skip', userId: 'skip' });
    // checkClaims reports MALFORMED only for an exp/nbf/iat that is not a number.
    else if (e.code === 'MALFORMED' || TIME_CODES.has(e.code)) checks.time = 'fail';
    else if (e.code === 'MISSING_USER_ID' || e.code === 'USER_ID_NOT_STRING') checks.userId = 'fail';
  }
  const warnings = claims.warnings;
  for (const [part, names] of [['header', jwt.duplicates.header], ['payload', jwt.duplicates.payload]] as const) {
    if (names.length === 0) continue;
    const list = names.map((n) => JSON.stringify(n)).join(', ');
    warnings.push({
      code: 'DUPLICATE_MEMBER',
      message: `The ${part} holds ${list} more than once. chatid reads the last value, as RFC 7519 §4 allows, but a verifier that reads the first sees another ${part === 'header' ? 'header' : 'claim'}: write each name once.`,
    });
  }
  if (secret === 'previous') {
    warnings.push({ code: 'PREVIOUS_SECRET', message: 'Verified with the previous secret, which stops working when its grace period ends.' });
  }
  return { valid: errors.length === 0, header: jwt.header, payload: jwt.payload, secret, errors, warnings, checks };
}

/** ALG_NOT_ALLOWED / MALFORMED for a header chatid must not accept; undefined when fine. */
function checkHeader(header: Record<string, unknown>): JwtIssue | undefined {
  const alg = header.alg;
  if (alg !== 'HS256') {
    const shown = typeof alg === 'string' ? `"${alg}"` : alg === undefined ? 'missing' : JSON.stringify(alg);
    let why = 'only HS256 is accepted';
    if (typeof alg === 'string' && alg.toLowerCase() === 'none') why = 'an unsigned token proves nothing (RFC 8725 §3.1); only HS256 is accepted';
    else if (typeof alg === 'string' && /^(RS|PS|ES)\d+$|^EdDSA$/i.test(alg)) why = 'asymmetric algorithms are refused, which also stops RS256→HS256 key confusion; only HS256 is accepted';
    else if (typeof alg === 'string' && /^HS(384|512)$/i.test(alg)) why = 'the vendors accept HS256 only';
    return { code: 'ALG_NOT_ALLOWED', message: `The header alg is ${shown}: ${why}.` };
  }
  if (header.crit !== undefined) {
    return { code: 'MALFORMED', message: `The header has "crit" ${JSON.stringify(header.crit)}: chatid understands no critical extensions, and RFC 7515 §4.1.11 requires rejecting the token.` };
  }
  if (header.b64 !== undefined) {
    return { code: 'MALFORMED', message: 'The header has "b64" (RFC 7797 unencoded payload), which user tokens never use.' };
  }
  return undefined;
}

/**
 * Whether the MAC of `jwt` is HMAC-SHA256 under `key` (constant-time compare).
 * @example macMatches(parsed, key) // true or false
 */
export function macMatches(jwt: Pick<ParsedJwt, 'signingInput' | 'signature'>, key: Uint8Array): boolean {
  if (jwt.signature.length !== 32 || key.length === 0) return false;
  const mac = createHmac('sha256', key).update(jwt.signingInput, 'latin1').digest();
  return timingSafeEqual(mac, jwt.signature);
}

/**
 * The claim checks of `token verify` on their own, so the doctor can re-run them with other
 * inputs (a larger leeway, a scaled exp) to prove a cause.
 * @example checkClaims({ sub: 'u1', exp: 10 }, 'generic', 100, 60).errors[0].code // 'EXPIRED'
 */
export function checkClaims(payload: unknown, provider: JwtProvider, now: number, leeway: number, momentChosen = false): { errors: JwtIssue[]; warnings: JwtIssue[] } {
  const before = (s: number): string => `${ago(s)} ${momentChosen ? 'before the moment checked' : 'ago'}`;
  const after = (s: number, fromNow: string): string => `${ago(s)} ${momentChosen ? 'after the moment checked' : fromNow}`;
  const errors: JwtIssue[] = [];
  const warnings: JwtIssue[] = [];
  if (!isPlainObject(payload)) {
    const kind = Array.isArray(payload) ? 'an array' : payload === null ? 'null' : `a ${typeof payload}`;
    errors.push({ code: 'PAYLOAD_NOT_OBJECT', message: `The payload is ${kind}; a JWT claims set is a JSON object.` });
    return { errors, warnings };
  }
  const times: Record<'exp' | 'nbf' | 'iat', number | undefined> = { exp: undefined, nbf: undefined, iat: undefined };
  for (const k of ['exp', 'nbf', 'iat'] as const) {
    const v = payload[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) errors.push({ code: 'MALFORMED', message: timeClaimProblem(k, v) });
    else times[k] = v;
  }
  if (times.exp !== undefined && now - leeway >= times.exp) {
    errors.push({ code: 'EXPIRED', message: `The token expired at ${iso(times.exp)} (${before(now - times.exp)}; leeway ${leeway}s).` });
  }
  if (times.nbf !== undefined && now + leeway < times.nbf) {
    errors.push({ code: 'NOT_YET_VALID', message: `The token is not valid before ${iso(times.nbf)} (${after(times.nbf - now, 'from now')}; leeway ${leeway}s).` });
  }
  if (times.iat !== undefined && now + leeway < times.iat) {
    errors.push({ code: 'IAT_IN_FUTURE', message: `The token says it was issued at ${iso(times.iat)}, ${after(times.iat - now, 'in the future')} (leeway ${leeway}s).` });
  }

  const idClaims = provider === 'chatbase' ? ['user_id', 'sub'] : [ID_CLAIM[provider]];
  // Chatbase reads user_id first and falls back to sub: judge only the claim it will use.
  const present = idClaims.filter((k) => payload[k] !== undefined && payload[k] !== null).slice(0, 1);
  if (present.length === 0) {
    // `"user_id": null and no "sub" claim`: a null id is no id, said as it is written.
    const nulls = idClaims.filter((k) => payload[k] === null).map((k) => `"${k}": null`);
    const absent = idClaims.filter((k) => payload[k] === undefined).map((k) => `"${k}"`);
    const has = [...nulls, ...(absent.length ? [`no ${absent.join(' or ')} claim`] : [])].join(' and ');
    errors.push({ code: 'MISSING_USER_ID', message: `The payload has ${has}, which ${label(provider)} needs to know the user.` });
  }
  for (const k of present) {
    const v = payload[k];
    if (typeof v !== 'string') {
      errors.push({ code: 'USER_ID_NOT_STRING', message: userIdTypeProblem(k, v) });
    } else if (v.trim() === '') {
      errors.push({ code: 'MISSING_USER_ID', message: `The ${k} claim is an empty string.` });
    } else if (v !== v.trim()) {
      warnings.push({ code: 'USER_ID_WHITESPACE', message: `The ${k} claim ${JSON.stringify(v)} has leading or trailing whitespace; vendors match ids byte for byte.` });
    }
  }
  if (provider === 'chatbase') {
    const u = payload.user_id;
    const s = payload.sub;
    // The id is taken from sub (as the sandbox does), but what Chatbase makes of a null
    // user_id is undocumented: in a contact update, null deletes the field.
    if (u === null && typeof s === 'string') {
      warnings.push({ code: 'USER_ID_NULL', message: `user_id is null, so the id is taken from sub ${JSON.stringify(s)} (as the sandbox does); Chatbase does not document what it makes of a null user_id, and in a contact update null deletes a field. Leave user_id out, or set it to the same id as sub.` });
    }
    if (typeof u === 'string' && typeof s === 'string' && u !== s) {
      warnings.push({ code: 'USER_ID_SUB_DIFFER', message: `user_id ${JSON.stringify(u)} and sub ${JSON.stringify(s)} differ; Chatbase does not document which wins (the sandbox uses user_id).` });
    }
    if (times.exp !== undefined && times.exp - now > CHATBASE_MAX_LIFETIME) {
      warnings.push({ code: 'EXP_OVER_24H', message: `exp is ${ago(times.exp - now)} ahead; Chatbase asks for lifetimes under 24h.` });
    }
  }
  warnings.push(...contactClaimProblems(payload, provider));
  if (times.exp === undefined && payload.exp === undefined) {
    warnings.push({ code: 'NO_EXP', message: 'The token has no exp: it never expires, so a leaked token works forever.' });
  }
  return { errors, warnings };
}

/**
 * The contact claims a vendor reads that it cannot use as written (vendors.md §2.1, §5.1): the
 * token still verifies, but the field is dropped or the contact sync fails, without a word from
 * the widget. Chatbase: null deletes a field, so it is fine.
 */
function contactClaimProblems(payload: Record<string, unknown>, provider: JwtProvider): JwtIssue[] {
  if (provider === 'generic') return [];
  const out: JwtIssue[] = [];
  const vendor = label(provider);
  const orNull = provider === 'chatbase' ? ' (or null to delete it)' : '';
  const wrong = (k: string, want: string): void => {
    out.push({ code: 'CLAIM_TYPE', message: `The ${k} claim is ${jsonType(payload[k])}; ${vendor} expects ${want}${orNull}.` });
  };
  const present = (k: string): boolean => payload[k] !== undefined && !(provider === 'chatbase' && payload[k] === null);
  for (const k of provider === 'chatbase' ? ['email', 'name', 'phonenumber'] : ['email', 'name']) {
    if (present(k) && typeof payload[k] !== 'string') wrong(k, 'a string');
  }
  if (provider !== 'chatbase') return out;
  if (present('custom_attributes') && !isPlainObject(payload.custom_attributes)) wrong('custom_attributes', 'an object of attribute names to values');
  const accounts = payload.stripe_accounts;
  const account = (a: unknown): boolean => isPlainObject(a) && typeof a.label === 'string' && typeof a.stripe_id === 'string';
  if (present('stripe_accounts') && !(Array.isArray(accounts) && accounts.every(account))) wrong('stripe_accounts', 'an array of {"label","stripe_id"} strings');
  for (const k of ['phone', 'phone_number', 'phoneNumber']) {
    if (payload.phonenumber === undefined && payload[k] !== undefined) {
      out.push({ code: 'CLAIM_NAME', message: `The ${k} claim is not read by Chatbase, whose claim is phonenumber (one word, lowercase).` });
      break;
    }
  }
  return out;
}

/** "a number", "an array": the JSON type of a value, for messages. */
function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (isPlainObject(v)) return 'an object';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** Why an exp/nbf/iat value is not a NumericDate, and what to write instead. */
function timeClaimProblem(k: string, v: unknown): string {
  const want = 'a JSON number of seconds since 1970 (NumericDate)';
  if (v === null) return `The ${k} claim is null; it must be ${want}, or be left out.`;
  // JSON.parse reads 1e400 as Infinity; JSON.stringify would print it as null.
  if (typeof v === 'number') return `The ${k} claim is a number out of range (it reads as ${v > 0 ? '' : '-'}Infinity); it must be ${want}.`;
  if (typeof v === 'string') {
    const t = v.trim();
    if (/^-?\d+(\.\d+)?$/.test(t)) return `The ${k} claim is the string ${JSON.stringify(v)}; it must be ${want}, not a string: write ${t} without quotes.`;
    // Only a date alone or a time with its zone: Date.parse reads a zoneless time as local time.
    const ms = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/i.test(t) ? Date.parse(t) : Number.NaN;
    if (!Number.isNaN(ms)) return `The ${k} claim is the date string ${JSON.stringify(v)}; it must be ${want}, here ${Math.floor(ms / 1000)}, without quotes.`;
    return `The ${k} claim is the string ${JSON.stringify(shorten(v))}; it must be ${want}, not a string.`;
  }
  return `The ${k} claim is ${kindOf(v)}; it must be ${want}.`;
}

/** Why a user id claim is not a string; an example only when it is sure to be the same id. */
function userIdTypeProblem(k: string, v: unknown): string {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return `The ${k} claim is the number ${v}; it must be a string (e.g. "${v}").`;
    if (Number.isInteger(v)) {
      return `The ${k} claim is a number beyond 2^53 that reads as ${String(v)}: JSON readers (JavaScript, the vendor's) keep about 16 digits, so the id's last digits are already lost. Send the id as a string, quoted where the token is made from the stored id, not from this number.`;
    }
    return `The ${k} claim is the number ${String(v)}; it must be a string holding the id.`;
  }
  if (isPlainObject(v) && Object.keys(v).length === 1 && typeof v.$oid === 'string') {
    return `The ${k} claim is a MongoDB ObjectId in extended JSON ({"$oid": …}); it must be a string (e.g. ${JSON.stringify(v.$oid)}: the ObjectId's hex string, from id.toString() or str(id)).`;
  }
  if (isPlainObject(v)) return `The ${k} claim is an object: ${shorten(JSON.stringify(v))}; it must be a string holding the id itself.`;
  return `The ${k} claim is ${kindOf(v)}; it must be a string holding the id.`;
}

/** "an array: [1,2]", "the boolean true": a value named by its JSON type, shortened. */
function kindOf(v: unknown): string {
  if (Array.isArray(v)) return `an array: ${shorten(JSON.stringify(v))}`;
  if (isPlainObject(v)) return `an object: ${shorten(JSON.stringify(v))}`;
  return `the ${typeof v} ${shorten(JSON.stringify(v) ?? String(v))}`;
}

function shorten(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function label(p: JwtProvider): string {
  return p === 'chatbase' ? 'Chatbase' : p === 'replyful' ? 'Replyful' : 'a generic verifier';
}

/**
 * Whether a compact JWS (any payload bytes, not only JSON claims) is a valid HS256 JWS under
 * `key`: strict parse, alg exactly HS256, no crit/b64, the MAC. The Wycheproof JWS vectors
 * run against this.
 * @example verifyCompactHs256('eyJhbGciOiJIUzI1NiJ9.Zm9v.…', key) // true or false
 */
export function verifyCompactHs256(token: string, key: Uint8Array): boolean {
  const p = parseCompactJws(token);
  return p.ok && checkHeader(p.jws.header) === undefined && macMatches(p.jws, key);
}
