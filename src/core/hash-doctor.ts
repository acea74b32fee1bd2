/**
 * The hash mismatch doctor (cli.md §7): when `chatid hash <id> --expect <hash>` does not
 * match, recompute the hash with the usual mistakes applied (vendors.md §8) and report the
 * ones that reproduce the expected value exactly. Pure: no I/O, no clock.
 *
 * The search is a product of four independent choices, each either "as it should be" or
 * one known mistake: the key (secret variants, previous and other profiles' secrets, the
 * API key: secret-candidates.ts), the message (id variants, the email), the algorithm
 * (HMAC-SHA1/-SHA512, plain SHA-256, swapped arguments) and how the digest was written
 * (uppercase, base64, dashes, truncated). Only the explanations with the fewest mistakes
 * are reported, so "uppercase hex" is never padded out with coincidences, and nothing is
 * ever reported that did not reproduce the expected value byte for byte.
 */
import { type HmacAlgorithm, hmacBytes, plainDigest } from './hmac.js';
import { type SecretCandidateInput, secretCandidates } from './secret-candidates.js';
import { parseSecretKey } from './secret-key.js';

/** A proven reason for a mismatch, with what to change. */
export interface HashCause {
  code: string;
  message: string;
  fix: string;
}

export interface DiagnoseHashInput {
  /** The user id as given to `chatid hash`. */
  userId: string;
  /** The hash the user has (the widget's / their server's), surrounding whitespace removed. */
  expected: string;
  /** The configured secret and the other keys worth trying. */
  secrets: SecretCandidateInput;
  /** `--email`: the contact's email, in case it was hashed instead of the id. */
  email?: string;
}

/** Every cause code the doctor can report (cli.md §7 plus the ones vendors.md §8 shows users hit). */
export const HASH_CAUSE_CODES = [
  'SECRET_WHITESPACE',
  'SECRET_QUOTED',
  'SECRET_ENCODING',
  'SIGNED_WITH_PREVIOUS_SECRET',
  'SIGNED_WITH_OTHER_PROFILE_SECRET',
  'API_KEY_AS_SECRET',
  'USER_ID_WHITESPACE',
  'USER_ID_CASE',
  'USER_ID_JSON_ENCODED',
  'USER_ID_NUMBER_FORMAT',
  'USER_ID_PRECISION_LOST',
  'USER_ID_BOM',
  'USER_ID_MONGO_OID',
  'USER_ID_MISSING',
  'HASHED_EMAIL',
  'DIGEST_UPPERCASE',
  'DIGEST_BASE64',
  'DIGEST_DASHES',
  'DIGEST_TRUNCATED',
  'ALGORITHM_SHA1',
  'ALGORITHM_SHA512',
  'PLAIN_SHA256',
  'SHA256_CONCAT',
  'KEY_MESSAGE_SWAPPED',
] as const;
export type HashCauseCode = (typeof HASH_CAUSE_CODES)[number];

/** Shortest truncated hex prefix we accept as proof (64 bits: no accidental match). */
export const MIN_TRUNCATED_HEX = 16;

/** One mistake in one dimension (undefined = done right). */
type Mistake = HashCause | undefined;

interface KeyVariant {
  bytes: Uint8Array;
  mistake: Mistake;
}
interface MessageVariant {
  text: string;
  mistake: Mistake;
}

const enc = new TextEncoder();

/**
 * Causes that reproduce `expected`, fewest mistakes first; [] when nothing explains it.
 * @example
 * diagnoseHash({ userId: 'u1', expected: userHash('s', 'u1').toUpperCase(), secrets: { secret: 's' } })
 * // [{ code: 'DIGEST_UPPERCASE', … }]
 */
