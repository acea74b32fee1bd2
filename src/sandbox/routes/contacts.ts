import type { AttributeType, StripeAccount } from '../../vendors/types.js';
import { type Handler, type Route, type Runtime, isObject, json, parseJson, type SandboxReply, typeName } from '../http.js';
import type { AgentState, StoredAttribute, StoredContact } from '../state.js';

// Chatbase v1 contacts and custom attributes (vendors.md §2.3) with Bookbag's differences
// (§3.3) chosen by `rt.provider`. A create/patch is validated whole before anything is
// stored, so a 400 or 409 leaves the state untouched.

/** Contacts one create request may carry (Chatbase and Bookbag). */
export const MAX_CONTACTS_PER_REQUEST = 1000;

interface Issue {
  field: string;
  message: string;
}

type Value = string | number | boolean;
/** A validated contact change: absent key = unchanged, null = delete. */
interface ContactChange {
  external_id: string | undefined;
  name?: string | null;
  email?: string | null;
  phonenumber?: string | null;
  stripe_accounts?: StripeAccount[] | null;
  custom_attributes?: Record<string, Value | null>;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const ATTR_NAME = /^[a-zA-Z][a-zA-Z0-9_-]*$/;
const ATTR_TYPES: readonly AttributeType[] = ['text', 'number', 'boolean', 'date'];

const bookbag = (rt: Runtime): boolean => rt.provider === 'bookbag';

function notFound(rt: Runtime, what: 'Chatbot' | 'Contact' | 'Custom attribute'): SandboxReply {
  return json(404, { message: bookbag(rt) ? 'Resource not found' : `${what} not found` });
}

function badBody(rt: Runtime, issues: Issue[]): SandboxReply {
  return bookbag(rt) ? json(400, { message: 'Invalid request data' }) : json(400, { message: 'Invalid request body', issues });
}

function findAgent(rt: Runtime, id: string | undefined): AgentState | undefined {
  return id === undefined ? undefined : rt.state.agent(id);
}

/** Check one attribute value against its declared type; returns the stored value or an error message. */
function coerceAttribute(attr: StoredAttribute, v: unknown): { ok: true; value: Value | null } | { ok: false; message: string } {
  if (v === null) return { ok: true, value: null };
  if (attr.archived) return { ok: false, message: `Custom attribute "${attr.name}" is archived` };
  switch (attr.type) {
    case 'text':
      return typeof v === 'string' ? { ok: true, value: v } : { ok: false, message: `Expected string, received ${typeName(v)}` };
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) ? { ok: true, value: v } : { ok: false, message: `Expected number, received ${typeName(v)}` };
    case 'boolean':
      if (v === true || v === 'true' || v === 1) return { ok: true, value: true };
      if (v === false || v === 'false' || v === 0) return { ok: true, value: false };
      return { ok: false, message: `Expected boolean, received ${typeName(v)}` };
    case 'date': {
      if (typeof v !== 'string' && typeof v !== 'number') return { ok: false, message: `Expected date, received ${typeName(v)}` };
      const d = new Date(v);
      return Number.isNaN(d.getTime()) ? { ok: false, message: 'Invalid date' } : { ok: true, value: d.toISOString() };
    }
  }
}

/** Where a ContactInput's issues point: `users.<i>.` for the i-th of a write (made only when needed), or the prefix given. */
const at = (where: string | number): string => (typeof where === 'number' ? `users.${where}.` : where);

function optionalString(v: unknown, key: 'name' | 'email' | 'phonenumber', where: string | number, issues: Issue[], out: ContactChange): void {
  if (v === undefined) return;
  if (v === null) {
    out[key] = null;
    return;
  }
  if (typeof v !== 'string') {
    issues.push({ field: `${at(where)}${key}`, message: `Expected string, received ${typeName(v)}` });
    return;
  }
  if (key === 'email' && !EMAIL.test(v)) {
    issues.push({ field: `${at(where)}email`, message: 'Invalid email' });
    return;
  }
  out[key] = v;
}

