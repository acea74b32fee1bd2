/**
 * Mint a TeamWeb identity token (vendors.md §4): AES-256-GCM, 12-byte nonce, no AAD,
 * token = standard base64 of nonce ‖ ciphertext ‖ tag(16). Pure: the nonce is a parameter
 * (the caller passes ctx.random(12)).
 */
import { createCipheriv, createSecretKey, type KeyObject } from 'node:crypto';

/** Nonce and tag sizes of the TeamWeb token layout. */
export const TEAMWEB_NONCE_BYTES = 12;
export const TEAMWEB_TAG_BYTES = 16;

/** Tokens longer than this (characters) are refused by decrypt before decoding, and never made by encrypt. */
export const MAX_TEAMWEB_TOKEN_CHARS = 64 * 1024;

/** The longest plaintext (UTF-8 bytes) whose token stays within MAX_TEAMWEB_TOKEN_CHARS: 49 124. */
export const MAX_TEAMWEB_PLAINTEXT_BYTES = (MAX_TEAMWEB_TOKEN_CHARS / 4) * 3 - TEAMWEB_NONCE_BYTES - TEAMWEB_TAG_BYTES;

/**
 * Encrypt `plaintext` (text as UTF-8, or bytes) into a TeamWeb token.
 * @example encryptTeamWeb(key32, '{"id":"user_123"}', ctx.random(12)) // base64 text, 28 bytes + plaintext
 */
export function encryptTeamWeb(key: Uint8Array | KeyObject, plaintext: string | Uint8Array, nonce: Uint8Array): string {
  if (nonce.length !== TEAMWEB_NONCE_BYTES) throw new RangeError(`TeamWeb nonces are ${TEAMWEB_NONCE_BYTES} bytes, got ${nonce.length}`);
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TEAMWEB_TAG_BYTES });
  const body = typeof plaintext === 'string' ? c.update(plaintext, 'utf8') : c.update(plaintext);
  c.final(); // GCM is a stream mode: final() yields no bytes, it computes the tag
  // One allocation for nonce ‖ ciphertext ‖ tag (measurably faster than Buffer.concat in --batch).
  const out = Buffer.allocUnsafe(TEAMWEB_NONCE_BYTES + body.length + TEAMWEB_TAG_BYTES);
  out.set(nonce, 0);
  out.set(body, TEAMWEB_NONCE_BYTES);
  out.set(c.getAuthTag(), TEAMWEB_NONCE_BYTES + body.length);
  return out.toString('base64');
}

/**
 * An encrypter for many tokens under one key (`encrypt --batch`): the key is imported once.
 * @example const e = teamWebEncrypter(key32); e('{"id":"u1"}', nonce1); e('{"id":"u2"}', nonce2);
 */
export function teamWebEncrypter(key: Uint8Array): (plaintext: string, nonce: Uint8Array) => string {
  const k = createSecretKey(key);
  return (plaintext, nonce) => encryptTeamWeb(k, plaintext, nonce);
}
