import type { CliError } from '../../cli/errors.js';
import { hashesEqual, userHash } from '../../core/hmac.js';
import { verifyJwt } from '../../core/jwt-verify.js';
import { decryptTeamWeb } from '../../core/teamweb-decrypt.js';
import { type Handler, isObject, json, parseJson, type Route, type Runtime } from '../http.js';
import type { StoredContact } from '../state.js';
import { syncIdentifiedContact } from './contacts.js';

// `POST /sandbox/identify`: what a widget backend decides about a visitor's identity
// proof (vendors.md §2.1, §2.2, §3.1, §4, §5.1, §6). A failed proof is not an HTTP error
// for the widget (the visitor just stays anonymous), so every verdict is a 200 with
// {identified, …}; the reason is logged, as the spec asks.

export const IDENTIFY_PROVIDERS = ['chatbase', 'bookbag', 'replyful', 'teamweb', 'opencx'] as const;
/** Providers `POST /sandbox/identify` checks. */
export type IdentifyProvider = (typeof IDENTIFY_PROVIDERS)[number];

/** The verdict the endpoint returns. */
export type IdentifyVerdict =
  | {
      identified: true;
      provider: IdentifyProvider;
      method: 'jwt' | 'user_hash' | 'teamweb' | 'opencx';
      userId: string;
      claims?: Record<string, unknown>;
      /** The contact the widget backend created or updated (Chatbase, Bookbag, TeamWeb). */
      contact?: StoredContact;
      warnings: Array<{ code: string; message: string }>;
    }
  | { identified: false; provider: IdentifyProvider; method: string | null; reason: string; message: string; errors?: Array<{ code: string; message: string }> };

const HEX64 = /^[0-9a-f]{64}$/;
const METADATA_LIMIT = 1000;

function anonymous(provider: IdentifyProvider, method: string | null, reason: string, message: string, errors?: Array<{ code: string; message: string }>): IdentifyVerdict {
  return { identified: false, provider, method, reason, message, ...(errors ? { errors } : {}) };
}

function checkJwt(rt: Runtime, provider: 'chatbase' | 'replyful' | 'opencx', token: string): IdentifyVerdict {
  const key = provider === 'opencx' ? new TextEncoder().encode(rt.signingSecret) : rt.identityKey;
  const r = verifyJwt({ token, keys: [{ label: 'current', bytes: key }], provider: provider === 'opencx' ? 'generic' : provider, now: Math.floor(rt.now() / 1000), leewaySeconds: 0 });
  if (!r.valid) {
    const first = r.errors[0] ?? { code: 'INVALID', message: 'The token is not valid.' };
    return anonymous(provider, provider === 'opencx' ? 'opencx' : 'jwt', first.code, first.message, r.errors);
  }
  const claims = r.payload as Record<string, unknown>;
  const userId = provider === 'chatbase' ? (claims.user_id ?? claims.sub) : provider === 'replyful' ? claims.userId : claims.sub;
  return { identified: true, provider, method: provider === 'opencx' ? 'opencx' : 'jwt', userId: String(userId), claims, warnings: r.warnings };
}

