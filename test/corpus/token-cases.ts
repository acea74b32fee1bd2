// Malformed and invalid tokens for `token verify` / `token decode` (issue 6). Built from parts
// so each case says what is wrong with it; `errors` are the verify error codes expected.
import { createHmac } from 'node:crypto';

export const CORPUS_SECRET = 'corpus-secret-0123456789abcdefghijklmnop';
export const CORPUS_NOW = 1_767_225_600; // 2026-01-01T00:00:00Z (createTestCtx's clock)

const b64u = (s: string | Buffer): string => Buffer.from(s).toString('base64url');
const H = b64u('{"alg":"HS256","typ":"JWT"}');
const claims = (o: object): string => b64u(JSON.stringify(o));
const OK = { user_id: 'u1', iat: CORPUS_NOW, exp: CORPUS_NOW + 3600 };
const P = claims(OK);
export function sign(header: string, payload: string, secret = CORPUS_SECRET): string {
  return `${header}.${payload}.${createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url')}`;
}
const GOOD = sign(H, P);
const sig = GOOD.split('.')[2]!;

export interface TokenCase {
  name: string;
  token: string;
  /** Codes that must all appear in `errors` (token verify --json). */
  errors: string[];
  /** Pass the token on stdin instead of argv. */
  stdin?: boolean;
  /** Exit code when not 3 (e.g. 2 for input refused before verification). */
  exit?: number;
  /** Error code of a refusal before verification (exit 2). */
  usage?: string;
}

export const GOOD_TOKEN = GOOD;

