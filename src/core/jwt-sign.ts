/** The only JWS header chatid writes (../shared/spec/vendors.md §1). */
export const HS256_HEADER = { alg: 'HS256', typ: 'JWT' } as const;

/**
 * Sign `payload` as a compact HS256 JWS with jose, header `{"alg":"HS256","typ":"JWT"}`.
 * The payload is serialised with JSON.stringify in its own key order, so the result is
 * byte-for-byte what {@link signHs256Sync} produces. Loads jose: call it from a run function.
 * @example await signHs256(new TextEncoder().encode('x'.repeat(32)), { sub: 'user_123' }) // 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyXzEyMyJ9.…'
 */
export async function signHs256(key: Uint8Array, payload: Record<string, unknown>): Promise<string> {
  const { SignJWT } = await import('jose');
  return new SignJWT(payload).setProtectedHeader({ ...HS256_HEADER }).sign(key);
}