/** Chatbase §2.2 / Bookbag §3.1 A: hex(HMAC-SHA256(secret, user_id)). Bookbag hashes String(user_id). */
function checkUserHash(rt: Runtime, provider: 'chatbase' | 'bookbag', userId: unknown, hash: unknown, metadata: unknown): IdentifyVerdict {
  if (userId === undefined || userId === null || userId === '') return anonymous(provider, 'user_hash', 'MISSING_USER_ID', 'user_id is missing: the visitor stays anonymous.');
  if (provider === 'chatbase' && typeof userId !== 'string') {
    return anonymous(provider, 'user_hash', 'USER_ID_NOT_STRING', `user_id is ${JSON.stringify(userId)}, not a string; Chatbase needs the id as a string (e.g. "${String(userId)}").`);
  }
  if (typeof userId !== 'string' && typeof userId !== 'number') return anonymous(provider, 'user_hash', 'USER_ID_NOT_STRING', 'user_id must be a string (or a number for Bookbag).');
  if (hash === undefined || hash === null) return anonymous(provider, 'user_hash', 'MISSING_USER_HASH', 'user_hash is missing: the visitor stays anonymous.');
  if (typeof hash !== 'string' || !HEX64.test(hash)) {
    const why = typeof hash === 'string' && /^[0-9A-F]{64}$/i.test(hash) ? 'it has uppercase hex digits' : typeof hash === 'string' && hash.endsWith('=') ? 'it looks like base64' : 'it is not 64 lowercase hex characters';
    return anonymous(provider, 'user_hash', 'HASH_FORMAT', `user_hash is not a hex HMAC-SHA256: ${why}.`);
  }
  if (!hashesEqual(userHash(rt.identityKey, String(userId)), hash)) {
    return anonymous(provider, 'user_hash', 'HASH_MISMATCH', `user_hash does not match HMAC-SHA256(secret, ${JSON.stringify(String(userId))}); run \`chatid hash ${String(userId)} --expect ${hash}\` to find out why.`);
  }
  const warnings: Array<{ code: string; message: string }> = [];
  if (isObject(metadata) && JSON.stringify(metadata).length > METADATA_LIMIT) {
    warnings.push({ code: 'METADATA_TRUNCATED', message: `user_metadata is over ${METADATA_LIMIT} characters; the vendor truncates it.` });
  }
  return { identified: true, provider, method: 'user_hash', userId: String(userId), warnings };
}

/** TeamWeb §4: base64(nonce 12 ‖ ciphertext ‖ tag 16), AES-256-GCM, no AAD, JSON {id, name?, email?} (core decryptTeamWeb). */
const TEAMWEB_REASON: Record<string, string> = {
  ERR_DECRYPT_BASE64: 'BAD_BASE64',
  ERR_DECRYPT_LENGTH: 'TOO_SHORT',
  ERR_DECRYPT_TAG: 'TAG_MISMATCH',
  ERR_DECRYPT_NOT_JSON: 'NOT_JSON',
  ERR_DECRYPT_NOT_OBJECT: 'NOT_JSON',
};

function checkTeamweb(rt: Runtime, token: string): IdentifyVerdict {
  let payload: Record<string, unknown>;
  try {
    payload = decryptTeamWeb(rt.teamwebKey, token.trim()).payload;
  } catch (e) {
    const err = e as CliError;
    const reason = TEAMWEB_REASON[err.code];
    if (!reason) throw e;
    return anonymous('teamweb', 'teamweb', reason, err.hint ? `${err.message} ${err.hint}` : err.message);
  }
  if (typeof payload.id !== 'string' || payload.id === '') return anonymous('teamweb', 'teamweb', 'MISSING_ID', 'The payload has no string "id", which TeamWeb needs to link the contact.');
  return { identified: true, provider: 'teamweb', method: 'teamweb', userId: payload.id, claims: payload, warnings: [] };
}

