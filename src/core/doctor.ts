/**
 * The hash mismatch doctor (cli.md §7): given the hash a user's backend produced and the
 * hash chatid computes, find the mistake by *recomputing*. Every hypothesis is a
 * combination of a key (the secret, or a variant: whitespace, encoding, previous secret,
 * another profile's secret, the API key), a message (the id, or a variant: whitespace,
 * case, JSON quotes, number formatting, BOM, Mongo ObjectId, Unicode form, Latin-1 /
 * Windows-1252 bytes, the email), an algorithm and a way of printing the digest (hex, case,
 * base64, dashes, truncation, and the quotes, `sha256=` prefix or spaces of a copy). A cause is reported only when its hypothesis reproduces the
 * user's value exactly; when none does, the answer is an honest empty list.
 * Pure: no I/O.
 */
import { hmacBytes, plainDigest, type HmacAlgorithm } from './hmac.js';
import { overriddenSecretFix, type SecretCandidate, type SecretCandidateInput, secretCandidates } from './secret-candidates.js';

/** One proven cause, with the next step. */
export interface HashCause {
  code: string;
  message: string;
  fix: string;
}

export interface DiagnoseHashInput {
  /** The configured key bytes (parseSecretKey(secret).bytes). */
  key: Uint8Array;
  /** Secrets to derive candidate keys from (the configured one as written, previous, other profiles, API key). */
  secrets: SecretCandidateInput;
  /** The user id chatid hashed. */
  userId: string;
  /** The hash the user has (from their backend or the widget's error). */
  expected: string;
  /** The contact's email, to test "hashed the email instead of the id". */
  email?: string;
}

/** Every cause code the doctor can report. */
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
  'USER_ID_BOM',
  'USER_ID_OBJECT_ID',
  'USER_ID_MISSING',
  'USER_ID_UNICODE_FORM',
  'USER_ID_ENCODING',
  'HASHED_EMAIL',
  'DIGEST_BASE64',
  'DIGEST_UPPERCASE',
  'DIGEST_DASHED',
  'DIGEST_TRUNCATED',
  'DIGEST_QUOTED',
  'DIGEST_PREFIXED',
  'DIGEST_SPACED',
  'ALGORITHM_SHA1',
  'ALGORITHM_SHA512',
  'PLAIN_SHA256',
  'KEY_MESSAGE_SWAPPED',
] as const;
export type HashCauseCode = (typeof HASH_CAUSE_CODES)[number];

/** A part of a hypothesis: what was different, and how to say it. */
interface Part {
  code: HashCauseCode;
  message: string;
  fix: string;
}

interface Variant {
  bytes: Uint8Array;
  part: Part | undefined;
}

const enc = new TextEncoder();
/**
 * Below this many hex digits a prefix match could be chance, so truncation is not claimed
 * (48 bits over a few thousand hypotheses: a false match about once in 10^10 runs).
 */
const MIN_TRUNCATED = 12;
/** Longer values are not a hash of any kind we know; the doctor does not search. */
const MAX_EXPECTED = 512;

/**
 * Find every cause that reproduces `expected`. Only the simplest explanations are kept: if
 * one mistake explains the value, combinations that also happen to explain it are dropped.
 * @example
 * diagnoseHash({ key: enc('s'), secrets: { secret: 's' }, userId: 'u1',
 *   expected: userHash('s', 'u1').toUpperCase() }).map((c) => c.code) // ['DIGEST_UPPERCASE']
 */
