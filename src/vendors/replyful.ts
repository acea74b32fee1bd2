/**
 * Replyful client (vendors.md §5.2). Only `GET /v1/conversations` exists, so chatid uses it
 * to check the key; there are no contacts or chat endpoints.
 */
import type { CheckResult } from './agent-api.js';
import type { VendorClientOptions } from './chatbase.js';
import { createHttpClient, type RateLimitOptions } from './http.js';
import type { ClientStats } from './types.js';

/** Replyful allows 100 requests per 60 s per key; stay 5 % under it: the limiter spaces start times, the server counts arrivals a few ms later. */
export const REPLYFUL_RATE_LIMIT: Readonly<RateLimitOptions> = { limit: 95, windowMs: 60_000 };

export interface ReplyfulClient {
  readonly vendor: 'replyful';
  readonly stats: ClientStats;
  check(o?: { signal?: AbortSignal }): Promise<CheckResult>;
}

export function replyfulClient(o: VendorClientOptions): ReplyfulClient {
  const http = createHttpClient({ rateLimit: REPLYFUL_RATE_LIMIT, ...o, vendor: 'Replyful' });
  return {
    vendor: 'replyful',
    get stats() {
      return http.stats;
    },
    async check(c = {}) {
      const { data } = await http.json<{ data?: unknown[]; hasMore?: boolean } | null>('GET', '/v1/conversations', { query: { limit: 1 }, signal: c.signal });
      const n = Array.isArray(data?.data) ? data.data.length : 0;
      return { ok: true, endpoint: 'GET /v1/conversations?limit=1', detail: n > 0 || data?.hasMore ? 'key accepted; conversations visible' : 'key accepted; no conversations yet' };
    },
  };
}
