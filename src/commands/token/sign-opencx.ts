import type { Ctx } from '../../cli/context.js';
import { emit } from '../../cli/output.js';

/** `token sign` for OpenCX, as JSON. */
export interface SignOpencxResult {
  token: string;
  provider: 'opencx';
  contact: { id: string; [k: string]: unknown } | null;
  /** The token's claims, decoded without verification (OpenCX signs with its own key). */
  payload: Record<string, unknown> | null;
  expiresAt: string | null;
}

/**
 * `token sign --provider opencx`: ask OpenCX to mint a contact token
 * (`POST /widget/authenticate-user` with the org API key, ../shared/spec/vendors.md §6) and
 * print it: the token alone, or with `json` the SignOpencxResult document.
 */
export async function signOpencx(o: { email: string; name?: string; json: boolean }, ctx: Ctx): Promise<void> {
  const { openOpencx, resolveVendorSettings } = await import('../../vendors/factory.js');
  const settings = await resolveVendorSettings(ctx, { provider: 'opencx' });
  const client = await openOpencx(ctx, settings);
  const r = await client.authenticateUser({ email: o.email, name: o.name });
  const payload = decodePayload(r.token);
  const exp = payload && typeof payload.exp === 'number' ? new Date(payload.exp * 1000).toISOString() : null;
  const result: SignOpencxResult = { token: r.token, provider: 'opencx', contact: r.contact ?? null, payload, expiresAt: exp };
  emit(ctx, result, (x) => x.token);
}

function decodePayload(token: string): Record<string, unknown> | null {
  const part = token.split('.')[1];
  if (part === undefined) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