export function diagnoseHash(input: DiagnoseHashInput): HashCause[] {
  const expected = input.expected;
  if (expected.length === 0 || expected.length > MAX_EXPECTED) return [];
  const keys = keyVariants(input);
  const messages = messageVariants(input.userId, input.email);
  const forms = expectedForms(expected);
  const found: Part[][] = [];
  const tryDigest = (digest: Buffer, parts: Array<Part | undefined>): void => {
    for (const form of forms) {
      const shown = presentation(digest, form.value);
      if (shown === false) continue;
      const all = [...parts, ...form.parts, shown].filter((p): p is Part => p !== undefined);
      if (all.length > 0) found.push(all);
      return;
    }
  };

  const algorithms: Array<[HmacAlgorithm, Part | undefined]> = [
    ['sha256', undefined],
    ['sha1', { code: 'ALGORITHM_SHA1', message: 'The hash was computed with HMAC-SHA1, not HMAC-SHA256.', fix: "Use HMAC-SHA256: createHmac('sha256', secret) / hmac.new(secret, id, hashlib.sha256)." }],
    ['sha512', { code: 'ALGORITHM_SHA512', message: 'The hash was computed with HMAC-SHA512, not HMAC-SHA256.', fix: "Use HMAC-SHA256: createHmac('sha256', secret) / hmac.new(secret, id, hashlib.sha256)." }],
  ];
  for (const k of keys) {
    for (const m of messages) {
      for (const [alg, algPart] of algorithms) tryDigest(hmacBytes(k.bytes, m.bytes, alg), [k.part, m.part, algPart]);
    }
  }

  // Not an HMAC at all: a plain SHA-256 of the id, or of the secret and id glued together.
  const plain: Part = { code: 'PLAIN_SHA256', message: 'The hash is a plain SHA-256 of the user id, not an HMAC keyed with the secret.', fix: "Use HMAC-SHA256 keyed with the identity secret: createHmac('sha256', secret).update(userId).digest('hex')." };
  for (const m of messages) tryDigest(plainDigest(m.bytes), [m.part, plain]);
  const key = input.key;
  const id = enc.encode(input.userId);
  tryDigest(plainDigest(concat(key, id)), [{ ...plain, message: 'The hash is SHA-256 of the secret followed by the user id, not an HMAC.' }]);
  tryDigest(plainDigest(concat(id, key)), [{ ...plain, message: 'The hash is SHA-256 of the user id followed by the secret, not an HMAC.' }]);

  // Key and message swapped: HMAC(key = id, message = secret).
  const swapped: Part = { code: 'KEY_MESSAGE_SWAPPED', message: 'The hash was computed with the user id as the HMAC key and the secret as the message.', fix: "Swap the arguments: the secret is the key, the user id the message (Python: hmac.new(secret, user_id, sha256); PHP: hash_hmac('sha256', $userId, $secret))." };
  tryDigest(hmacBytes(id, key, 'sha256'), [swapped]);

  if (found.length === 0) return [];
  const fewest = Math.min(...found.map((f) => f.length));
  const out: HashCause[] = [];
  const seen = new Set<string>();
  for (const f of found) {
    if (f.length !== fewest) continue;
    for (const p of f) {
      const k = `${p.code}\u0000${p.message}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push({ code: p.code, message: p.message, fix: p.fix });
    }
  }
  return out;
}

/**
 * How `digest` must have been printed to give `expected`: undefined for lowercase hex
 * (correct), a Part for a wrong presentation, false when it does not match at all.
 */
function presentation(digest: Buffer, expected: string): Part | undefined | false {
  const hex = digest.toString('hex');
  if (expected === hex) return undefined;
  const upper = hex.toUpperCase();
  if (expected === upper) return { code: 'DIGEST_UPPERCASE', message: 'The hash is printed in uppercase hex; the widget compares lowercase hex.', fix: "Lowercase it (.toLowerCase(), .lower()); in .NET use Convert.ToHexString(h).ToLowerInvariant() or ToHexStringLower." };
  const b64 = digest.toString('base64');
  if (expected === b64 || expected === b64.replace(/=+$/, '') || expected === digest.toString('base64url')) {
    return { code: 'DIGEST_BASE64', message: 'The hash is base64; the widget expects 64 lowercase hex characters.', fix: "Encode the digest as hex: .digest('hex') in Node, .hexdigest() in Python, hash_hmac() without raw output in PHP." };
  }
  if (expected.includes('-') && expected.replace(/-/g, '').toLowerCase() === hex && /^([0-9A-Fa-f]{2}-)+[0-9A-Fa-f]{2}$/.test(expected)) {
    return { code: 'DIGEST_DASHED', message: 'The hash has dashes between bytes, as .NET BitConverter.ToString prints it.', fix: 'Remove the dashes and lowercase it: BitConverter.ToString(h).Replace("-", "").ToLowerInvariant(), or Convert.ToHexString(h).ToLowerInvariant().' };
  }
  if (expected.length >= MIN_TRUNCATED && expected.length < hex.length && /^[0-9a-fA-F]+$/.test(expected) && hex.startsWith(expected.toLowerCase())) {
    const len = expected.length;
    const caseNote = expected === expected.toLowerCase() ? '' : ' (and in uppercase)';
    return { code: 'DIGEST_TRUNCATED', message: `The hash is cut to its first ${len} hex characters${caseNote}; the widget expects all 64.`, fix: 'Keep the whole digest: check the database column width (VARCHAR(64)), substr/slice calls and copy-paste.' };
  }
  return false;
}

/**
 * The value as given, then with each wrapper a copy or a template adds peeled off in turn
 * (quotes, a `sha256=` prefix, spaces between groups). Each form carries the parts that
 * name what was peeled; a cause is still claimed only when a digest equals a form exactly.
 */
function expectedForms(expected: string): Array<{ value: string; parts: Part[] }> {
  const forms: Array<{ value: string; parts: Part[] }> = [{ value: expected, parts: [] }];
  let value = expected;
  const parts: Part[] = [];
  const peel = (next: string, part: Part): void => {
    value = next;
    parts.push(part);
    forms.push({ value, parts: [...parts] });
  };
  const onlyCopy = (what: string, it: string): string => `If only the value you gave --expect has ${what}, drop ${it} and compare again.`;
  const quoted = /^(["'`])([\s\S]+)\1$/.exec(value) ?? /^(\u201C)([\s\S]+)\u201D$/.exec(value) ?? /^(\u2018)([\s\S]+)\u2019$/.exec(value);
  if (quoted) {
    const q = quoted[1] === '"' ? 'double quotes' : quoted[1] === "'" ? 'single quotes' : quoted[1] === '`' ? 'backticks' : 'typographic quotes';
    peel(quoted[2]!, {
      code: 'DIGEST_QUOTED',
      message: `The value is the hash wrapped in ${q}; the widget expects the bare digest.`,
      fix: `Send the hash without quotes: a value JSON-encoded twice (JSON.stringify of a string already in JSON) or a template that adds quotes around it keeps them. ${onlyCopy('the quotes', 'them')}`,
    });
  }
  const prefixed = /^(sha(?:1|256|512))([=:])/i.exec(value);
  if (prefixed) {
    peel(value.slice(prefixed[0].length), {
      code: 'DIGEST_PREFIXED',
      message: `The value starts with "${prefixed[0]}", the way webhook signatures are written (GitHub's X-Hub-Signature-256); the widget expects the bare digest.`,
      fix: `Send the digest alone, without the "${prefixed[0]}" prefix: the user hash is not a webhook signature header. ${onlyCopy('the prefix', 'it')}`,
    });
  }
  if (/^\S+(?:\s+\S+)+$/.test(value)) {
    peel(value.replace(/\s+/g, ''), {
      code: 'DIGEST_SPACED',
      message: `The value is the hash split into ${/[\r\n]/.test(value) ? 'lines' : 'groups separated by spaces'}; the widget expects one unbroken string.`,
      fix: `Send the digest as one string with no spaces or line breaks (a hexdump-style formatter, a wrapped log line or a template splits it). ${onlyCopy('the breaks', 'them')}`,
    });
  }
  return forms;
}

