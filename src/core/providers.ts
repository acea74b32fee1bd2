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

/** Names of the characters an agent id picks up when copied by hand. */
const CHAR_NAMES: Record<string, string> = { ' ': 'a space', '\t': 'a tab', '\n': 'a line break', '\r': 'a carriage return', '\u00a0': 'a no-break space', '\ufeff': 'a byte-order mark', '\u001b': 'an escape character' };
// Whitespace (Unicode's, with the BOM), controls (C0, DEL, C1) and format characters (the
// zero-width ones, the soft hyphen, the direction marks a copy from a web page brings along).
const NOT_IN_AGENT_ID = /[\s\p{Cc}\p{Cf}]/u;

/**
 * Why `id` is not a valid agent id for `provider`, or undefined when it is: the one rule for
 * --agent-id, CHATID_AGENT_ID, a profile and the `profile add` prompt. No vendor's id holds
 * whitespace or a control character (the vendor answers 404 to "abc def"), so one inside is a
 * copy mistake, refused before anything is sent or stored.
 * @example agentIdProblem('chatbase', 'abc def') // 'the agent id "abc def" has a space inside, which no agent id has'
 */
export function agentIdProblem(provider: Provider, id: string): string | undefined {
  if (id.trim() !== id || id === '') return 'the agent id is empty or has leading/trailing spaces';
  const bad = NOT_IN_AGENT_ID.exec(id)?.[0];
  if (bad !== undefined) {
    const kind = /\s/u.test(bad) ? 'a whitespace' : /\p{Cf}/u.test(bad) ? 'an invisible' : 'a control';
    const name = CHAR_NAMES[bad] ?? `${kind} character (U+${bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`;
    return `the agent id ${visible(id)} has ${name} inside, which no agent id has`;
  }
  // In a URL path, "." and ".." are resolved away: requests would go to another resource.
  if (id === '.' || id === '..') return `"${id}" cannot name an agent in a URL path`;
  if (PROVIDER_INFO[provider].numericAgentId && !/^\d+$/.test(id)) return `${PROVIDER_INFO[provider].label} agent ids are numeric, "${id}" is not`;
  return undefined;
}

/** `id` quoted with every character of NOT_IN_AGENT_ID but the plain space escaped, so the terminal shows what the id holds. */
function visible(id: string): string {
  // Each UTF-16 unit as \uXXXX (a character beyond U+FFFF as its surrogate pair, as JSON has it).
  return JSON.stringify(id).replace(/[^\S ]|[\p{Cc}\p{Cf}]/gu, (c) => c.split('').map((u) => `\\u${u.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''));
}

/** Why `id` cannot be the user of a v2 chat or its conversations (vendors.md §3.2: `^[a-zA-Z0-9._-]{1,128}$`), or undefined. */
export function chatUserIdProblem(id: string): string | undefined {
  return /^[a-zA-Z0-9._-]{1,128}$/.test(id) ? undefined : `"${id}" is not a valid user id for the vendor`;
}

/** The hint for a chatUserIdProblem. */
export const CHAT_USER_ID_HINT = 'Use 1-128 letters, digits, ".", "_" or "-" (the contact external id).';