/**
 * Validate one ContactInput (or a PATCH body). Unknown top-level keys and unknown
 * attribute keys are dropped silently, as the vendors do.
 */
function validateContact(input: unknown, where: string | number, agent: AgentState, issues: Issue[], o: { requireExternalId: boolean; allowExternalId: boolean }): ContactChange | undefined {
  if (!isObject(input)) {
    issues.push({ field: at(where).replace(/\.$/, ''), message: `Expected object, received ${typeName(input)}` });
    return undefined;
  }
  const before = issues.length;
  const out: ContactChange = { external_id: undefined };
  if (o.allowExternalId && input.external_id !== undefined) {
    const id = input.external_id;
    if (typeof id !== 'string') issues.push({ field: `${at(where)}external_id`, message: `Expected string, received ${typeName(id)}` });
    else if (id.length === 0) issues.push({ field: `${at(where)}external_id`, message: 'String must contain at least 1 character(s)' });
    else out.external_id = id;
  } else if (o.requireExternalId) {
    issues.push({ field: `${at(where)}external_id`, message: 'Required' });
  }
  // Named reads (`key in input` adds nothing: a JSON object's absent key reads undefined).
  optionalString(input.name, 'name', where, issues, out);
  optionalString(input.email, 'email', where, issues, out);
  optionalString(input.phonenumber, 'phonenumber', where, issues, out);
  if (input.stripe_accounts !== undefined) {
    const s = input.stripe_accounts;
    if (s === null) out.stripe_accounts = null;
    else if (!Array.isArray(s)) issues.push({ field: `${at(where)}stripe_accounts`, message: `Expected array, received ${typeName(s)}` });
    else {
      const accounts: StripeAccount[] = [];
      s.forEach((a: unknown, i) => {
        const f = `${at(where)}stripe_accounts.${i}`;
        if (!isObject(a)) return issues.push({ field: f, message: `Expected object, received ${typeName(a)}` });
        if (typeof a.label !== 'string') return issues.push({ field: `${f}.label`, message: `Expected string, received ${typeName(a.label)}` });
        if (typeof a.stripe_id !== 'string') return issues.push({ field: `${f}.stripe_id`, message: `Expected string, received ${typeName(a.stripe_id)}` });
        if (a.stripe_email !== undefined && typeof a.stripe_email !== 'string') return issues.push({ field: `${f}.stripe_email`, message: `Expected string, received ${typeName(a.stripe_email)}` });
        accounts.push(a.stripe_email === undefined ? { label: a.label, stripe_id: a.stripe_id } : { label: a.label, stripe_id: a.stripe_id, stripe_email: a.stripe_email });
        return undefined;
      });
      out.stripe_accounts = accounts;
    }
  }
  if (input.custom_attributes !== undefined && input.custom_attributes !== null) {
    const ca = input.custom_attributes;
    if (!isObject(ca)) issues.push({ field: `${at(where)}custom_attributes`, message: `Expected object, received ${typeName(ca)}` });
    else {
      const attrs: Record<string, Value | null> = {};
      for (const [k, v] of Object.entries(ca)) {
        const attr = agent.attributes.get(k);
        if (!attr) continue; // unknown attribute: dropped silently (vendors.md §2.3)
        const r = coerceAttribute(attr, v);
        if (r.ok) attrs[k] = r.value;
        else issues.push({ field: `${at(where)}custom_attributes.${k}`, message: r.message });
      }
      out.custom_attributes = attrs;
    }
  }
  return issues.length === before ? out : undefined;
}

/**
 * Store a validated change. `known` is the contact as it stands when the caller already looked
 * it up (null: there is none), which saves a lookup in a map of up to a million contacts;
 * `indexed`: the email index holds the change already (claimEmails).
 */