function keyVariants(input: DiagnoseHashInput): Variant[] {
  const out: Variant[] = [{ bytes: input.key, part: undefined }];
  for (const c of secretCandidates(input.secrets)) out.push({ bytes: c.bytes, part: secretPart(c, input) });
  return out;
}

/**
 * The part for a candidate key. Whitespace, quotes and encoding can sit on either side, so
 * the fix says which copy holds which form, read from the recomputed key itself: a key
 * shorter than chatid's is chatid's secret stripped (chatid's copy has the extra
 * characters), a longer one is chatid's secret with characters added (the server's has them).
 */
function secretPart(c: SecretCandidate, input: DiagnoseHashInput): Part {
  const { cause, label, profile, bytes } = c;
  const msg = `The hash was computed with ${label}.`;
  const chatidHasExtra = bytes.length < input.key.length;
  const check = 'Compare the two copies by fingerprint: `chatid secret show` (`chatid whoami` says where chatid\'s copy comes from).';
  switch (cause) {
    case 'SECRET_WHITESPACE':
      return {
        code: 'SECRET_WHITESPACE',
        message: msg,
        fix: chatidHasExtra
          ? `The whitespace is in the secret chatid was given; your server's copy has none, like the vendor's. Remove it from chatid's copy (CHATID_SECRET, the --secret-file file, or re-store it with \`chatid secret set\`). ${check}`
          : `The whitespace is in your server's copy: trim the secret where your server reads it (a file or env var written with a newline, a CRLF .env file). chatid's copy is the clean one. ${check}`,
      };
    case 'SECRET_QUOTED':
      return {
        code: 'SECRET_QUOTED',
        message: msg,
        fix: chatidHasExtra
          ? `The quotes are in the secret chatid was given; your server's copy has none. Remove them from chatid's copy (CHATID_SECRET, the file, or \`chatid secret set\`). ${check}`
          : `The quotes are in your server's copy: its .env loader keeps them, or the value was copied from JSON. Store the secret without quotes there. ${check}`,
      };
    case 'SECRET_ENCODING':
      return { code: 'SECRET_ENCODING', message: msg, fix: encodingFix(input.secrets.secret, input.key, bytes) };
    case 'SIGNED_WITH_PREVIOUS_SECRET':
      return { code: 'SIGNED_WITH_PREVIOUS_SECRET', message: `${msg} Your server still uses the secret from before the rotation.`, fix: 'Deploy the current secret to your server: the vendor checks hashes against the secret in its dashboard, which is the current one since you rotated it.' };
    case 'SIGNED_WITH_OTHER_PROFILE_SECRET':
      return {
        code: 'SIGNED_WITH_OTHER_PROFILE_SECRET',
        message: msg,
        fix: c.profileInUse ? overriddenSecretFix(profile) : `Your server uses the secret of profile "${profile ?? '?'}" (another agent or environment); configure the one for this widget.`,
      };
    case 'API_KEY_AS_SECRET':
      return { code: 'API_KEY_AS_SECRET', message: `${msg} The API key is not the identity secret.`, fix: 'Use the identity-verification secret from the widget/embed settings, not the REST API key.' };
    default:
      return { code: 'SECRET_ENCODING', message: msg, fix: 'Use the identity secret exactly as the vendor shows it.' };
  }
}

