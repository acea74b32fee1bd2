import { ID_CLAIM, type JwtProvider } from './jwt-claims.js';
import { isPlainObject, parseJwt } from './jwt-parse.js';
import { ago, iso } from './jwt-time.js';
import { checkClaims, macMatches, type JwtIssue, type VerifyJwtInput, type VerifyJwtResult, verifyJwt } from './jwt-verify.js';
import { overriddenSecretFix, type SecretCandidate, type SecretCandidateInput, secretCandidates } from './secret-candidates.js';

/** A proven reason for a failure (or a warning), with the next step in its message. */
export type JwtCause = JwtIssue;

/** How far ahead a signer's clock may be for CLOCK_SKEW to be the explanation (beyond the leeway). */
export const CLOCK_SKEW_WINDOW_SECONDS = 600;

export interface DiagnoseJwtInput {
  /** Verification settings used for the token (keys, provider, time, leeway). */
  verify: Omit<VerifyJwtInput, 'token'>;
  /** The token exactly as the user gave it. */
  token: string;
  /** verifyJwt's answer for `token` with `verify`. */
  result: VerifyJwtResult;
  /** Secrets to try when the MAC fails: variants of the configured one, previous, other profiles. */
  secrets: SecretCandidateInput;
  /**
   * True when `verify.now` is a moment the user chose (`--at`), not this machine's clock: the
   * clocks of signer and verifier are then not being compared, so CLOCK_SKEW is never claimed.
   */
  momentChosen?: boolean;
}

/**
 * Why a token failed, proven by recomputation (../shared/spec/cli.md §6): every cause here
 * was checked by re-verifying a repaired token, recomputing the MAC with another key, or
 * re-running the claim checks with the suspected mistake undone. Nothing is guessed; an
 * empty list is an honest "no known cause".
 * @example diagnoseJwt({ verify, token: `Bearer ${jwt}`, result, secrets: { secret } })[0].code // 'BEARER_PREFIX'
 */
export function diagnoseJwt(o: DiagnoseJwtInput): JwtCause[] {
  const causes: JwtCause[] = [];
  const codes = new Set(o.result.errors.map((e) => e.code));

  if (codes.has('MALFORMED') && o.result.header === null) {
    causes.push(...wrappedToken(o));
    return causes;
  }
  const parsed = parseJwt(o.token);
  if (!parsed.ok) return causes;
  const { jwt } = parsed;
  const payload = jwt.payload;

  if (codes.has('BAD_SIGNATURE') && jwt.signature.length === 32) {
    for (const c of secretCandidates(o.secrets)) {
      if (!macMatches(jwt, c.bytes)) continue;
      causes.push({ code: c.cause, message: secretCauseMessage(c, o.verify.keys[0]?.bytes.length ?? 0) });
    }
  }
  if (o.result.secret === 'previous') {
    causes.push({
      code: 'SIGNED_WITH_PREVIOUS_SECRET',
      message: 'The token was signed with the previous secret: it passes only during the grace period. Sign new tokens with the current secret.',
    });
  }

  if (isPlainObject(payload)) {
    const { provider, now, leewaySeconds } = o.verify;
    // CLOCK_SKEW: iat is the signer's clock reading when it signed, and signing happened before
    // now, so an iat ahead of this machine's clock proves the signer's clock is ahead by at least
    // the difference. Nothing else proves it: tokens expire on their own, and an nbf may be set
    // ahead on purpose. Recomputed at the signer's time, the errors it explains disappear.
    const iat = payload.iat;
    if (!o.momentChosen && codes.has('IAT_IN_FUTURE') && typeof iat === 'number' && iat - now <= leewaySeconds + CLOCK_SKEW_WINDOW_SECONDS) {
      const atSigner = new Set(checkClaims(payload, provider, iat, leewaySeconds).errors.map((e) => e.code));
      const explained = ['IAT_IN_FUTURE', 'NOT_YET_VALID'].filter((c) => codes.has(c) && !atSigner.has(c));
      // "--leeway accepts it" only when the skew is all that is wrong with the token.
      const all = [...codes].every((c) => explained.includes(c));
      if (explained.includes('IAT_IN_FUTURE')) causes.push({ code: 'CLOCK_SKEW', message: skewMessage(iat, now, explained.includes('NOT_YET_VALID'), all) });
    }
    // EXP_IN_MILLISECONDS: read as milliseconds, the NumericDate lands near now.
    for (const k of ['exp', 'iat', 'nbf'] as const) {
      const v = payload[k];
      if (typeof v !== 'number' || v < 1e11) continue;
      const asSeconds = v / 1000;
      if (Math.abs(asSeconds - now) > 366 * 86400) continue;
      causes.push({
        code: 'EXP_IN_MILLISECONDS',
        message: `${k} is ${v}, a time in milliseconds: read as seconds it is ${iso(v)}, but ${v}/1000 is ${iso(asSeconds)}. NumericDate is seconds: use Math.floor(Date.now() / 1000) (or jsonwebtoken's expiresIn: '1h').`,
      });
    }
    // WRONG_PROVIDER_CLAIM: the id is there, under another vendor's claim name.
    if (codes.has('MISSING_USER_ID')) causes.push(...wrongClaim(payload, provider));
  }
  return causes;
}

