/**
 * The vendors chatid knows, and the facts about each that more than one command needs
 * (../shared/spec/vendors.md). Pure data: no I/O.
 */

export const PROVIDERS = ['chatbase', 'bookbag', 'teamweb', 'replyful', 'opencx', 'generic'] as const;
export type Provider = (typeof PROVIDERS)[number];

export type IdentityScheme = 'jwt' | 'hmac' | 'aes-gcm' | 'server';

export interface ProviderInfo {
  readonly name: Provider;
  readonly label: string;
  /** Default API base URL; client paths carry the version prefix (`/api/v1/…`). */
  readonly baseUrl: string | undefined;
  /** How a browser user's identity is proven. */
  readonly identity: readonly IdentityScheme[];
  /** The JWT claim holding the user id, for JWT schemes. */
  readonly idClaim: string | undefined;
  /** How the identity secret is written: raw UTF-8 text, or base64 of 32 bytes (TeamWeb). */
  readonly secretFormat: 'text' | 'base64-32';
  /** Whether the agent id must be numeric (Bookbag). */
  readonly numericAgentId: boolean;
}

export const PROVIDER_INFO: Readonly<Record<Provider, ProviderInfo>> = {
  chatbase: { name: 'chatbase', label: 'Chatbase', baseUrl: 'https://www.chatbase.co', identity: ['jwt', 'hmac'], idClaim: 'user_id', secretFormat: 'text', numericAgentId: false },
  bookbag: { name: 'bookbag', label: 'Bookbag', baseUrl: 'https://app.bookbag.ai', identity: ['hmac'], idClaim: undefined, secretFormat: 'text', numericAgentId: true },
  teamweb: { name: 'teamweb', label: 'TeamWeb AI', baseUrl: undefined, identity: ['aes-gcm'], idClaim: undefined, secretFormat: 'base64-32', numericAgentId: false },
  replyful: { name: 'replyful', label: 'Replyful', baseUrl: 'https://api.replyful.com', identity: ['jwt'], idClaim: 'userId', secretFormat: 'text', numericAgentId: false },
  opencx: { name: 'opencx', label: 'OpenCX', baseUrl: 'https://api.open.cx', identity: ['server'], idClaim: undefined, secretFormat: 'text', numericAgentId: false },
  generic: { name: 'generic', label: 'Generic (HS256 JWT / HMAC)', baseUrl: undefined, identity: ['jwt', 'hmac'], idClaim: 'sub', secretFormat: 'text', numericAgentId: false },
};

/**
 * Narrow a string to a Provider.
 * @example isProvider('chatbase') // true
 */
export function isProvider(name: string): name is Provider {
  return (PROVIDERS as readonly string[]).includes(name);
}

/** Why `id` is not a valid agent id for `provider`, or undefined when it is. */
export function agentIdProblem(provider: Provider, id: string): string | undefined {
  if (id.trim() !== id || id === '') return 'the agent id is empty or has leading/trailing spaces';
  // In a URL path, "." and ".." are resolved away: requests would go to another resource.
  if (id === '.' || id === '..') return `"${id}" cannot name an agent in a URL path`;
  if (PROVIDER_INFO[provider].numericAgentId && !/^\d+$/.test(id)) return `${PROVIDER_INFO[provider].label} agent ids are numeric, "${id}" is not`;
  return undefined;
}

/** Why `id` cannot be the user of a v2 chat or its conversations (vendors.md §3.2: `^[a-zA-Z0-9._-]{1,128}$`), or undefined. */
export function chatUserIdProblem(id: string): string | undefined {
  return /^[a-zA-Z0-9._-]{1,128}$/.test(id) ? undefined : `"${id}" is not a valid user id for the vendor`;
}

/** The hint for a chatUserIdProblem. */
export const CHAT_USER_ID_HINT = 'Use 1-128 letters, digits, ".", "_" or "-" (the contact external id).';