function applyChange(agent: AgentState, rt: Runtime, externalId: string, c: ContactChange, o: { replaceWhole: boolean; now?: string }, known?: StoredContact | null, indexed = false): StoredContact {
  const now = o.now ?? rt.iso();
  const existing = known === undefined ? agent.contacts.get(externalId) : (known ?? undefined);
  let ct: StoredContact;
  // A new contact with all three strings (what a sync sends) is made whole in one literal,
  // its keys in the order the steps below give them: nothing has to grow it afterwards.
  let whole = false;
  if (existing) ct = existing;
  else {
    const id = bookbag(rt) ? `contact_${++rt.state.counters.contact}` : rt.uuid();
    whole = typeof c.name === 'string' && typeof c.email === 'string' && typeof c.phonenumber === 'string';
    ct = whole
      ? { id, external_id: externalId, custom_attributes: {}, created_at: now, updated_at: now, name: c.name as string, email: c.email as string, phonenumber: c.phonenumber as string }
      : { id, external_id: externalId, custom_attributes: {}, created_at: now, updated_at: now };
    if (whole && !indexed) setEmailOwner(agent, undefined, c.email as string, externalId);
  }
  // One field at a time, in this order (a new contact's keys come out in it), with named
  // stores: a loop over the key names made every store a slow keyed one. A value equal to the
  // stored one keeps the stored string: a re-sync of a million contacts then leaves no new
  // string behind in them for the garbage collector to promote.
  if (c.name !== undefined && !whole) {
    if (c.name === null) delete ct.name;
    else if (ct.name !== c.name) ct.name = c.name;
  }
  if (c.email !== undefined && !whole) {
    // The stored email again (a re-sync): the contact owns it in the index already, unless
    // the index came from a data file where two contacts shared an email.
    if (!indexed && (ct.email !== c.email || agent.emailsShared === true)) setEmailOwner(agent, ct.email, c.email, externalId);
    if (c.email === null) delete ct.email;
    else if (ct.email !== c.email) ct.email = c.email;
  }
  if (c.phonenumber !== undefined && !whole) {
    if (c.phonenumber === null) delete ct.phonenumber;
    else if (ct.phonenumber !== c.phonenumber) ct.phonenumber = c.phonenumber;
  }
  if (c.stripe_accounts !== undefined) {
    if (c.stripe_accounts === null) delete ct.stripe_accounts;
    else ct.stripe_accounts = c.stripe_accounts;
  }
  if (c.custom_attributes) {
    if (o.replaceWhole) ct.custom_attributes = {};
    for (const [k, v] of Object.entries(c.custom_attributes)) {
      if (v === null) delete ct.custom_attributes[k];
      else ct.custom_attributes[k] = v;
    }
  }
  ct.updated_at = now;
  if (!existing) agent.contacts.set(externalId, ct);
  return ct;
}

/**
 * `s.toLowerCase()`, and `s` itself when that changes nothing (a lowercase ASCII email): no new
 * string, and the index then shares its key with the stored contact.
 */
function lower(s: string): string {
  // Not a string (a data file can hold anything): fail as toLowerCase() does.
  if (typeof s !== 'string') return (s as { toLowerCase(): string }).toLowerCase();
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 65 && c <= 90) || c > 127) return s.toLowerCase();
  }
  return s;
}

/**
 * agent.emails: lowercased email → external id; kept in step with every write. While
 * `emailsShared` is not set, every contact with an email owns it in the index (writes refuse a
 * taken email), which lets a write that sends a contact's stored email again skip the index.
 */
function emailIndex(agent: AgentState): Map<string, string> {
  if (!agent.emails) {
    const emails = new Map<string, string>();
    let withEmail = 0;
    for (const c of agent.contacts.values()) {
      if (c.email) {
        emails.set(lower(c.email), c.external_id);
        withEmail++;
      }
    }
    agent.emails = emails;
    agent.emailsShared = emails.size !== withEmail;
  }
  return agent.emails;
}