/** BEARER_PREFIX / QUOTED_TOKEN: strip what was copied along with the token and re-verify. */
function wrappedToken(o: DiagnoseJwtInput): JwtCause[] {
  let t = o.token.trim();
  const found: JwtCause[] = [];
  for (let round = 0; round < 3; round++) {
    // The whole header line, as copied from DevTools or a curl -H argument.
    const header = /^authorization[ \t]*:[ \t]*(bearer[\s:]+)?/i.exec(t);
    const bearer = /^bearer[\s:]+/i.exec(t);
    const quoted = /^(["'`])(.*)\1$/s.exec(t);
    if (header) {
      t = t.slice(header[0].length).trim();
      const shown = `Authorization: ${header[1] ? 'Bearer ' : ''}`;
      found.push({ code: 'BEARER_PREFIX', message: `The token starts with "${shown}", the HTTP header it travels in, not part of the token. Pass only the eyJ… part.` });
    } else if (bearer) {
      t = t.slice(bearer[0].length).trim();
      found.push({ code: 'BEARER_PREFIX', message: 'The token starts with "Bearer ", which belongs in an Authorization header, not in the token. Pass only the eyJ… part.' });
    } else if (quoted) {
      t = quoted[2]!.replace(/\\"/g, '"').trim();
      found.push({ code: 'QUOTED_TOKEN', message: 'The token is wrapped in quotes (copied from JSON or a .env file). Pass it without the quotes.' });
    } else break;
  }
  if (found.length === 0 || !parseJwt(t).ok) return [];
  const again = verifyJwt({ ...o.verify, token: t });
  const verdict = again.valid
    ? 'Without it the token verifies.'
    : `Without it the token still fails: ${again.errors.map((e) => e.code).join(', ')}.`;
  const last = found[found.length - 1]!;
  last.message = `${last.message} ${verdict}`;
  return [...found, ...diagnoseJwt({ ...o, token: t, result: again })];
}

/** `currentLength`: the bytes of the secret checked, to tell which copy holds the extra whitespace. */
function secretCauseMessage(c: SecretCandidate, currentLength: number): string {
  const { label, profile } = c;
  switch (c.cause) {
    case 'SIGNED_WITH_PREVIOUS_SECRET':
      return c.graceEnded !== undefined
        ? `The token was signed with ${label}, so it is no longer accepted: the signer still uses the secret from before the rotation. Give it the current secret (\`chatid secret show\` compares fingerprints).`
        : "The token was signed with the profile's previous secret, which this check does not accept because the secret came from a flag or CHATID_SECRET (only the profile's own secret brings its previous one). Sign with the current secret, or verify without --secret/CHATID_SECRET.";
    case 'SIGNED_WITH_OTHER_PROFILE_SECRET':
      if (c.profileInUse) return `The token was signed with ${label}. ${overriddenSecretFix(profile)}`;
      return `The token was signed with ${label}. Your server uses profile "${profile ?? '?'}"'s secret: point it at this profile's secret, or verify with --profile ${profile ?? '<name>'}.`;
    case 'SECRET_WHITESPACE':
      // As the hash doctor says: a shorter key that verifies means chatid's copy has the extra
      // whitespace and the signer's is clean; a longer one, the reverse.
      return c.bytes.length < currentLength
        ? `The token was signed with ${label}: the whitespace is in the secret chatid was given, the signer's copy has none. Remove it from chatid's copy (CHATID_SECRET, the --secret-file file, or re-store it with \`chatid secret set\`).`
        : `The token was signed with ${label}: the whitespace is in the signer's copy. Trim the secret where the signer reads it (files and Docker secrets end in a newline); chatid's copy is the clean one.`;
    case 'SECRET_ENCODING':
      return `The token was signed with ${label}. Use the secret exactly as the vendor shows it: HS256 keys are the secret's text bytes, neither decoded nor encoded.`;
    case 'SECRET_QUOTED':
      return `The token was signed with ${label}. Remove the quotes from the secret where it is configured.`;
    case 'API_KEY_AS_SECRET':
      return `The token was signed with ${label}, not the identity secret. Use the identity (verification) secret for tokens; the API key is for REST calls.`;
    default:
      return `The token was signed with ${label}.`;
  }
}

function skewMessage(iat: number, now: number, nbfToo: boolean, all: boolean): string {
  const ahead = iat - now;
  const meanwhile = all ? 'accepts it' : `clears the ${nbfToo ? 'iat and nbf errors' : 'iat error'} (the other errors remain)`;
  return `The signer's clock is ahead of this machine's by at least ${ago(ahead)}: the token says it was issued at ${iso(iat)}, and this machine's clock read ${iso(now)} when checking${nbfToo ? ' (which also explains the nbf error)' : ''}. Sync both clocks with NTP; meanwhile --leeway ${Math.ceil(ahead)}s ${meanwhile}.`;
}

/** Id-like claims users put under the wrong name, in the order they are checked. */
const ID_LIKE = ['user_id', 'userId', 'sub', 'external_id', 'externalId', 'userid', 'uid', 'id', 'user'] as const;

function wrongClaim(payload: Record<string, unknown>, provider: JwtProvider): JwtCause[] {
  const accepted = provider === 'chatbase' ? ['user_id', 'sub'] : [ID_CLAIM[provider]];
  const want = accepted.map((k) => `"${k}"`).join(' or ');
  for (const k of ID_LIKE) {
    if (accepted.includes(k)) continue;
    const v = payload[k];
    if ((typeof v === 'string' && v.trim() !== '') || typeof v === 'number') {
      const owner = k === 'userId' ? ' (the Replyful claim)' : k === 'user_id' ? ' (the Chatbase claim)' : k === 'sub' ? ' (the generic claim)' : '';
      return [{ code: 'WRONG_PROVIDER_CLAIM', message: `The user id is in "${k}"${owner}, but ${provider} reads ${want}. Rename the claim to ${accepted[0]}.` }];
    }
  }
  return [];
}
