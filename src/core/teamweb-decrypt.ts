/**
 * Open a TeamWeb identity token (vendors.md §4) strictly: canonical standard base64, at
 * least nonce(12) + tag(16) bytes, a GCM tag that verifies, a UTF-8 JSON object inside.
 * Each failure has its own code (cli.md §5) and, where chatid can prove what the encoder did
 * wrong (no tag appended, a 16-byte IV, the tag in front), a hint saying so. Pure.
 */
import { createCipheriv, createDecipheriv, type KeyObject } from 'node:crypto';
import { VerificationError } from '../cli/errors.js';
import { decodeBase64Strict, decodeBase64UrlStrict } from './base64.js';
import { duplicateMemberNames } from './jwt-parse.js';
import { MAX_TEAMWEB_TOKEN_CHARS, TEAMWEB_NONCE_BYTES, TEAMWEB_TAG_BYTES } from './teamweb-encrypt.js';

export { MAX_TEAMWEB_TOKEN_CHARS };

export interface TeamWebWarning {
  code: 'MISSING_ID' | 'ID_NOT_STRING' | 'ID_WHITESPACE' | 'DUPLICATE_MEMBER' | 'PREVIOUS_SECRET';
  message: string;
}

export interface TeamWebDecrypted {
  payload: Record<string, unknown>;
  warnings: TeamWebWarning[];
}

/**
 * Decrypt and check a TeamWeb token.
 * @throws VerificationError ERR_DECRYPT_BASE64, ERR_DECRYPT_LENGTH, ERR_DECRYPT_TAG, ERR_DECRYPT_NOT_JSON, ERR_DECRYPT_NOT_OBJECT
 * @example decryptTeamWeb(key32, token).payload.id // 'user_123'
 */
export function decryptTeamWeb(key: Uint8Array | KeyObject, token: string): TeamWebDecrypted {
  if (token.length > MAX_TEAMWEB_TOKEN_CHARS) {
    throw new VerificationError('ERR_DECRYPT_LENGTH', `The token is ${token.length} characters; a TeamWeb identity token is far shorter (limit ${MAX_TEAMWEB_TOKEN_CHARS}).`, {
      hint: 'Pass the token alone, not a file or a page.',
    });
  }
  const bytes = decodeBase64Strict(token);
  if (!bytes) throw new VerificationError('ERR_DECRYPT_BASE64', 'The token is not canonical standard base64.', { hint: base64Hint(token) });
  const min = TEAMWEB_NONCE_BYTES + TEAMWEB_TAG_BYTES;
  if (bytes.length < min) {
    throw new VerificationError('ERR_DECRYPT_LENGTH', `The token is ${bytes.length} bytes; a TeamWeb token is at least ${min} (12-byte nonce + 16-byte tag) plus the payload.`, {
      hint: 'Copy the whole token; check that the encoder writes nonce ‖ ciphertext ‖ tag.',
    });
  }
  const plain = openParts(key, bytes.subarray(0, TEAMWEB_NONCE_BYTES), bytes.subarray(TEAMWEB_NONCE_BYTES, bytes.length - TEAMWEB_TAG_BYTES), bytes.subarray(bytes.length - TEAMWEB_TAG_BYTES));
  if (!plain) {
    // 64 hex characters are valid base64 too; a random token is almost never hex alone.
    const hint = /^[0-9a-fA-F]{64}$/.test(token)
      ? 'This looks like an HMAC user hash (64 hex characters), not a TeamWeb token: `chatid hash <userId> --expect <hash>` checks those.'
      : tagHint(key, bytes);
    throw new VerificationError('ERR_DECRYPT_TAG', 'Decryption failed: the authentication tag does not verify.', { hint });
  }
  return checkPayload(plain);
}

/**
 * Decrypt from separate parts, as test vectors give them. Sizes other than the token
 * layout's (12-byte IV, 16-byte tag) are refused by format, before any decryption.
 * @throws VerificationError ERR_DECRYPT_FORMAT, ERR_DECRYPT_TAG
 * @example decryptTeamWebParts(key32, { iv, ciphertext, tag }) // Buffer of plaintext
 */