function setEmailOwner(agent: AgentState, oldEmail: string | undefined, newEmail: string | null, owner: string): void {
  const idx = emailIndex(agent);
  const oldKey = oldEmail ? lower(oldEmail) : undefined;
  const newKey = newEmail ? lower(newEmail) : undefined;
  // The same email again (a re-sync): it ends owned by `owner` either way, in one map lookup
  // (and the stored owner string is kept when it is the same).
  if (oldKey !== undefined && oldKey === newKey) {
    if (idx.get(newKey) !== owner) idx.set(newKey, owner);
    return;
  }
  if (oldKey !== undefined && idx.get(oldKey) === owner) idx.delete(oldKey);
  if (newKey !== undefined) idx.set(newKey, owner);
}

/** One contact of a write, validated. */
interface Item {
  externalId: string;
  change: ContactChange;
  /** The issue field for an email conflict, or the item's place in `users` (`users.<i>.email`). */
  field: string | number;
  /** The stored contact before this request (null: none), when already looked up. */
  before?: StoredContact | null;
}

const UNCHANGED = Symbol('unchanged');

/**
 * The email (lower-cased; null: none) that an item's `email` replaces: the one an earlier item
 * of the batch gave the same id (`emailOf`), else the stored one. UNCHANGED when the item sends
 * its stored email again and `skipUnchanged` (the index is exact): a re-sync, where the contact
 * owns it (see emailIndex), no other item of the batch can have taken it, and it stays as it is.
 */
function replacedEmail(agent: AgentState, it: Item, email: string | null, emailOf: Map<string, string | null> | undefined, skipUnchanged: boolean): string | null | typeof UNCHANGED {
  if (emailOf?.has(it.externalId)) return emailOf.get(it.externalId) ?? null;
  const stored = (it.before === undefined ? agent.contacts.get(it.externalId) : it.before)?.email;
  if (skipUnchanged && email !== null && stored === email) return UNCHANGED;
  return stored === undefined || stored === null ? null : lower(stored);
}

function emailTaken(it: Item): Issue {
  return { field: typeof it.field === 'number' ? `users.${it.field}.email` : it.field, message: 'Email already in use by another contact' };
}

/**
 * Emails used by another contact, in request order, with the overlay of earlier items of the
 * same batch. `repeats`: whether an external id may come more than once in `items` (without,
 * an item's previous email is always the stored one, and no overlay of them is kept).
 */
function emailConflicts(agent: AgentState, items: Item[], repeats = true): Issue[] {
  const idx = emailIndex(agent);
  const exact = agent.emailsShared !== true;
  const owner = new Map<string, string | null>();
  const emailOf = repeats ? new Map<string, string | null>() : undefined;
  const issues: Issue[] = [];
  for (const it of items) {
    const email = it.change.email;
    if (email === undefined) continue;
    const { externalId } = it;
    const prev = replacedEmail(agent, it, email, emailOf, exact);
    if (prev === UNCHANGED) continue;
    const next = email === null ? null : lower(email);
    if (next !== null) {
      let o = owner.get(next);
      if (o === undefined) o = idx.get(next);
      if (o !== undefined && o !== null && o !== externalId) {
        issues.push(emailTaken(it));
        continue;
      }
    }
    if (prev !== null && prev !== next) owner.set(prev, null);
    if (next !== null) owner.set(next, externalId);
    emailOf?.set(externalId, next);
  }
  return issues;
}

/**
 * emailConflicts for a contacts write while the index is exact (see emailIndex), done on the
 * index itself: each item's email is looked up and, when free, taken there and then (one visit
 * to the index per new email, and none when the write is stored). The issues are those
 * emailConflicts gives. `undo` (pairs of key and former owner) puts the index back as it was,
 * which releaseEmails does when the write is refused; it is done here when there are issues.
 */
