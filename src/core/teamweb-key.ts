/**
 * The TeamWeb identity key (vendors.md §4): standard base64 of exactly 32 bytes, shown by
 * the vendor when the Browser External channel is enabled. Pure; errors say what is wrong
 * with the key, never the key itself.
 */
import { UsageError } from '../cli/errors.js';
import { decodeBase64Strict, decodeBase64UrlStrict } from './base64.js';

/**
 * AES-256 key bytes from a TeamWeb identity secret: `base64` text (a `base64:` prefix is
 * tolerated) or `hex:` of 32 bytes.
 * @throws UsageError ERR_SECRET_NOT_BASE64 (not canonical base64), ERR_SECRET_KEY_LENGTH (not 32 bytes)
 * @example parseTeamWebKey(Buffer.alloc(32, 1).toString('base64')).length // 32
 */
export function parseTeamWebKey(secret: string): Uint8Array {
  const text = secret.startsWith('base64:') ? secret.slice(7) : secret;
  let bytes: Uint8Array | undefined;
  if (text.startsWith('hex:')) {
    const hex = text.slice(4);
    bytes = /^(?:[0-9a-fA-F]{2})+$/.test(hex) ? new Uint8Array(Buffer.from(hex, 'hex')) : undefined;
    if (!bytes) throw notBase64('The TeamWeb key starts with "hex:" but the rest is not hex.', 'Paste the identity secret exactly as TeamWeb shows it (base64).');
  } else {
    bytes = decodeBase64Strict(text);
    if (!bytes) {
      const trimmed = text.trim();
      let hint = 'Paste the identity secret exactly as TeamWeb shows it: standard base64 (A-Z a-z 0-9 + /, = padding) of 32 bytes.';
      if (trimmed !== text && decodeBase64Strict(trimmed)) hint = 'The key has surrounding whitespace or a newline; remove it.';
      else if (decodeBase64UrlStrict(text.replace(/=+$/, ''))) hint = 'The key uses the base64url alphabet (- and _) or lacks padding; TeamWeb keys are standard base64 with = padding.';
      else if (text.length % 4 !== 0 && decodeBase64Strict(`${text}${'='.repeat(4 - (text.length % 4))}`)) hint = 'The "=" padding at the end is missing; TeamWeb keys are standard padded base64 (44 characters for 32 bytes).';
      else if (/^(["']).*\1$/.test(trimmed)) hint = 'The key is wrapped in quotes; remove them.';
      throw notBase64('The TeamWeb identity key is not valid base64.', hint);
    }
  }
  if (bytes.length !== 32) {
    throw new UsageError('ERR_SECRET_KEY_LENGTH', `The TeamWeb identity key decodes to ${bytes.length} bytes; AES-256-GCM needs exactly 32.`, {
      hint: bytes.length === 44 || bytes.length === 33 ? 'It looks like the base64 text was encoded again; paste the identity secret exactly as TeamWeb shows it.' : 'Copy the whole identity secret from TeamWeb (Browser External channel); a 32-byte key is 44 base64 characters ending in "=".',
    });
  }
  return bytes;
}

function notBase64(message: string, hint: string): UsageError {
  return new UsageError('ERR_SECRET_NOT_BASE64', message, { hint });
}
