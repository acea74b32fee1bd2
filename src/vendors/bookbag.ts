/**
 * Bookbag client (vendors.md §3): the Chatbase v1 contact paths (create upserts by
 * external_id) and v2 chat with `userId` (stream frames carry `text`, not `delta`).
 * Agent ids are numeric, and so are conversation ids.
 */
import { type AgentApiClient, createAgentApiClient } from './agent-api.js';
import type { VendorClientOptions } from './chatbase.js';
import { createHttpClient, type RateLimitOptions } from './http.js';

/** Bookbag allows 100 requests per 10 s per key; stay 5 % under it: the limiter spaces start times, the server counts arrivals a few ms later. */
export const BOOKBAG_RATE_LIMIT: Readonly<RateLimitOptions> = { limit: 95, windowMs: 10_000 };

/**
 * Why `id` cannot be a Bookbag conversation id, or undefined when it can: the v2 chat body
 * takes an integer (vendors.md §3.2), so anything else would only come back as a 400.
 * @example bookbagConversationIdProblem('abc') // '"abc" is not a whole number'
 */
export function bookbagConversationIdProblem(id: string): string | undefined {
  if (!/^\d+$/.test(id)) return `"${id}" is not a whole number`;
  if (!Number.isSafeInteger(Number(id))) return `${id} is too large for an id`;
  return undefined;
}

/**
 * A Bookbag conversation id as a number, the type of its API (vendors.md §3.2), whether it
 * came as `456` or, as in the vendor's stream example, `"456"`; anything else as it came.
 * `chat --json` and `conversations list --json` thus agree.
 * @example bookbagConversationId('456') // 456
 */
export function bookbagConversationId<T>(id: T): T | number {
  return typeof id === 'string' && bookbagConversationIdProblem(id) === undefined ? Number(id) : id;
}

export function bookbagClient(o: VendorClientOptions): AgentApiClient {
  const http = createHttpClient({ rateLimit: BOOKBAG_RATE_LIMIT, ...o, vendor: 'Bookbag' });
  const client = createAgentApiClient({ vendor: 'bookbag', http, agentId: o.agentId });
  const listConversations = client.listConversations.bind(client);
  client.listConversations = async (q) => {
    const page = await listConversations(q);
    return { ...page, conversations: page.conversations.map((c) => ('id' in c ? { ...c, id: bookbagConversationId(c.id) } : c)) };
  };
  return client;
}