function claimEmails(agent: AgentState, items: Item[], repeats: boolean): { issues: Issue[]; undo: Array<string | undefined> } {
  const idx = emailIndex(agent);
  const emailOf = repeats ? new Map<string, string | null>() : undefined;
  const issues: Issue[] = [];
  const undo: Array<string | undefined> = [];
  try {
    for (const it of items) {
      const email = it.change.email;
      if (email === undefined) continue;
      const { externalId } = it;
      const prev = replacedEmail(agent, it, email, emailOf, true);
      if (prev === UNCHANGED) continue;
      const next = email === null ? null : lower(email);
      const o = next === null ? undefined : idx.get(next);
      if (o !== undefined && o !== externalId) {
        issues.push(emailTaken(it));
        continue;
      }
      // The contact owns `prev` (the index is exact, and a taken email is refused above).
      if (prev !== null && prev !== next) {
        undo.push(prev, idx.get(prev));
        idx.delete(prev);
      }
      if (next !== null && o === undefined) {
        undo.push(next, undefined);
        idx.set(next, externalId);
      }
      emailOf?.set(externalId, next);
    }
  } catch (e) {
    releaseEmails(agent, undo);
    throw e;
  }
  if (issues.length > 0) releaseEmails(agent, undo);
  return { issues, undo };
}

/** Put the email index back as it was before claimEmails. */
function releaseEmails(agent: AgentState, undo: Array<string | undefined>): void {
  const idx = emailIndex(agent);
  for (let i = undo.length - 2; i >= 0; i -= 2) {
    const key = undo[i] as string;
    const owner = undo[i + 1];
    if (owner === undefined) idx.delete(key);
    else idx.set(key, owner);
  }
  undo.length = 0;
}

function conflict(rt: Runtime, issues: Issue[]): SandboxReply {
  return bookbag(rt)
    ? json(409, { message: 'Error saving chatbot contact. External ID or email already exists.' })
    : json(409, { message: 'Email already in use by another contact', issues });
}

const createContacts: Handler = (req, rt) => {
  const agent = findAgent(rt, req.params.chatbotId);
  if (!agent) return notFound(rt, 'Chatbot');
  const parsed = parseJson(req.raw);
  const body = parsed.ok ? parsed.value : undefined;
  const users: unknown = isObject(body) ? (body.users ?? (bookbag(rt) ? body.contacts : undefined)) : undefined;
  if (!Array.isArray(users)) {
    return badBody(rt, [{ field: 'users', message: users === undefined ? 'Required' : `Expected array, received ${typeName(users)}` }]);
  }
  if (users.length > MAX_CONTACTS_PER_REQUEST) {
    return bookbag(rt)
      ? json(400, { message: 'Maximum 1000 contacts per request' })
      : badBody(rt, [{ field: 'users', message: 'Array must contain at most 1000 element(s)' }]);
  }
  if (users.length === 0) return badBody(rt, [{ field: 'users', message: 'Array must contain at least 1 element(s)' }]);
  const issues: Issue[] = [];
  const items: Item[] = [];
  const opts = { requireExternalId: !bookbag(rt), allowExternalId: true };
  // Each contact is looked up once (up to a million of them: every lookup is a cache miss);
  // an id seen earlier in the same request is looked up again when it is stored.
  const seen = new Set<string>();
  const again: boolean[] = [];
  let repeats = false;
  for (let i = 0; i < users.length; i++) {
    const change = validateContact(users[i], i, agent, issues, opts);
    if (!change) continue;
    const externalId = change.external_id ?? `ext_${rt.uuid()}`;
    const size = seen.size;
    seen.add(externalId);
    const isAgain = seen.size === size;
    if (isAgain) repeats = true;
    again.push(isAgain);
    items.push({ externalId, change, field: i, before: agent.contacts.get(externalId) ?? null });
  }
  if (issues.length > 0) return { ...badBody(rt, issues), items: users.length };
  emailIndex(agent);
  // An exact index takes the new emails at once; otherwise (see emailIndex) the overlay path.
  const indexed = agent.emailsShared !== true;
  const claimed = indexed ? claimEmails(agent, items, repeats) : { issues: emailConflicts(agent, items, repeats), undo: [] };
  if (claimed.issues.length > 0) return { ...conflict(rt, claimed.issues), items: users.length };
  if (rt.contactQuota !== Number.POSITIVE_INFINITY) {
    const added = new Set(items.filter((it) => !it.before).map((it) => it.externalId)).size;
    if (agent.contacts.size + added > rt.contactQuota) {
      releaseEmails(agent, claimed.undo);
      return { ...badBody(rt, [{ field: 'users', message: `Contact quota reached: the plan allows ${rt.contactQuota} contacts` }]), items: users.length };
    }
  }
  // One write, one moment: every contact it stores gets the same updated_at (asking the clock
  // for each of up to 1000 was ~3 % of the sandbox's time in a re-sync).
  const o = { replaceWhole: false, now: rt.iso() };
  const data = items.map((it, k) => applyChange(agent, rt, it.externalId, it.change, o, again[k] ? undefined : it.before, indexed));
  rt.state.changed();
  return { status: 200, json: { message: 'Success', data }, items: users.length };
};

