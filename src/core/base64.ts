/**
 * Strict base64 and base64url decoding. Node's decoders skip junk (spaces, `=` in the
 * middle, the other alphabet, non-zero unused bits), so a token that is not what the vendor
 * would accept can still "decode". These accept only the canonical encoding.
 */

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const B64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Decode standard, padded base64; undefined unless `text` is the canonical encoding.
 * @example decodeBase64Strict('AQID') // Uint8Array [1, 2, 3]
 */
export function decodeBase64Strict(text: string): Uint8Array | undefined {
  if (!B64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  // Non-zero unused bits in the last character decode to the same bytes: not canonical.
  if (bytes.toString('base64') !== text) return undefined;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/**
 * Decode unpadded base64url (RFC 7515 §2); undefined unless canonical.
 * @example decodeBase64UrlStrict('eyJ9') // bytes of '{"}'
 */
export function decodeBase64UrlStrict(text: string): Uint8Array | undefined {
  if (!B64URL.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) return undefined;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** @example encodeBase64Url(new Uint8Array([251])) // '-w' */
export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** @example encodeBase64(new Uint8Array([1, 2, 3])) // 'AQID' */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