export function diagnoseHash(o: DiagnoseHashInput): HashCause[] {
  const expected = o.expected;
  if (expected === '') return [];
  const keys = keyVariants(o.secrets);
  const messages = messageVariants(o.userId, o.email);

  let best = Number.POSITIVE_INFINITY;
  const found: HashCause[][] = [];
  const consider = (digest: Buffer, mistakes: Mistake[]): void => {
    const base = mistakes.filter((m): m is HashCause => m !== undefined);
    if (base.length > best) return;
    for (const d of digestMistakes(digest, expected)) {
      const all = d.length === 0 ? base : [...base, ...d];
      if (all.length === 0 || all.length > best) continue;
      if (all.length < best) {
        best = all.length;
        found.length = 0;
      }
      found.push(all);
    }
  };

  for (const k of keys) {
    for (const m of messages) {
      const msg = enc.encode(m.text);
      for (const [alg, mistake] of KEYED) consider(hmacBytes(k.bytes, msg, alg), [k.mistake, m.mistake, mistake]);
      consider(hmacBytes(msg, k.bytes, 'sha256'), [k.mistake, m.mistake, SWAPPED]);
      consider(plainDigest(concat(k.bytes, msg)), [k.mistake, m.mistake, concatCause('the secret followed by the id')]);
      consider(plainDigest(concat(msg, k.bytes)), [k.mistake, m.mistake, concatCause('the id followed by the secret')]);
    }
  }
  for (const m of messages) consider(plainDigest(m.text), [m.mistake, PLAIN]);

  const out: HashCause[] = [];
  const seen = new Set<string>();
  for (const combo of found) {
    for (const c of combo) {
      const key = `${c.code}\0${c.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(c);
    }
  }
  return out;
}

const KEYED: ReadonlyArray<[HmacAlgorithm, Mistake]> = [
  ['sha256', undefined],
  ['sha1', { code: 'ALGORITHM_SHA1', message: 'The expected hash is an HMAC-SHA1 (40 hex characters), not HMAC-SHA256.', fix: "Use HMAC-SHA256: createHmac('sha256', secret) in Node, hmac.new(secret, id, hashlib.sha256) in Python." }],
  ['sha512', { code: 'ALGORITHM_SHA512', message: 'The expected hash is an HMAC-SHA512, not HMAC-SHA256.', fix: "Use HMAC-SHA256: createHmac('sha256', secret) in Node, hmac.new(secret, id, hashlib.sha256) in Python." }],
];

const SWAPPED: HashCause = {
  code: 'KEY_MESSAGE_SWAPPED',
  message: 'The expected hash is an HMAC with the id as the key and the secret as the message: the two arguments are swapped.',
  fix: "Pass the secret as the key and the id as the message: createHmac('sha256', secret).update(userId); Python hmac.new(secret, user_id, sha256); PHP hash_hmac('sha256', $userId, $secret).",
};

const PLAIN: HashCause = {
  code: 'PLAIN_SHA256',
  message: 'The expected hash is a plain SHA-256 of the id, with no secret at all (anyone could forge it).',
  fix: "Use an HMAC keyed with the identity secret: createHmac('sha256', secret).update(userId).digest('hex').",
};

function concatCause(what: string): HashCause {
  return {
    code: 'SHA256_CONCAT',
    message: `The expected hash is a plain SHA-256 of ${what}, not an HMAC.`,
    fix: "Use an HMAC keyed with the identity secret: createHmac('sha256', secret).update(userId).digest('hex').",
  };
}

function keyVariants(input: SecretCandidateInput): KeyVariant[] {
  let primary: Uint8Array;
  try {
    primary = parseSecretKey(input.secret).bytes;
  } catch {
    primary = enc.encode(input.secret);
  }
  const out: KeyVariant[] = [{ bytes: primary, mistake: undefined }];
  for (const c of secretCandidates(input)) out.push({ bytes: c.bytes, mistake: secretMistake(c.cause, c.label, c.profile) });
  return out;
}

function secretMistake(code: string, label: string, profile: string | undefined): HashCause {
  switch (code) {
    case 'SECRET_WHITESPACE':
      return { code, message: `The expected hash was made with ${label}.`, fix: 'Trim the secret where your server reads it: files, Docker secrets and CRLF .env files add whitespace.' };
    case 'SECRET_QUOTED':
      return { code, message: `The expected hash was made with ${label}.`, fix: 'Remove the quotes around the secret in your configuration (some .env loaders keep them).' };
    case 'SECRET_ENCODING':
      return { code, message: `The expected hash was made with ${label}.`, fix: 'Use the secret exactly as the dashboard shows it, as UTF-8 text: HMAC secrets are neither base64/hex-decoded nor encoded.' };
    case 'SIGNED_WITH_PREVIOUS_SECRET':
      return { code, message: 'The expected hash was made with the previous secret (before the last rotation).', fix: 'Deploy the current secret to the server that computes hashes; Bookbag stops accepting the old one the moment it is rotated.' };
    case 'SIGNED_WITH_OTHER_PROFILE_SECRET':
      return {
        code,
        message: `The expected hash was made with ${label}.`,
        fix: `Your server uses the secret of profile "${profile ?? '?'}" (another agent or workspace): point it at this profile's secret, or check with --profile ${profile ?? '<name>'}.`,
      };
    case 'API_KEY_AS_SECRET':
      return { code, message: `The expected hash was made with ${label}, not the identity secret.`, fix: 'Hash with the identity verification secret (dashboard → Embed → Identity verification); the API key is only for REST calls.' };
    default:
      return { code, message: `The expected hash was made with ${label}.`, fix: 'Use the identity secret exactly as the dashboard shows it.' };
  }
}