function intParam(v: string | null): number | undefined {
  if (v === null) return undefined;
  return /^-?\d+$/.test(v.trim()) ? Number(v) : Number.NaN;
}

const listContacts: Handler = (req, rt) => {
  const agent = findAgent(rt, req.params.chatbotId);
  if (!agent) return notFound(rt, 'Chatbot');
  let perPage = intParam(req.query.get('per_page')) ?? 100;
  let page = intParam(req.query.get('page')) ?? 1;
  if (bookbag(rt)) {
    perPage = Number.isNaN(perPage) ? 100 : Math.min(1000, Math.max(10, perPage));
    page = Number.isNaN(page) || page < 1 ? 1 : page;
  } else {
    const issues: Issue[] = [];
    if (Number.isNaN(perPage) || perPage < 10 || perPage > 1000) issues.push({ field: 'per_page', message: 'Number must be an integer between 10 and 1000' });
    if (Number.isNaN(page) || page < 1) issues.push({ field: 'page', message: 'Number must be an integer greater than or equal to 1' });
    if (issues.length > 0) return json(400, { message: 'Invalid request parameters', issues });
  }
  const all = [...agent.contacts.values()];
  const data = all.slice((page - 1) * perPage, page * perPage);
  return json(200, { message: 'Success', data, total: all.length, pages: { page, per_page: perPage, total_pages: Math.ceil(all.length / perPage) } });
};

const getContact: Handler = (req, rt) => {
  const agent = findAgent(rt, req.params.chatbotId);
  if (!agent) return notFound(rt, 'Chatbot');
  const c = agent.contacts.get(req.params.contactId ?? '');
  return c ? json(200, { message: 'Success', data: c }) : notFound(rt, 'Contact');
};

const patchContact: Handler = (req, rt) => {
  const agent = findAgent(rt, req.params.chatbotId);
  if (!agent) return notFound(rt, 'Chatbot');
  const externalId = req.params.contactId ?? '';
  const existing = agent.contacts.get(externalId);
  if (!existing) return notFound(rt, 'Contact');
  const parsed = parseJson(req.raw);
  const body = parsed.ok ? parsed.value : undefined;
  const data = isObject(body) && 'data' in body ? body.data : bookbag(rt) ? body : undefined;
  if (data === undefined) return badBody(rt, [{ field: 'data', message: 'Required' }]);
  const issues: Issue[] = [];
  const change = validateContact(data, 'data.', agent, issues, { requireExternalId: false, allowExternalId: bookbag(rt) });
  if (!change) return badBody(rt, issues);
  const newId = change.external_id ?? externalId;
  if (newId !== externalId && agent.contacts.has(newId)) return conflict(rt, [{ field: 'data.external_id', message: 'External ID already exists' }]);
  const conflicts = emailConflicts(agent, [{ externalId, change, field: 'data.email' }]);
  if (conflicts.length > 0) return conflict(rt, conflicts);
  const ct = applyChange(agent, rt, externalId, change, { replaceWhole: bookbag(rt) });
  if (newId !== externalId) {
    // Renaming keeps the insertion order simple: remove, then append under the new id.
    agent.contacts.delete(externalId);
    ct.external_id = newId;
    agent.contacts.set(newId, ct);
    if (ct.email) emailIndex(agent).set(ct.email.toLowerCase(), newId);
  }
  rt.state.changed();
  return json(200, { message: 'Success', data: ct });
};

