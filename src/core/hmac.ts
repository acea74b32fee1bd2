/**
 * HMAC user hashes (vendors.md §1, §2.2, §3.1): hex(HMAC-SHA256(key, userId)). Pure: bytes
 * in, text out. The key is the secret's UTF-8 bytes (or the bytes of a `hex:`/`base64:`
 * secret, decoded by the caller with parseSecretKey); vendors never base64-decode it.
 */
import { createHash, createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';

/** Digest algorithms the doctor recomputes with (node:crypto names). */
export type HmacAlgorithm = 'sha256' | 'sha1' | 'sha512';

const enc = new TextEncoder();

/**
 * Raw HMAC bytes of `message` under `key` (text keys are their UTF-8 bytes).
 * @example hmacBytes('key', 'msg', 'sha1').length // 20
 */
export function hmacBytes(key: Uint8Array | string, message: Uint8Array | string, algorithm: HmacAlgorithm = 'sha256'): Buffer {
  return createHmac(algorithm, typeof key === 'string' ? enc.encode(key) : key)
    .update(typeof message === 'string' ? enc.encode(message) : message)
    .digest();
}

/**
 * The user hash a chat widget expects: lowercase hex HMAC-SHA256, 64 characters.
 * @example userHash('sk_test_123', 'user_123') // 64 lowercase hex chars
 */
export function userHash(key: Uint8Array | string, userId: string): string {
  return hmacBytes(key, userId).toString('hex');
}

/**
 * A hasher for many ids under one key (`hash --batch`): the key is imported once as a
 * KeyObject, so each row costs one HMAC and nothing else.
 * @example const h = userHasher(key); h('user_1'); h('user_2');
 */
export function userHasher(key: Uint8Array | string): (userId: string) => string {
  const k: KeyObject = createSecretKey(typeof key === 'string' ? enc.encode(key) : key);
  return (userId) => createHmac('sha256', k).update(userId, 'utf8').digest('hex');
}

/**
 * Plain (unkeyed) digest, for the doctor's PLAIN_SHA256 check.
 * @example plainDigest('user_123').length // 32
 */
export function plainDigest(message: Uint8Array | string, algorithm: HmacAlgorithm = 'sha256'): Buffer {
  return createHash(algorithm).update(typeof message === 'string' ? enc.encode(message) : message).digest();
}

/**
 * Compare two hash strings in constant time (for their length): the comparison itself
 * leaks nothing about where they differ. Different lengths are unequal, and still cost a
 * full comparison.
 * @example hashesEqual('ab', 'ab') // true
 */
export function hashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  if (x.length !== y.length) {
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}