const identify: Handler = (req, rt) => {
  const parsed = parseJson(req.raw);
  const body = parsed.ok && isObject(parsed.value) ? parsed.value : undefined;
  if (!body) return json(400, { error: { code: 'VALIDATION_INVALID_BODY', message: 'Send a JSON object: {provider?, token} or {provider?, user_id, user_hash}.' } });
  const provider = (body.provider ?? rt.provider) as IdentifyProvider;
  if (!IDENTIFY_PROVIDERS.includes(provider)) {
    return json(400, { error: { code: 'VALIDATION_INVALID_BODY', message: `provider must be one of ${IDENTIFY_PROVIDERS.join(', ')}.` } });
  }
  if (body.token !== undefined && typeof body.token !== 'string') return json(400, { error: { code: 'VALIDATION_INVALID_BODY', message: 'token must be a string.' } });
  const token = body.token as string | undefined;
  let v: IdentifyVerdict;
  if (provider === 'teamweb') v = token ? checkTeamweb(rt, token) : anonymous(provider, null, 'NO_TOKEN', 'No data-user-token: an anonymous visitor.');
  else if (provider === 'replyful' || provider === 'opencx') v = token ? checkJwt(rt, provider, token) : anonymous(provider, null, 'NO_TOKEN', 'No token: the visitor stays anonymous.');
  else if (provider === 'chatbase' && token !== undefined) v = checkJwt(rt, 'chatbase', token);
  else if (body.user_id !== undefined || body.user_hash !== undefined) v = checkUserHash(rt, provider, body.user_id, body.user_hash, body.user_metadata);
  else v = anonymous(provider, null, 'NO_IDENTITY', provider === 'bookbag' ? 'No user_id/user_hash: an anonymous visitor.' : 'No token and no user_id/user_hash: an anonymous visitor.');
  if (v.identified && provider !== 'replyful' && provider !== 'opencx') {
    const agentId = typeof body.agentId === 'string' || typeof body.agentId === 'number' ? String(body.agentId) : rt.state.agents.keys().next().value;
    const fields = contactFields(provider, v, body.user_metadata);
    const schema = agentId === undefined ? undefined : rt.state.agent(agentId)?.attributes;
    if (provider === 'chatbase' && schema && isObject(fields.custom_attributes)) {
      // Chatbase drops attributes outside the schema without a word (vendors.md §2.1, §8); say so.
      for (const k of Object.keys(fields.custom_attributes)) {
        if (!schema.has(k)) v.warnings.push({ code: 'UNKNOWN_ATTRIBUTE', message: `custom_attributes.${k} is not in the agent's schema, so Chatbase drops it; create it with \`chatid attributes create --name ${k} --type <type>\` first.` });
      }
    }
    const r = agentId === undefined ? { issues: [{ field: 'agentId', message: 'no agent' }] } : syncIdentifiedContact(rt, agentId, v.userId, fields, { createOnly: provider === 'teamweb' });
    if ('contact' in r) v.contact = r.contact;
    else v.warnings.push({ code: 'CONTACT_NOT_SYNCED', message: `The identity is valid, but the contact was not updated: ${r.issues.map((i) => `${i.field ? `${i.field}: ` : ''}${i.message}`).join('; ')}.` });
  }
  rt.log(v.identified ? `identify ${provider}: identified ${JSON.stringify(v.userId)} by ${v.method}` : `identify ${provider}: anonymous (${v.reason}) ${v.message}`);
  return json(200, v);
};

/** The contact fields a verified identity carries: JWT claims (Chatbase), user_metadata (Bookbag), the TeamWeb payload. */
function contactFields(provider: IdentifyProvider, v: Extract<IdentifyVerdict, { identified: true }>, metadata: unknown): Record<string, unknown> {
  if (provider === 'chatbase' && v.claims) {
    const out: Record<string, unknown> = {};
    for (const k of ['name', 'email', 'phonenumber', 'custom_attributes', 'stripe_accounts']) if (k in v.claims) out[k] = v.claims[k];
    return out;
  }
  if (provider === 'bookbag' && isObject(metadata)) {
    // Bookbag: name/email/phone go to the contact, every other key becomes a custom attribute.
    const { name, email, phone, phonenumber, ...rest } = metadata;
    return { ...(name !== undefined ? { name } : {}), ...(email !== undefined ? { email } : {}), ...((phonenumber ?? phone) !== undefined ? { phonenumber: phonenumber ?? phone } : {}), custom_attributes: rest };
  }
  if (provider === 'teamweb' && v.claims) {
    return { ...(typeof v.claims.name === 'string' ? { name: v.claims.name } : {}), ...(typeof v.claims.email === 'string' ? { email: v.claims.email } : {}) };
  }
  return {};
}

/** `POST /sandbox/identify`: never rate limited or faulted. */
export const identifyRoutes: Route[] = [{ method: 'POST', pattern: '/sandbox/identify', family: 'open', auth: false, exempt: true, handler: identify }];