const deleteContact: Handler = (req, rt) => {
  const agent = findAgent(rt, req.params.chatbotId);
  if (!agent) return notFound(rt, 'Chatbot');
  const externalId = req.params.contactId ?? '';
  const c = agent.contacts.get(externalId);
  if (!c) return notFound(rt, 'Contact');
  agent.contacts.delete(externalId);
  if (c.email) setEmailOwner(agent, c.email, null, externalId);
  rt.state.changed();
  return json(200, { message: 'Success', data: c });
};

const listAttributes: Handler = (req, rt) => {
  const agent = findAgent(rt, req.params.chatbotId);
  if (!agent) return notFound(rt, 'Chatbot');
  return json(200, { message: 'Success', data: [...agent.attributes.values()] });
};

const createAttribute: Handler = (req, rt) => {
  const agent = findAgent(rt, req.params.chatbotId);
  if (!agent) return notFound(rt, 'Chatbot');
  const parsed = parseJson(req.raw);
  const body = parsed.ok && isObject(parsed.value) ? parsed.value : undefined;
  const issues: Issue[] = [];
  const name = body?.name;
  const type = body?.type ?? (bookbag(rt) ? 'text' : undefined);
  if (typeof name !== 'string') issues.push({ field: 'name', message: name === undefined ? 'Required' : `Expected string, received ${typeName(name)}` });
  else if (!ATTR_NAME.test(name)) issues.push({ field: 'name', message: 'Must start with a letter and contain only letters, digits, "_" and "-"' });
  if (!ATTR_TYPES.includes(type as AttributeType)) issues.push({ field: 'type', message: type === undefined ? 'Required' : "Expected 'text' | 'number' | 'boolean' | 'date'" });
  for (const k of ['label', 'description'] as const) {
    if (body?.[k] !== undefined && typeof body[k] !== 'string') issues.push({ field: k, message: `Expected string, received ${typeName(body[k])}` });
  }
  if (issues.length > 0 || !body) {
    if (!body) issues.push({ field: '', message: 'Expected object' });
    return bookbag(rt) ? json(400, { message: 'Invalid name or type' }) : json(400, { message: 'Invalid request body', issues });
  }
  if (agent.attributes.has(name as string)) return json(409, { message: 'Custom attribute already exists' });
  const attr: StoredAttribute = {
    name: name as string,
    type: type as AttributeType,
    label: typeof body.label === 'string' ? body.label : (name as string),
    ...(typeof body.description === 'string' ? { description: body.description } : {}),
    archived: false,
    created_at: rt.iso(),
  };
  agent.attributes.set(attr.name, attr);
  rt.state.changed();
  return json(200, { message: 'Success', data: attr });
};

