import type { IncomingHttpHeaders } from 'node:http';
import type { SandboxProvider } from './options.js';
import type { SandboxState } from './state.js';

/** A parsed request, as route handlers see it. */
export interface SandboxRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** The raw body bytes (empty for GET). */
  raw: Buffer;
  /** The Bearer key that passed authentication, if the route needs one. */
  apiKey: string | undefined;
  requestId: string;
}

/** A response as data: JSON, or a stream of chunks written with a short pause between them. */
export interface SandboxReply {
  status: number;
  headers?: Record<string, string>;
  /** JSON-serialised unless `text` or `chunks` is given. */
  json?: unknown;
  text?: string;
  /** Streamed in order (SSE frames, text/plain chunks). */
  chunks?: string[];
  /** Items a contacts write carried, for the request log. */
  items?: number;
}

/** What handlers may use besides the request. */
export interface Runtime {
  state: SandboxState;
  provider: SandboxProvider;
  /** Unix ms from the sandbox clock. */
  now(): number;
  iso(): string;
  log(message: string): void;
  /** A unique id for new records (not secret, not random). */
  uuid(): string;
  /** Key bytes of the identity secret (JWT and user-hash checks). */
  identityKey: Uint8Array;
  /** The TeamWeb AES-256 key (32 bytes). */
  teamwebKey: Uint8Array;
  /** Most contacts per agent (Infinity when unlimited). */
  contactQuota: number;
  /** Whether `apiKey` may use `agentId` (agent-scoped keys). */
  keyAllowsAgent(apiKey: string | undefined, agentId: string): boolean;
  /** Secret used to sign OpenCX contact tokens. */
  signingSecret: string;
}

/** A route handler: a request in, a reply as data out (the server writes it, or resets it). */
export type Handler = (req: SandboxRequest, rt: Runtime) => SandboxReply | Promise<SandboxReply>;

/** Error-body style of a group of routes (each vendor words its errors differently). */
export type Family = 'v1' | 'v1-chat' | 'v2' | 'opencx' | 'replyful' | 'open';

/** One endpoint: method, path pattern, error style, whether it needs a key. */
export interface Route {
  method: string;
  /** Path with `:name` parameters. */
  pattern: string;
  family: Family;
  auth: boolean;
  /** The vendor's wording of a 500 on this route, when it has its own. */
  serverError?: string;
  /** Never gets injected faults or rate limiting (health checks, sandbox control). */
  exempt?: boolean;
  handler: Handler;
}

/** A JSON reply. */
export const json = (status: number, body: unknown, headers?: Record<string, string>): SandboxReply => ({ status, json: body, headers });

/** Parse a JSON body; undefined when it is empty or not JSON. */
export function parseJson(raw: Buffer): { ok: true; value: unknown } | { ok: false } {
  if (raw.length === 0) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(raw.toString('utf8')) as unknown };
  } catch {
    return { ok: false };
  }
}

/** A plain JSON object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** zod-style type name for "Expected X, received Y" messages. */
export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}
