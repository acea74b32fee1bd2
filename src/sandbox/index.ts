/**
 * The chatid sandbox: a local HTTP server on 127.0.0.1 that imitates the vendors' APIs
 * (vendors.md) with their status codes, error bodies, limits and optional faults, so
 * clients and `contacts sync` can be tested with no account.
 *
 * @example
 * const sb = await startSandbox({ port: 0, faultRate: 0.2, seed: 7 });
 * // CHATID_BASE_URL=sb.url CHATID_API_KEY=SANDBOX_API_KEY CHATID_AGENT_ID=sb.agentIds[0]
 * await sb.close();
 */
export { startSandbox, type Sandbox } from './server.js';
export {
  FAULT_KINDS,
  type FaultKind,
  type RequestLogEntry,
  SANDBOX_API_KEY,
  SANDBOX_BOOKBAG_AGENT_ID,
  SANDBOX_CHATBASE_AGENT_ID,
  SANDBOX_IDENTITY_SECRET,
  SANDBOX_TEAMWEB_KEY,
  type SandboxOptions,
  type SandboxProvider,
} from './options.js';
export { SandboxState, type StoredAttribute, type StoredContact, type StoredConversation, type SandboxData } from './state.js';
export { MAX_CONTACTS_PER_REQUEST } from './routes/contacts.js';
