/**
 * Bookbag client (vendors.md §3): the Chatbase v1 contact paths (create upserts by
 * external_id) and v2 chat with `userId` (stream frames carry `text`, not `delta`).
 * Agent ids are numeric.
 */
import { type AgentApiClient, createAgentApiClient } from './agent-api.js';
import type { VendorClientOptions } from './chatbase.js';
import { createHttpClient, type RateLimitOptions } from './http.js';

/** Bookbag allows 100 requests per 10 s per key; stay 5 % under it: the limiter spaces start times, the server counts arrivals a few ms later. */
export const BOOKBAG_RATE_LIMIT: Readonly<RateLimitOptions> = { limit: 95, windowMs: 10_000 };

export function bookbagClient(o: VendorClientOptions): AgentApiClient {
  const http = createHttpClient({ rateLimit: BOOKBAG_RATE_LIMIT, ...o, vendor: 'Bookbag' });
  return createAgentApiClient({ vendor: 'bookbag', http, agentId: o.agentId });
}