/**
 * Which side decodes or encodes, from the key that reproduced the value: chatid's
 * `hex:`/`base64:` secret decoded while the server used the text; the server keeping that
 * prefix; the server encoding the key; or (otherwise) the server decoding chatid's text.
 */
function encodingFix(secret: string, key: Uint8Array, bytes: Uint8Array): string {
  const same = (text: string): boolean => Buffer.from(text, 'utf8').equals(bytes);
  const prefix = /^(hex|base64):/.exec(secret)?.[1];
  const vendorForm = 'HMAC user hashes use the secret text exactly as the vendor shows it, as UTF-8 bytes.';
  if (prefix !== undefined) {
    if (same(secret.slice(prefix.length + 1))) {
      return `chatid was given the secret as "${prefix}:…" and ${prefix}-decodes it; your server uses the same text as is. ${vendorForm} Give chatid the plain text without the "${prefix}:" prefix (CHATID_SECRET, or \`chatid secret set\`).`;
    }
    if (same(secret)) {
      return `Your server's copy still starts with "${prefix}:", which is chatid's notation, not part of the secret. Remove the prefix there. ${vendorForm}`;
    }
  }
  const k = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  for (const e of ['base64', 'base64url', 'hex'] as const) {
    if (!same(k.toString(e))) continue;
    return prefix !== undefined
      ? `Your server uses the ${e} text of the key as the HMAC key, while chatid ${prefix}-decodes its "${prefix}:" secret to bytes. ${vendorForm} Use that one form on both sides (for chatid: the plain text, no prefix).`
      : `Your server ${e}-encodes the secret before using it as the HMAC key; chatid uses the text as is. ${vendorForm} Pass the secret string itself to the HMAC on your server, not an encoding of it.`;
  }
  const kind = /^(?:[0-9a-fA-F]{2})+$/.test(secret) && Buffer.from(secret, 'hex').equals(Buffer.from(bytes)) ? 'hex' : 'base64';
  return `Your server ${kind}-decodes the secret and uses the bytes as the HMAC key; chatid uses the text as is. ${vendorForm} Pass the secret string itself to the HMAC on your server, do not decode it (if your vendor does want the decoded bytes, give chatid the secret as "${kind}:<text>").`;
}