function messageVariants(userId: string, email: string | undefined): MessageVariant[] {
  const out: MessageVariant[] = [];
  const seen = new Set<string>();
  const add = (text: string, mistake: Mistake): void => {
    if (seen.has(text)) return;
    seen.add(text);
    out.push({ text, mistake });
  };
  add(userId, undefined);
  const show = (t: string): string => JSON.stringify(t);

  const ws = (t: string, how: string): HashCause => ({
    code: 'USER_ID_WHITESPACE',
    message: `The expected hash is of ${show(t)}: the id ${how}.`,
    fix: 'Trim ids before hashing and before passing them to the widget: CSV cells carry spaces and "\\r" from CRLF line ends.',
  });
  if (userId.trim() !== userId) add(userId.trim(), ws(userId.trim(), 'without the whitespace around it'));
  for (const [s, name] of [['\n', 'a trailing "\\n"'], ['\r', 'a trailing "\\r"'], ['\r\n', 'a trailing "\\r\\n"'], [' ', 'a trailing space']] as const) {
    add(userId + s, ws(userId + s, `with ${name}`));
  }
  add(` ${userId}`, ws(` ${userId}`, 'with a leading space'));

  const caseMistake = (t: string, how: string): HashCause => ({
    code: 'USER_ID_CASE',
    message: `The expected hash is of ${show(t)}, the id ${how}.`,
    fix: 'HMAC is byte-exact and ids are case-sensitive: hash exactly the id you give the widget, without changing its case.',
  });
  add(userId.toLowerCase(), caseMistake(userId.toLowerCase(), 'lowercased'));
  add(userId.toUpperCase(), caseMistake(userId.toUpperCase(), 'uppercased'));

  const json = JSON.stringify(userId);
  add(json, { code: 'USER_ID_JSON_ENCODED', message: `The expected hash is of ${json}, the id JSON-encoded with its quotes.`, fix: 'Hash the id string itself, not JSON.stringify(id) or a serialized field.' });
  const unq = /^"(.*)"$/s.exec(userId);
  if (unq) add(unq[1]!, { code: 'USER_ID_JSON_ENCODED', message: `The expected hash is of ${show(unq[1]!)}: the id you passed still has its JSON quotes.`, fix: 'Pass the id without the quotes it got from JSON.' });

  if (/^-?\d+$/.test(userId)) {
    for (const t of [`${userId}.0`, `${userId}.00`]) {
      add(t, { code: 'USER_ID_NUMBER_FORMAT', message: `The expected hash is of ${show(t)}: the id was serialized as a floating-point number.`, fix: 'Turn the id into text the same way on both sides, as an integer string (str(int(id)), String(id)); never via a float.' });
    }
    const n = Number(userId);
    if (!Number.isSafeInteger(n)) {
      const lossy = String(n);
      add(lossy, { code: 'USER_ID_PRECISION_LOST', message: `The expected hash is of ${show(lossy)}: the id went through a JavaScript number and lost digits (above 2^53 − 1).`, fix: 'Keep ids as strings end to end (JSON strings, BigInt); never parse them as numbers.' });
    }
  }
  if (/^-?\d+\.0+$/.test(userId)) {
    const int = userId.replace(/\.0+$/, '');
    add(int, { code: 'USER_ID_NUMBER_FORMAT', message: `The expected hash is of ${show(int)}: the id you passed (${show(userId)}) is the integer serialized as a float.`, fix: 'Pass the id as an integer string, the way the widget receives it.' });
  }

  const bomFix = 'Strip the byte order mark when reading the file (csv-parse: bom: true; Python: encoding="utf-8-sig").';
  if (userId.startsWith('\uFEFF')) add(userId.slice(1), { code: 'USER_ID_BOM', message: 'The expected hash is of the id without the U+FEFF byte order mark that starts the id you passed.', fix: bomFix });
  else add(`\uFEFF${userId}`, { code: 'USER_ID_BOM', message: 'The expected hash is of the id with a U+FEFF byte order mark in front (the first cell of a UTF-8 CSV with BOM).', fix: bomFix });

  if (/^[0-9a-fA-F]{24}$/.test(userId)) {
    for (const t of [`{"$oid":"${userId}"}`, `{ "$oid" : "${userId}" }`, `ObjectId("${userId}")`, `new ObjectId("${userId}")`]) {
      add(t, { code: 'USER_ID_MONGO_OID', message: `The expected hash is of ${show(t)}: the Mongo ObjectId serialized instead of its hex string.`, fix: 'Hash user._id.toString() (the 24 hex characters), the same id the widget gets.' });
    }
  }
  const oid = /^\{\s*"\$oid"\s*:\s*"([0-9a-fA-F]{24})"\s*\}$/.exec(userId) ?? /^(?:new )?ObjectId\("([0-9a-fA-F]{24})"\)$/.exec(userId);
  if (oid) add(oid[1]!, { code: 'USER_ID_MONGO_OID', message: `The expected hash is of ${show(oid[1]!)}, the ObjectId's hex string, while you passed its serialized form.`, fix: 'Pass the 24-hex id the widget gets, not the serialized ObjectId.' });

  for (const t of ['undefined', 'null', '', '[object Object]', 'None', 'NaN']) {
    add(t, { code: 'USER_ID_MISSING', message: `The expected hash is of ${show(t)}: the id was missing where the hash was computed.`, fix: 'The server hashed an unset value: check that the user (and its id field) is loaded before computing the hash.' });
  }

  if (email !== undefined && email !== '') {
    const emailCause = (t: string, extra: string): HashCause => ({
      code: 'HASHED_EMAIL',
      message: `The expected hash is of the email ${show(t)}${extra} instead of the user id.`,
      fix: 'Chatbase, Bookbag and Tawk.to sign the user id: hash the id (Crisp, Help Scout and Front are the ones that sign the email).',
    });
    add(email, emailCause(email, ''));
    add(email.trim(), emailCause(email.trim(), ' (trimmed)'));
    add(email.trim().toLowerCase(), emailCause(email.trim().toLowerCase(), ' (lowercased)'));
  }
  return out;
}

