import type { Ctx } from '../../cli/context.js';
import { emit } from '../../cli/output.js';

/** `token sign`'s JSON shape (../shared/spec/cli.md §5), plus the provider and the contact OpenCX returned. */
export interface SignOpencxResult {
  token: string;
  /** The token's header and claims, decoded without verification (OpenCX signs with its own key); null when it is not a JWT. */
  header: Record<string, unknown> | null;
  payload: Record<string, unknown> | null;
  expiresAt: string | null;
  provider: 'opencx';
  contact: { id: string; [k: string]: unknown } | null;
}

/**
 * `token sign --provider opencx`: ask OpenCX to mint a contact token
 * (`POST /widget/authenticate-user` with the org API key, ../shared/spec/vendors.md §6) and
 * print it: the token alone, or with `json` the SignOpencxResult document.
 */
export async function signOpencx(o: { email: string; name?: string | undefined; phone?: string | undefined; customData?: Record<string, string> | undefined; json: boolean }, ctx: Ctx): Promise<void> {
  const { openOpencx, resolveVendorSettings } = await import('../../vendors/factory.js');
  const settings = await resolveVendorSettings(ctx, { provider: 'opencx' });
  const client = await openOpencx(ctx, settings);
  const r = await client.authenticateUser({ email: o.email, name: o.name, phone: o.phone, customData: o.customData });
  const parts = r.token.split('.');
  const header = parts.length === 3 ? decodeSegment(parts[0]) : null;
  const payload = parts.length === 3 ? decodeSegment(parts[1]) : null;
  const exp = payload && typeof payload.exp === 'number' ? new Date(payload.exp * 1000).toISOString() : null;
  const result: SignOpencxResult = { token: r.token, header, payload, expiresAt: exp, provider: 'opencx', contact: r.contact ?? null };
  emit(ctx, result, (x) => x.token);
}

/** A base64url JSON object segment of a JWT, or null when it is not one. */
function decodeSegment(part: string | undefined): Record<string, unknown> | null {
  if (part === undefined) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