export const TOKEN_CASES: TokenCase[] = [
  { name: 'one segment', token: 'abcdef', errors: ['MALFORMED'] },
  { name: 'two segments', token: `${H}.${P}`, errors: ['MALFORMED'] },
  { name: 'four segments', token: `${GOOD}.AAAA`, errors: ['MALFORMED'] },
  { name: 'JWE (five segments)', token: `${H}.AAAA.AAAA.AAAA.AAAA`, errors: ['MALFORMED'] },
  { name: 'only dots', token: '..', errors: ['MALFORMED'] },
  { name: 'space inside', token: `${GOOD.slice(0, 20)} ${GOOD.slice(20)}`, errors: ['MALFORMED'] },
  { name: 'Bearer prefix', token: `Bearer ${GOOD}`, errors: ['MALFORMED'] },
  { name: 'double quotes around', token: `"${GOOD}"`, errors: ['MALFORMED'] },
  { name: 'padded segments', token: `${H}=.${P}.${sig}=`, errors: ['MALFORMED'] },
  { name: 'standard base64 alphabet', token: `${H}.${P}.${sig.slice(0, -2)}+/`, errors: ['MALFORMED'] },
  { name: 'non-ASCII character', token: `${H}.${P}é.${sig}`, errors: ['MALFORMED'] },
  { name: 'NUL byte', token: `${H}.${P}.${sig}\u0000`, errors: ['MALFORMED'] },
  { name: 'unicode one-dot leader instead of dots', token: GOOD.replace(/\./g, '\u2024'), errors: ['MALFORMED'] },
  { name: 'non-canonical last character', token: `${H}.${P.slice(0, -1)}${P.endsWith('Q') ? 'R' : 'Q'}.${sig}`, errors: ['MALFORMED'] },
  { name: '20 KB token (over the size cap)', token: sign(H, claims({ ...OK, pad: 'x'.repeat(20_000) })), errors: ['MALFORMED'] },
  { name: 'JSON nested 10000 deep', token: sign(H, b64u(`{"user_id":"u1","a":${'['.repeat(5000)}${']'.repeat(5000)}}`)), errors: ['MALFORMED'] },
  { name: 'header not JSON', token: sign(b64u('{alg:HS256}'), P), errors: ['MALFORMED'] },
  { name: 'header is an array', token: sign(b64u('["HS256"]'), P), errors: ['MALFORMED'] },
  { name: 'header without alg', token: sign(b64u('{"typ":"JWT"}'), P), errors: ['ALG_NOT_ALLOWED'] },
  { name: 'alg none, empty signature', token: `${b64u('{"alg":"none","typ":"JWT"}')}.${P}.`, errors: ['ALG_NOT_ALLOWED'] },
  { name: 'alg None (mixed case)', token: `${b64u('{"alg":"None"}')}.${P}.`, errors: ['ALG_NOT_ALLOWED'] },
  { name: 'alg HS512', token: sign(b64u('{"alg":"HS512","typ":"JWT"}'), P), errors: ['ALG_NOT_ALLOWED'] },
  { name: 'alg RS256 (key confusion)', token: sign(b64u('{"alg":"RS256","typ":"JWT"}'), P), errors: ['ALG_NOT_ALLOWED'] },
  { name: 'alg hs256 (lower case)', token: sign(b64u('{"alg":"hs256"}'), P), errors: ['ALG_NOT_ALLOWED'] },
  { name: 'alg is a number', token: sign(b64u('{"alg":256}'), P), errors: ['ALG_NOT_ALLOWED'] },
  { name: 'crit header', token: sign(b64u('{"alg":"HS256","crit":["exp"]}'), P), errors: ['MALFORMED'] },
  { name: 'b64:false header', token: sign(b64u('{"alg":"HS256","b64":false,"crit":["b64"]}'), P), errors: ['MALFORMED'] },
  { name: 'payload not JSON', token: sign(H, b64u('user_id=u1')), errors: ['MALFORMED'] },
  { name: 'payload Latin-1 bytes', token: sign(H, b64u(Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]))), errors: ['MALFORMED'] },
  { name: 'payload is an array', token: sign(H, b64u('[1,2]')), errors: ['PAYLOAD_NOT_OBJECT'] },
  { name: 'payload is a string', token: sign(H, b64u('"u1"')), errors: ['PAYLOAD_NOT_OBJECT'] },
  { name: 'payload is null', token: sign(H, b64u('null')), errors: ['PAYLOAD_NOT_OBJECT'] },
  { name: 'signature 10 bytes', token: `${H}.${P}.${b64u(Buffer.alloc(10, 1))}`, errors: ['BAD_SIGNATURE'] },
  { name: 'signed with another secret', token: sign(H, P, 'another-secret-0123456789abcdefghijklmn'), errors: ['BAD_SIGNATURE'] },
  { name: 'signature of another payload', token: `${H}.${claims({ ...OK, user_id: 'admin' })}.${sig}`, errors: ['BAD_SIGNATURE'] },
  { name: 'expired', token: sign(H, claims({ ...OK, exp: CORPUS_NOW - 3600 })), errors: ['EXPIRED'] },
  { name: 'exp as a string', token: sign(H, claims({ ...OK, exp: String(CORPUS_NOW + 3600) })), errors: ['MALFORMED'] },
  { name: 'exp is NaN-like text', token: sign(H, b64u(`{"user_id":"u1","exp":"NaN"}`)), errors: ['MALFORMED'] },
  { name: 'exp 1e400 (Infinity in JS)', token: sign(H, b64u('{"user_id":"u1","exp":1e400}')), errors: ['MALFORMED'] },
  { name: 'nbf in the future', token: sign(H, claims({ ...OK, nbf: CORPUS_NOW + 7200 })), errors: ['NOT_YET_VALID'] },
  { name: 'nbf far beyond the Date range', token: sign(H, claims({ ...OK, nbf: 1e300 })), errors: ['NOT_YET_VALID'] },
  { name: 'iat in the future', token: sign(H, claims({ ...OK, iat: CORPUS_NOW + 7200 })), errors: ['IAT_IN_FUTURE'] },
  { name: 'user_id is a number', token: sign(H, claims({ ...OK, user_id: 123 })), errors: ['USER_ID_NOT_STRING'] },
  { name: 'user_id missing', token: sign(H, claims({ iat: CORPUS_NOW, exp: CORPUS_NOW + 60 })), errors: ['MISSING_USER_ID'] },
  { name: 'user_id empty', token: sign(H, claims({ ...OK, user_id: '' })), errors: ['MISSING_USER_ID'] },
  { name: 'every error at once', token: `${H}.${claims({ user_id: 5, exp: 1, nbf: CORPUS_NOW + 9999 })}.${sig}`, errors: ['BAD_SIGNATURE', 'EXPIRED', 'NOT_YET_VALID', 'USER_ID_NOT_STRING'] },
  { name: 'token on stdin with trailing newline is fine', token: `${GOOD}\n`, stdin: true, errors: [], exit: 0 },
  { name: 'two tokens on stdin', token: `${GOOD}\n${GOOD}\n`, stdin: true, errors: [], exit: 2, usage: 'ERR_TOKEN_STDIN_LINES' },
  { name: '2 MB on stdin', token: 'A'.repeat(2 << 20), stdin: true, errors: [], exit: 2, usage: 'ERR_INPUT_TOO_LARGE' },
  { name: 'empty stdin', token: '', stdin: true, errors: [], exit: 2, usage: 'ERR_TOKEN_REQUIRED' },
];
