import type { AttributeType, StripeAccount } from '../vendors/types.js';

const ATTRIBUTE_TYPES: readonly AttributeType[] = ['text', 'number', 'boolean', 'date'];

/** A contact as the sandbox stores and returns it (vendors.md §2.3 Contact). */
export interface StoredContact {
  id: string;
  external_id: string;
  name?: string;
  email?: string;
  phonenumber?: string;
  stripe_accounts?: StripeAccount[];
  custom_attributes: Record<string, string | number | boolean>;
  created_at: string;
  updated_at: string;
}

/** A custom attribute of an agent's schema; never deleted, only archived. */
export interface StoredAttribute {
  name: string;
  type: AttributeType;
  label: string;
  description?: string;
  archived: boolean;
  created_at: string;
}

/** One chat message of a stored conversation. */
export interface StoredMessage {
  id: string;
  role: 'user' | 'assistant';
  text: string;
  created_at: string;
}

/** A conversation created by a chat request (v2 with `userId`, or Bookbag v1). */
export interface StoredConversation {
  /** Chatbase: a string id; Bookbag: a number. */
  id: string | number;
  userId?: string;
  created_at: string;
  updated_at: string;
  messages: StoredMessage[];
}

/** One agent (Chatbase chatbot / Bookbag agent) and everything stored under it. */
export interface AgentState {
  id: string;
  name: string;
  contacts: Map<string, StoredContact>;
  attributes: Map<string, StoredAttribute>;
  conversations: StoredConversation[];
  /** Lowercased email → external id, kept in step with every write (built lazily). */
  emails?: Map<string, string>;
  /** Set with `emails`: whether two contacts had the same email then (only a data file can hold such). */
  emailsShared?: boolean;
}

/** The persisted form (`--data file.json`). */
export interface SandboxData {
  version: 1;
  counters: { contact: number; conversation: number; message: number };
  agents: Array<{
    id: string;
    name: string;
    contacts: StoredContact[];
    attributes: StoredAttribute[];
    conversations: StoredConversation[];
  }>;
}

/**
 * Everything the sandbox holds, readable by tests (`sandbox.state`). Contacts keep their
 * insertion order, which is the order `GET …/contacts` pages through.
 */
export class SandboxState {
  readonly agents = new Map<string, AgentState>();
  counters = { contact: 0, conversation: 0, message: 0 };
  /** Bumped on every change; the persister saves when it moves. */
  version = 0;

  addAgent(id: string, name = `Sandbox agent ${id}`): AgentState {
    let a = this.agents.get(id);
    if (!a) {
      a = { id, name, contacts: new Map(), attributes: new Map(), conversations: [] };
      this.agents.set(id, a);
    }
    return a;
  }

  agent(id: string): AgentState | undefined {
    return this.agents.get(id);
  }

  /** The contacts of an agent, in insertion order (empty for an unknown agent). */
  contacts(agentId: string): StoredContact[] {
    return [...(this.agents.get(agentId)?.contacts.values() ?? [])];
  }

  /** One contact by external id. */
  contact(agentId: string, externalId: string): StoredContact | undefined {
    return this.agents.get(agentId)?.contacts.get(externalId);
  }

  /** The custom-attribute schema of an agent. */
  attributes(agentId: string): StoredAttribute[] {
    return [...(this.agents.get(agentId)?.attributes.values() ?? [])];
  }

  /** Conversations of an agent, oldest first. */
  conversations(agentId: string): StoredConversation[] {
    return [...(this.agents.get(agentId)?.conversations ?? [])];
  }

  changed(): void {
    this.version++;
  }

  toJSON(): SandboxData {
    return {
      version: 1,
      counters: { ...this.counters },
      agents: [...this.agents.values()].map((a) => ({
        id: a.id,
        name: a.name,
        contacts: [...a.contacts.values()],
        attributes: [...a.attributes.values()],
        conversations: a.conversations,
      })),
    };
  }

  /** Replace the state with a persisted one; throws a plain Error naming what is wrong. */
  load(data: unknown): void {
    const d = data as Partial<SandboxData> | null;
    if (!d || typeof d !== 'object' || d.version !== 1 || !Array.isArray(d.agents)) {
      throw new Error('not a chatid sandbox data file (expected {"version":1,"agents":[…]})');
    }
    this.agents.clear();
    const c = d.counters ?? { contact: 0, conversation: 0, message: 0 };
    this.counters = { contact: Number(c.contact) || 0, conversation: Number(c.conversation) || 0, message: Number(c.message) || 0 };
    for (const a of d.agents) {
      if (!a || typeof a.id !== 'string') throw new Error('an agent without an id');
      // A hand-edited file: name what is wrong rather than serve records no vendor would send.
      const list = <T>(v: T[] | undefined, what: string): T[] => {
        if (v === undefined) return [];
        if (!Array.isArray(v)) throw new Error(`agent ${JSON.stringify(a.id)}: ${what} is not a list`);
        return v;
      };
      const contacts = list(a.contacts, 'contacts');
      const attributes = list(a.attributes, 'attributes');
      const conversations = list(a.conversations, 'conversations');
      const agent = this.addAgent(a.id, typeof a.name === 'string' ? a.name : undefined);
      contacts.forEach((ct, i) => {
        if (typeof ct !== 'object' || ct === null || typeof ct.external_id !== 'string') {
          throw new Error(`agent ${JSON.stringify(a.id)}: contact ${i + 1} is not an object with an external_id`);
        }
        agent.contacts.set(ct.external_id, ct);
      });
      attributes.forEach((at, i) => {
        if (typeof at !== 'object' || at === null || typeof at.name !== 'string' || !ATTRIBUTE_TYPES.includes(at.type)) {
          throw new Error(`agent ${JSON.stringify(a.id)}: attribute ${i + 1} is not an object with a name and a type (text, number, boolean or date)`);
        }
        agent.attributes.set(at.name, at);
      });
      agent.conversations = conversations;
    }
  }
}