const updateAttribute: Handler = (req, rt) => {
  const agent = findAgent(rt, req.params.chatbotId);
  if (!agent) return notFound(rt, 'Chatbot');
  const attr = agent.attributes.get(req.params.name ?? '');
  if (!attr) return notFound(rt, 'Custom attribute');
  const parsed = parseJson(req.raw);
  const body = parsed.ok && isObject(parsed.value) ? parsed.value : undefined;
  const issues: Issue[] = [];
  if (!body) issues.push({ field: '', message: 'Expected object' });
  else {
    for (const k of ['label', 'description'] as const) {
      if (body[k] !== undefined && typeof body[k] !== 'string') issues.push({ field: k, message: `Expected string, received ${typeName(body[k])}` });
    }
    if (body.archived !== undefined && typeof body.archived !== 'boolean') issues.push({ field: 'archived', message: `Expected boolean, received ${typeName(body.archived)}` });
    if (body.type !== undefined && body.type !== attr.type) issues.push({ field: 'type', message: 'The type of a custom attribute cannot be changed' });
    if (body.name !== undefined && body.name !== attr.name) issues.push({ field: 'name', message: 'The name of a custom attribute cannot be changed' });
  }
  if (issues.length > 0 || !body) return bookbag(rt) ? json(400, { message: 'Invalid request data' }) : json(400, { message: 'Invalid request body', issues });
  if (typeof body.label === 'string') attr.label = body.label;
  if (typeof body.description === 'string') attr.description = body.description;
  if (typeof body.archived === 'boolean') attr.archived = body.archived;
  rt.state.changed();
  return json(200, { message: 'Success', data: attr });
};

/** The v1 contacts and custom-attribute routes. */
export const contactRoutes: Route[] = [
  { method: 'POST', pattern: '/api/v1/chatbots/:chatbotId/contacts', family: 'v1', auth: true, handler: createContacts },
  { method: 'GET', pattern: '/api/v1/chatbots/:chatbotId/contacts', family: 'v1', auth: true, handler: listContacts, serverError: 'Error retrieving chatbot contacts' },
  { method: 'GET', pattern: '/api/v1/chatbots/:chatbotId/contacts/:contactId', family: 'v1', auth: true, handler: getContact },
  { method: 'PATCH', pattern: '/api/v1/chatbots/:chatbotId/contacts/:contactId', family: 'v1', auth: true, handler: patchContact },
  { method: 'DELETE', pattern: '/api/v1/chatbots/:chatbotId/contacts/:contactId', family: 'v1', auth: true, handler: deleteContact },
  { method: 'GET', pattern: '/api/v1/chatbots/:chatbotId/custom-attributes', family: 'v1', auth: true, handler: listAttributes },
  { method: 'POST', pattern: '/api/v1/chatbots/:chatbotId/custom-attributes', family: 'v1', auth: true, handler: createAttribute },
  { method: 'PUT', pattern: '/api/v1/chatbots/:chatbotId/custom-attributes/:name', family: 'v1', auth: true, handler: updateAttribute },
];

/**
 * What a widget backend does with a verified identity (vendors.md §2.1, §3.1, §4): create or
 * update the contact whose external id is the user id. Present fields are set, `null`
 * deletes, absent keeps; with `createOnly`, an existing contact is left alone (TeamWeb).
 * Returns the contact, or the problems that stopped the sync (the visitor is still identified).
 */
export function syncIdentifiedContact(
  rt: Runtime,
  agentId: string,
  externalId: string,
  fields: Record<string, unknown>,
  o: { createOnly?: boolean } = {},
): { contact: StoredContact } | { issues: Issue[] } {
  const agent = rt.state.agent(agentId);
  if (!agent) return { issues: [{ field: 'agentId', message: `No agent ${agentId} in the sandbox` }] };
  const existing = agent.contacts.get(externalId);
  if (existing && o.createOnly) return { contact: existing };
  const issues: Issue[] = [];
  const change = validateContact({ ...fields, external_id: externalId }, '', agent, issues, { requireExternalId: true, allowExternalId: true });
  if (!change) return { issues };
  const conflicts = emailConflicts(agent, [{ externalId, change, field: 'email' }]);
  if (conflicts.length > 0) return { issues: conflicts };
  const contact = applyChange(agent, rt, externalId, change, { replaceWhole: false });
  rt.state.changed();
  return { contact };
}
