/**
 * Chatbase client (vendors.md §2.3–§2.4): v1 contacts, custom attributes and get-chatbots,
 * v2 chat as a user and per-user conversations. Base URL without the version
 * (`https://www.chatbase.co`); paths carry `/api/v1` or `/api/v2`.
 */
import { type AgentApiClient, createAgentApiClient } from './agent-api.js';
import { createHttpClient, type HttpClientOptions, type RateLimitOptions } from './http.js';

/** Chatbase v2 allows 100 requests per 10 s; stay 5 % under it: the limiter spaces start times, the server counts arrivals a few ms later. */
export const CHATBASE_RATE_LIMIT: Readonly<RateLimitOptions> = { limit: 95, windowMs: 10_000 };

export type VendorClientOptions = Omit<HttpClientOptions, 'vendor'> & { agentId?: string | undefined };

/**
 * @example chatbaseClient({ dispatcher, baseUrl: 'https://www.chatbase.co', apiKey, agentId, now, sleep, random })
 */
export function chatbaseClient(o: VendorClientOptions): AgentApiClient {
  const http = createHttpClient({ rateLimit: CHATBASE_RATE_LIMIT, ...o, vendor: 'Chatbase' });
  return createAgentApiClient({ vendor: 'chatbase', http, agentId: o.agentId });
}
