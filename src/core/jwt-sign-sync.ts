import { createHmac } from 'node:crypto';

// base64url('{"alg":"HS256","typ":"JWT"}'), the header of every token chatid signs.
const HEADER_B64 = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9';

/**
 * Synchronous HS256 signer on node:crypto for `--batch`: the same bytes as jose's
 * {@link signHs256} (pinned by test) without a promise and a WebCrypto call per token.
 * @example signHs256Sync(new TextEncoder().encode('x'.repeat(32)), { sub: 'user_123' }) // 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyXzEyMyJ9.…'
 */
export function signHs256Sync(key: Uint8Array, payload: Record<string, unknown>): string {
  const input = `${HEADER_B64}.${Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url')}`;
  return `${input}.${createHmac('sha256', key).update(input, 'latin1').digest('base64url')}`;
}

/**
 * A reusable signer bound to one key: `createHmac` with a Buffer key per call, no re-encoding
 * of the secret. Use for millions of tokens.
 * @example const sign = hs256Signer(key); sign({ sub: 'a' }); sign({ sub: 'b' })
 */
export function hs256Signer(key: Uint8Array): (payload: Record<string, unknown>) => string {
  const k = Buffer.from(key);
  return (payload) => {
    const input = `${HEADER_B64}.${Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url')}`;
    return `${input}.${createHmac('sha256', k).update(input, 'latin1').digest('base64url')}`;
  };
}

/**
 * Like {@link hs256Signer}, but takes the payload already serialised as JSON text, so a
 * batch can build it from a template without an object per row. The caller guarantees that
 * `json` is what JSON.stringify would produce for the payload (then the token is identical).
 * @example hs256JsonSigner(key)('{"sub":"user_123"}') === hs256Signer(key)({ sub: 'user_123' }) // true
 */
export function hs256JsonSigner(key: Uint8Array): (json: string) => string {
  const k = Buffer.from(key);
  return (json) => {
    const input = `${HEADER_B64}.${Buffer.from(json, 'utf8').toString('base64url')}`;
    return `${input}.${createHmac('sha256', k).update(input, 'latin1').digest('base64url')}`;
  };
}
