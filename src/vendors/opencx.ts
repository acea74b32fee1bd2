/**
 * OpenCX client (vendors.md §6): `POST /widget/authenticate-user` with the org API key
 * returns a contact token (JWT) for the widget's `user.token`. Any 2xx is success (the
 * docs disagree between 200 and 201); `contact` is optional (older versions omit it).
 */
import { VendorError } from '../cli/errors.js';
import type { CheckResult } from './agent-api.js';
import type { VendorClientOptions } from './chatbase.js';
import { badResponse, createHttpClient, type HttpErrorDetails, type RateLimitOptions } from './http.js';
import type { ClientStats } from './types.js';

/** OpenCX allows 100 requests per minute (standard); stay 5 % under it: the limiter spaces start times, the server counts arrivals a few ms later. */
export const OPENCX_RATE_LIMIT: Readonly<RateLimitOptions> = { limit: 95, windowMs: 60_000 };

export interface OpencxUserInput {
  email: string;
  name?: string | undefined;
  avatar_url?: string | null | undefined;
  phone?: string | undefined;
  language?: string | undefined;
  customData?: Record<string, unknown> | undefined;
  chat_context?: string | undefined;
}

export interface OpencxAuthResult {
  token: string;
  contact: { id: string; [k: string]: unknown } | undefined;
  status: number;
}

export interface OpencxClient {
  readonly vendor: 'opencx';
  readonly stats: ClientStats;
  authenticateUser(input: OpencxUserInput, o?: { signal?: AbortSignal }): Promise<OpencxAuthResult>;
  check(o?: { signal?: AbortSignal }): Promise<CheckResult>;
}

/** The `token sign` flag that fills each authenticate-user field (fields without one come from nowhere the user controls). */
const FIELD_FLAGS: Readonly<Record<string, string>> = { email: '--email', name: '--name', phone: '--phone', customData: '--attr' };

/**
 * A 400/422 to authenticate-user, in the words of a contact refused: OpenCX's messages once
 * (NestJS sends them as an array, each starting with the property's name), and a hint naming
 * the flags behind the fields OpenCX named. Other errors pass through unchanged.
 */
function refusedContact(err: unknown): unknown {
  if (!(err instanceof VendorError) || err.code !== 'ERR_VENDOR_REJECTED') return err;
  const details = err.details as HttpErrorDetails | undefined;
  if (!details || (details.status !== 400 && details.status !== 422)) return err;
  const said = details.issues.length > 0 ? details.issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join('; ') : details.vendorMessage;
  const flags = [...new Set(details.issues.map((i) => FIELD_FLAGS[i.field ?? /^\S+/.exec(i.message)?.[0] ?? '']).filter((f): f is string => f !== undefined))];
  const hint = flags.length > 0 ? `Correct ${flags.join(', ')} as OpenCX says and run again.` : 'Correct the contact as OpenCX says and run again.';
  return new VendorError('ERR_VENDOR_REJECTED', `OpenCX refused the contact (${details.status} to POST /widget/authenticate-user): ${said.replace(/[.\s]+$/, '')}.`, { details, hint, cause: err });
}

export function opencxClient(o: VendorClientOptions): OpencxClient {
  const http = createHttpClient({ rateLimit: OPENCX_RATE_LIMIT, ...o, vendor: 'OpenCX' });
  const client: OpencxClient = {
    vendor: 'opencx',
    get stats() {
      return http.stats;
    },
    async authenticateUser(input, c = {}) {
      const body = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
      const { status, data } = await http.json<unknown>('POST', '/widget/authenticate-user', { body, signal: c.signal }).catch((err: unknown) => {
        throw refusedContact(err);
      });
      const d = data as { token?: unknown; contact?: unknown; data?: { token?: unknown; contact?: unknown } } | null;
      const src = d && typeof d.token === 'string' ? d : d?.data;
      if (!src || typeof src.token !== 'string' || src.token === '') throw badResponse('OpenCX', 'authenticate-user');
      const contact = src.contact && typeof src.contact === 'object' && typeof (src.contact as { id?: unknown }).id !== 'undefined'
        ? { ...(src.contact as Record<string, unknown>), id: String((src.contact as { id: unknown }).id) }
        : undefined;
      return { token: src.token, contact, status };
    },
    async check(c = {}) {
      // OpenCX documents no read-only endpoint for an org key. An empty authenticate-user
      // body proves the key without creating a contact: the auth guard answers 401/403
      // before validation answers 400 (NestJS order), and a 400 means the key passed.
      try {
        await http.json<unknown>('POST', '/widget/authenticate-user', { body: {}, signal: c.signal });
      } catch (err) {
        const status = (err as { details?: { status?: unknown } }).details?.status;
        if (!(err instanceof VendorError) || (status !== 400 && status !== 422)) throw err;
      }
      return { ok: true, endpoint: 'POST /widget/authenticate-user (empty body)', detail: 'key accepted' };
    },
  };
  return client;
}