export function decryptTeamWebParts(key: Uint8Array | KeyObject, p: { iv: Uint8Array; ciphertext: Uint8Array; tag: Uint8Array }): Buffer {
  if (p.iv.length !== TEAMWEB_NONCE_BYTES || p.tag.length !== TEAMWEB_TAG_BYTES) {
    throw new VerificationError('ERR_DECRYPT_FORMAT', `A TeamWeb token has a ${TEAMWEB_NONCE_BYTES}-byte nonce and a ${TEAMWEB_TAG_BYTES}-byte tag, not ${p.iv.length} and ${p.tag.length}.`, {
      hint: 'Encrypt with a 12-byte random nonce and the full 16-byte GCM tag.',
    });
  }
  const plain = openParts(key, p.iv, p.ciphertext, p.tag);
  if (!plain) throw new VerificationError('ERR_DECRYPT_TAG', 'Decryption failed: the authentication tag does not verify.', { hint: 'Wrong key, or the data was altered.' });
  return plain;
}

function openParts(key: Uint8Array | KeyObject, iv: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array): Buffer | undefined {
  try {
    const d = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: tag.length });
    d.setAuthTag(tag);
    return Buffer.concat([d.update(ciphertext), d.final()]);
  } catch {
    return undefined;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function checkPayload(plain: Buffer): TeamWebDecrypted {
  let text: string;
  let value: unknown;
  try {
    text = utf8.decode(plain);
    value = JSON.parse(text);
  } catch {
    throw new VerificationError('ERR_DECRYPT_NOT_JSON', `The token decrypts (the key is right), but the ${plain.length}-byte payload is not UTF-8 JSON.`, {
      hint: 'Encrypt JSON.stringify({ id, name, email }) as UTF-8, e.g. json.dumps(payload).encode() in Python.',
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new VerificationError('ERR_DECRYPT_NOT_OBJECT', `The token decrypts to JSON ${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value}, not an object.`, {
      hint: 'Encrypt an object: {"id":"user_123","name":…,"email":…}.',
    });
  }
  const payload = value as Record<string, unknown>;
  const warning = payloadIdWarning(payload);
  const warnings: TeamWebWarning[] = warning ? [warning] : [];
  // {"id":"admin","id":"u1"}: JSON.parse keeps the last; TeamWeb's parser may keep the first.
  const dups = duplicateMemberNames(text);
  if (dups.length > 0) {
    warnings.push({ code: 'DUPLICATE_MEMBER', message: `The payload holds ${dups.map((n) => JSON.stringify(n)).join(', ')} more than once. chatid reads the last value, but a parser that reads the first sees another: write each name once.` });
  }
  return { payload, warnings };
}

function base64Hint(token: string): string {
  const t = token.trim();
  if (/^bearer\s/i.test(t)) return 'Remove the "Bearer " prefix: pass the token alone.';
  if (/^(["'`]).*\1$/s.test(t)) return 'Remove the quotes around the token.';
  if (/^eyJ[\w-]*\.[\w-]*\.[\w-]*$/.test(t)) return 'This is a JWT (eyJ….….…), not a TeamWeb token: check it with `chatid token verify <token>`.';
  if (t !== token || /\s/.test(t)) return 'The token holds whitespace or a line break; copy it as one line.';
  if (decodeBase64Strict(`${t}${'='.repeat((4 - (t.length % 4)) % 4)}`)) return 'The "=" padding at the end is missing; TeamWeb tokens are standard padded base64.';
  if (/[-_]/.test(t) && decodeBase64UrlStrict(t.replace(/=+$/, ''))) return 'The token uses the base64url alphabet (- and _); TeamWeb tokens are standard base64 (+ and /, with = padding).';
  if (/^[A-Za-z0-9+/]*={0,2}$/.test(t)) return 'The last character has non-zero unused bits or the length is wrong: the token was altered or truncated.';
  return 'A TeamWeb token is standard base64 (A-Z a-z 0-9 + /, = padding) of nonce ‖ ciphertext ‖ tag.';
}

/** Explain a tag failure when another layout provably decrypts; otherwise the usual suspects. */
function tagHint(key: Uint8Array | KeyObject, bytes: Uint8Array): string {
  // No tag appended (Node without getAuthTag()): GCM's ciphertext is CTR from counter 2.
  try {
    const iv = Buffer.alloc(16);
    Buffer.from(bytes.subarray(0, 12)).copy(iv);
    iv.writeUInt32BE(2, 12);
    const c = createCipheriv('aes-256-ctr', key, iv);
    const plain = Buffer.concat([c.update(bytes.subarray(12)), c.final()]);
    if (isJsonObject(plain)) return '16 bytes short: the token has no authentication tag. Did the encoder forget to append cipher.getAuthTag()?';
  } catch {
    // key of the wrong type for CTR: no proof either way
  }
  if (bytes.length >= 16 + TEAMWEB_TAG_BYTES) {
    const alt = openParts(key, bytes.subarray(0, 16), bytes.subarray(16, bytes.length - TEAMWEB_TAG_BYTES), bytes.subarray(bytes.length - TEAMWEB_TAG_BYTES));
    if (alt) return 'The token decrypts with a 16-byte nonce; TeamWeb uses a 12-byte nonce (randomBytes(12)).';
  }
  const tagFirst = openParts(key, bytes.subarray(0, 12), bytes.subarray(28), bytes.subarray(12, 28));
  if (tagFirst) return 'The token decrypts with the tag before the ciphertext; TeamWeb expects nonce ‖ ciphertext ‖ tag.';
  // Encoded twice (base64 of the base64 text, e.g. b64encode of a str already encoded): the
  // decoded bytes are base64 text of a token that opens.
  const inner = decodeBase64Strict(Buffer.from(bytes).toString('latin1'));
  if (inner && inner.length >= TEAMWEB_NONCE_BYTES + TEAMWEB_TAG_BYTES) {
    const twice = openParts(key, inner.subarray(0, TEAMWEB_NONCE_BYTES), inner.subarray(TEAMWEB_NONCE_BYTES, inner.length - TEAMWEB_TAG_BYTES), inner.subarray(inner.length - TEAMWEB_TAG_BYTES));
    if (twice) return 'The token is base64-encoded twice: its base64 decodes to base64 text, and that decrypts. Encode nonce ‖ ciphertext ‖ tag once.';
  }
  return 'Wrong key (compare fingerprints with `chatid secret show`), or the token was altered or cut in transit.';
}

function isJsonObject(b: Buffer): boolean {
  try {
    const v: unknown = JSON.parse(utf8.decode(b));
    return typeof v === 'object' && v !== null;
  } catch {
    return false;
  }
}

/**
 * What is wrong with a TeamWeb payload's `id`, if anything: absent, null or empty (the visitor
 * stays anonymous), or not a string. Shared by `decrypt` and `encrypt --payload`.
 */
export function payloadIdWarning(payload: Record<string, unknown>): TeamWebWarning | undefined {
  const has = Object.prototype.hasOwnProperty.call(payload, 'id');
  if (!has || payload.id === '' || payload.id === null) {
    const what = !has ? 'has no "id"' : payload.id === null ? 'has "id": null' : 'has an empty "id"';
    return { code: 'MISSING_ID', message: `The payload ${what}: TeamWeb needs it to link the visitor to a contact, so the visitor stays anonymous.` };
  }
  if (typeof payload.id !== 'string') {
    return { code: 'ID_NOT_STRING', message: `The payload's "id" is a ${typeof payload.id}, not a string; TeamWeb expects a string (the contact's External ID).` };
  }
  if (payload.id.trim() !== payload.id) {
    // Escaped so the whitespace shows: a no-break space or a BOM would print as nothing.
    const shown = JSON.stringify(payload.id).replace(/[\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    return { code: 'ID_WHITESPACE', message: `The payload's "id" ${shown} has leading or trailing whitespace; TeamWeb links the contact whose External ID matches it byte for byte.` };
  }
  return undefined;
}