function messageVariants(userId: string, email: string | undefined): Variant[] {
  const out: Variant[] = [];
  const seen = new Set<string>();
  const addBytes = (bytes: Uint8Array, part: Part | undefined): void => {
    const k = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    if (seen.has(k)) return;
    seen.add(k);
    out.push({ bytes, part });
  };
  const add = (text: string, part: Part | undefined): void => addBytes(enc.encode(text), part);
  add(userId, undefined);

  const ws = (what: string): Part => ({ code: 'USER_ID_WHITESPACE', message: `The hash was computed over the user id ${what}.`, fix: 'Hash exactly the id the widget gets: trim ids from forms, files and CSVs (\\r from CRLF lines) on both sides.' });
  const trimmed = userId.trim();
  if (trimmed !== userId && trimmed !== '') add(trimmed, ws('without its surrounding whitespace'));
  add(`${userId}\n`, ws('with a trailing "\\n"'));
  add(`${userId}\r\n`, ws('with a trailing "\\r\\n"'));
  add(`${userId}\r`, ws('with a trailing "\\r"'));
  add(`${userId} `, ws('with a trailing space'));
  add(` ${userId}`, ws('with a leading space'));

  const caseFix = 'HMAC is byte-exact and ids are case-sensitive: hash the id exactly as the widget receives it, no lower/upper-casing on one side.';
  add(userId.toLowerCase(), { code: 'USER_ID_CASE', message: 'The hash was computed over the lowercased user id.', fix: caseFix });
  add(userId.toUpperCase(), { code: 'USER_ID_CASE', message: 'The hash was computed over the uppercased user id.', fix: caseFix });

  const jsonFix = 'Hash the id string itself, not its JSON encoding (JSON.stringify / json.dumps add the quotes).';
  add(JSON.stringify(userId), { code: 'USER_ID_JSON_ENCODED', message: 'The hash was computed over the JSON-encoded id, quotes included.', fix: jsonFix });
  if (/^".*"$/s.test(userId)) {
    try {
      const inner: unknown = JSON.parse(userId);
      if (typeof inner === 'string') add(inner, { code: 'USER_ID_JSON_ENCODED', message: 'The id you gave chatid still has its JSON quotes; the hash was computed over the id without them.', fix: 'Give chatid (and the widget) the id without quotes.' });
    } catch {
      // not JSON: nothing to unwrap
    }
  }

  // Numbers: the widget got "123" but the backend hashed a float or an exponent form.
  if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(userId)) {
    const numFix = 'Send and hash the id as the same string: convert it with String(id) of the integer (str(int(id)) in Python), never through a float.';
    const n = Number(userId);
    if (Number.isFinite(n)) {
      if (/^-?\d+$/.test(userId)) {
        add(`${userId}.0`, { code: 'USER_ID_NUMBER_FORMAT', message: `The hash was computed over "${userId}.0" (a float, as Python's str(float) prints it).`, fix: numFix });
        add(String(n), { code: 'USER_ID_NUMBER_FORMAT', message: `The hash was computed over "${String(n)}", the id after a round trip through a JavaScript number${Number.isSafeInteger(n) ? '' : ' (digits lost beyond 2^53)'}.`, fix: numFix });
        add(n.toExponential(), { code: 'USER_ID_NUMBER_FORMAT', message: `The hash was computed over "${n.toExponential()}", the id in scientific notation.`, fix: numFix });
        const pyExp = n.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
        add(pyExp, { code: 'USER_ID_NUMBER_FORMAT', message: `The hash was computed over "${pyExp}", the id in scientific notation.`, fix: numFix });
      } else {
        const asInt = String(Math.trunc(n));
        if (Number.isInteger(n)) add(asInt, { code: 'USER_ID_NUMBER_FORMAT', message: `The hash was computed over "${asInt}"; the id chatid was given is a float form of it.`, fix: numFix });
      }
    }
  }

  add(`\uFEFF${userId}`, { code: 'USER_ID_BOM', message: 'The hash was computed over the id with a byte-order mark (U+FEFF) in front: the first cell of a UTF-8-with-BOM CSV.', fix: 'Strip the BOM when reading the file (encoding "utf-8-sig" in Python, or strip \\uFEFF).' });
  if (userId.startsWith('\uFEFF')) add(userId.slice(1), { code: 'USER_ID_BOM', message: 'The id you gave chatid starts with a byte-order mark (U+FEFF); the hash was computed without it.', fix: 'Strip the BOM from the id.' });

  if (/^[0-9a-fA-F]{24}$/.test(userId)) {
    const oidFix = 'Hash and send the ObjectId as its 24-hex string (id.toHexString() / str(id)), not its JSON or shell form.';
    add(`{"$oid":"${userId}"}`, { code: 'USER_ID_OBJECT_ID', message: 'The hash was computed over the Mongo ObjectId serialized as {"$oid":"…"}.', fix: oidFix });
    add(`{ "$oid" : "${userId}" }`, { code: 'USER_ID_OBJECT_ID', message: 'The hash was computed over the Mongo ObjectId serialized as { "$oid" : "…" }.', fix: oidFix });
    add(`ObjectId("${userId}")`, { code: 'USER_ID_OBJECT_ID', message: 'The hash was computed over ObjectId("…"), the shell form of the id.', fix: oidFix });
    add(`new ObjectId("${userId}")`, { code: 'USER_ID_OBJECT_ID', message: 'The hash was computed over new ObjectId("…"), the inspect form of the id.', fix: oidFix });
  }

  // Unicode: "é" is one code point (NFC) or "e" + U+0301 (NFD); the bytes differ.
  for (const form of ['NFC', 'NFD'] as const) {
    const n = userId.normalize(form);
    const how = form === 'NFC' ? 'composed, "é" as one character' : 'decomposed, "é" as "e" plus a combining accent';
    if (n !== userId) {
      add(n, {
        code: 'USER_ID_UNICODE_FORM',
        message: `The hash was computed over the user id in Unicode ${form} form (${how}); the id chatid was given is the same text in another form, with other bytes.`,
        fix: "Normalize ids to one form everywhere they are hashed or sent to the widget, NFC as a rule: id.normalize('NFC') in JavaScript, unicodedata.normalize('NFC', id) in Python, Normalizer.normalize(id, Form.NFC) in Java. macOS file names and some keyboards give NFD.",
      });
    }
  }

  // Legacy encodings (ASCII ids are the same bytes in all of them). First the id chatid was
  // given being mojibake (UTF-8 bytes read as Latin-1 / Windows-1252): the likelier reading
  // of the same bytes when they decode cleanly as UTF-8.
  const nonAscii = /[^\p{ASCII}]/u.test(userId);
  const latin1 = nonAscii ? legacyBytes(userId, 'latin1') : undefined;
  const cp1252 = nonAscii ? legacyBytes(userId, 'cp1252') : undefined;
  for (const [name, bytes] of [['Latin-1', latin1], ['Windows-1252', cp1252]] as const) {
    if (!bytes) continue;
    const text = strictUtf8(bytes);
    if (text === undefined || text === userId) continue;
    add(text, {
      code: 'USER_ID_ENCODING',
      message: `The hash was computed over the ${name} bytes of the id you gave chatid, which are the UTF-8 bytes of ${JSON.stringify(text)}: either the id you gave is mojibake (UTF-8 read as ${name}; the real id is ${JSON.stringify(text)}), or the server hashed ${name} bytes. The hash proves the bytes, not which side is wrong.`,
      fix: `If the id is really ${JSON.stringify(text)}, give chatid (and the widget) that, and check the charset of the file, terminal or database you copied it from; if the id is ${JSON.stringify(userId)}, make the server hash its UTF-8 bytes.`,
    });
  }

  // Then the server hashing the id's Latin-1 / Windows-1252 bytes, or its UTF-8 bytes read
  // back as one of them.
  if (nonAscii) {
    const utf8Fix = "Hash the UTF-8 bytes of the id: id.encode('utf-8') in Python, getBytes(StandardCharsets.UTF_8) in Java, Encoding.UTF8.GetBytes(id) in .NET (not Encoding.Default or Latin1); in PHP and SQL check the connection or column charset (utf8mb4, not latin1).";
    const legacy = (name: string): Part => ({ code: 'USER_ID_ENCODING', message: `The hash was computed over the ${name} bytes of the user id, not its UTF-8 bytes.`, fix: utf8Fix });
    if (latin1 && cp1252 && Buffer.from(latin1).equals(Buffer.from(cp1252))) addBytes(latin1, legacy('Latin-1 (ISO-8859-1 / Windows-1252)'));
    else {
      if (latin1) addBytes(latin1, legacy('Latin-1 (ISO-8859-1)'));
      if (cp1252) addBytes(cp1252, legacy('Windows-1252'));
    }
    const utf8 = enc.encode(userId);
    const misreadFix = 'Your server reads the id with the wrong charset before hashing it (a latin1 database connection, a file or request decoded as Latin-1 / Windows-1252): decode it as UTF-8.';
    for (const [name, text] of [['Latin-1', Buffer.from(utf8).toString('latin1')], ['Windows-1252', decodeCp1252(utf8)]] as const) {
      add(text, { code: 'USER_ID_ENCODING', message: `The hash was computed over ${JSON.stringify(text)}: the id's UTF-8 bytes read as ${name} and encoded again (mojibake).`, fix: misreadFix });
    }
  }

  // The id never reached the hashing code: a missing field stringified by the language.
  const missingFix = 'Your server hashed a missing value: check the field name it reads the id from (user.id vs user.uuid / userId) and that the user is loaded first.';
  for (const [text, how] of [['', 'an empty string'], ['undefined', '"undefined" (JavaScript undefined)'], ['null', '"null"'], ['None', '"None" (Python None)'], ['[object Object]', '"[object Object]" (an object, not its id)'], ['nil', '"nil"']] as const) {
    if (text !== userId) add(text, { code: 'USER_ID_MISSING', message: `The hash was computed over ${how} instead of the user id.`, fix: missingFix });
  }

  if (email !== undefined && email !== '') {
    const emailFix = 'This vendor signs the user id, not the email (Crisp, Help Scout and Front sign the email): hash the id.';
    add(email, { code: 'HASHED_EMAIL', message: "The hash was computed over the contact's email instead of the user id.", fix: emailFix });
    add(email.trim().toLowerCase(), { code: 'HASHED_EMAIL', message: "The hash was computed over the contact's email (normalized) instead of the user id.", fix: emailFix });
  }
  return out;
}

/** Windows-1252 bytes 0x80–0x9F (the five undefined ones map to the C1 control of the same value, as in WHATWG). */
const CP1252_HIGH = '\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u008D\u017D\u008F\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u009D\u017E\u0178';

/** The id's bytes in a one-byte charset, or undefined when a character has no byte there. */
function legacyBytes(text: string, charset: 'latin1' | 'cp1252'): Uint8Array | undefined {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80 || (c >= 0xa0 && c <= 0xff) || (charset === 'latin1' && c <= 0xff)) out[i] = c;
    else if (charset === 'cp1252' && CP1252_HIGH.includes(text[i]!)) out[i] = 0x80 + CP1252_HIGH.indexOf(text[i]!);
    else return undefined;
  }
  return out;
}

function decodeCp1252(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b >= 0x80 && b < 0xa0 ? CP1252_HIGH[b - 0x80]! : String.fromCharCode(b);
  return s;
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
function strictUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8Strict.decode(bytes);
  } catch {
    return undefined;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
