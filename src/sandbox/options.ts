import type { CustomAttribute } from '../vendors/types.js';

/** Which vendor the shared `/api/v1` and `/api/v2` paths imitate. */
export type SandboxProvider = 'chatbase' | 'bookbag';

/** Kinds of injected faults. */
export type FaultKind = '429' | '500' | '503' | 'reset-before' | 'reset-after';
/** Every fault kind, the default set drawn from. */
export const FAULT_KINDS: readonly FaultKind[] = ['429', '500', '503', 'reset-before', 'reset-after'];

/** The Bearer key the sandbox accepts when `apiKeys` is not given. Not a secret. */
export const SANDBOX_API_KEY = 'sk_sandbox_chatid_test_key';
/** Default Chatbase chatbot id served by the sandbox. */
export const SANDBOX_CHATBASE_AGENT_ID = 'sandbox-chatbot';
/** Default Bookbag agent id (numeric, as Bookbag's are). */
export const SANDBOX_BOOKBAG_AGENT_ID = '1001';
/** Default identity secret for `POST /sandbox/identify` (≥ 32 bytes, test only). */
export const SANDBOX_IDENTITY_SECRET = 'sandbox-identity-secret-0123456789abcdef';
/** Default TeamWeb identity key (base64 of 32 bytes 0x00..0x1f, test only). */
export const SANDBOX_TEAMWEB_KEY = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';

/** One line of the request log (`sandbox.requests`), so tests measure at the server. */
export interface RequestLogEntry {
  method: string;
  path: string;
  /** HTTP status sent; 0 when the connection was reset instead. */
  status: number;
  /** Arrival time, Unix ms (sandbox clock). */
  at: number;
  /** The injected fault, if any. */
  fault?: FaultKind;
  /** Number of contacts in a contacts write. */
  items?: number;
}

/** Options of `startSandbox`; every one has a default, so `{}` starts a Chatbase-like sandbox on a free port. */
export interface SandboxOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Which vendor the shared /api/v1 and /api/v2 paths follow (default chatbase). */
  provider?: SandboxProvider;
  /** Accepted Bearer keys (default `[SANDBOX_API_KEY]`). */
  apiKeys?: string[];
  /**
   * Extra keys with limits, also accepted: `agents` scopes a key to some agents (another
   * agent gets v2 403 AUTH_INSUFFICIENT_PERMISSIONS, v1 404, as Bookbag does);
   * `readOnly` refuses writes with 403 (OpenCX `resource:read` keys, Chatbase chat's
   * "Access denied or quota exceeded").
   */
  keyScopes?: Record<string, { agents?: string[]; readOnly?: boolean }>;
  /** Agent ids served (default one: `SANDBOX_CHATBASE_AGENT_ID` or `SANDBOX_BOOKBAG_AGENT_ID`). Bookbag ids must be numeric. */
  agentIds?: string[];
  /** Shorthand for a single agent id. */
  agentId?: string;
  /** Most contacts an agent may hold; a create that would pass it is a 400 (Chatbase "contact quota reached"). */
  contactQuota?: number;
  /** Custom attributes every agent starts with (when not loaded from `dataFile`). */
  attributes?: CustomAttribute[];
  /** HMAC / JWT secret the identify endpoint checks against (default `SANDBOX_IDENTITY_SECRET`). */
  identitySecret?: string;
  /** TeamWeb base64 AES-256 key for the identify endpoint (default `SANDBOX_TEAMWEB_KEY`). */
  teamwebKey?: string;
  /** Added delay before each response, ms. */
  latencyMs?: number;
  /** Probability 0..1 that a request gets a fault (default 0). */
  faultRate?: number;
  /** Fault kinds to draw from (default all). */
  faults?: FaultKind[];
  /** Retry-After seconds sent with injected 429s (default 1); real 429s send the time until the window frees. */
  retryAfterSeconds?: number;
  /**
   * How Retry-After is written on 429s and 503s: delay `seconds` (default, as the vendors
   * document) or an `http-date` (RFC 9110 §10.2.3), rounded up to the next whole second so
   * it never promises less than the delay.
   */
  retryAfterFormat?: 'seconds' | 'http-date';
  /**
   * Sliding-window rate limit per key, on every path. Default: each vendor's (vendors.md), 100
   * per 10 000 ms on /api/v1 and /api/v2, 100 per 60 000 ms on Replyful's and OpenCX's paths.
   * `false` turns it off.
   */
  rateLimit?: { limit: number; windowMs: number } | false;
  /** Persist the state here: loaded at start, saved atomically after changes. */
  dataFile?: string;
  /** Seed of the fault PRNG (default 1). */
  seed?: number;
  /** Keep `sandbox.requests` (default true); a long-running server turns it off to keep memory flat. */
  requestLog?: boolean;
  /** Receives one line per request and every identify decision. */
  log?: (line: string) => void;
  /** Clock, Unix ms (default the system clock). */
  now?: () => number;
}