/** How `digest` could have been written to give `expected`: each entry lists its mistakes ([] = lowercase hex, as it should). */
function digestMistakes(digest: Buffer, expected: string): HashCause[][] {
  const hex = digest.toString('hex');
  const n = hex.length;
  const len = expected.length;
  if (len === n) {
    if (expected === hex) return [[]];
    if (expected === hex.toUpperCase()) return [[UPPERCASE]];
    return [];
  }
  if (len === digest.length * 3 - 1 && expected.includes('-')) {
    const dashed = hex.replace(/(..)(?!$)/g, '$1-');
    if (expected === dashed.toUpperCase() || expected === dashed) {
      return [[{ code: 'DIGEST_DASHES', message: 'The expected hash is the digest written with dashes, as .NET BitConverter.ToString prints it.', fix: 'Use Convert.ToHexString(h).ToLowerInvariant(), or BitConverter.ToString(h).Replace("-", "").ToLowerInvariant().' }]];
    }
    return [];
  }
  if (len >= n) return [];
  const b64 = digest.toString('base64');
  for (const form of [b64, b64.replace(/=+$/, ''), digest.toString('base64url')]) {
    if (expected === form) {
      const url = form !== b64 && /[-_]/.test(form);
      return [[{ code: 'DIGEST_BASE64', message: `The expected hash is the digest in ${url ? 'base64url' : 'base64'} (${len} characters) instead of hex.`, fix: "Encode the digest as lowercase hex: digest('hex'), not digest('base64'); Python hexdigest(), not b64encode(digest())." }]];
    }
  }
  if (len >= MIN_TRUNCATED_HEX) {
    const cut: HashCause = { code: 'DIGEST_TRUNCATED', message: `The expected hash is the first ${len} of the ${n} hex characters of the digest.`, fix: `Store and send all ${n} characters: a database column, form field or log line cut it short.` };
    if (hex.startsWith(expected)) return [[cut]];
    if (hex.toUpperCase().startsWith(expected)) return [[cut, UPPERCASE]];
  }
  return [];
}

const UPPERCASE: HashCause = {
  code: 'DIGEST_UPPERCASE',
  message: 'The expected hash is the digest in uppercase hex.',
  fix: "Send lowercase hex: digest('hex') in Node, hexdigest() in Python; in .NET, Convert.ToHexString(h).ToLowerInvariant().",
};

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
