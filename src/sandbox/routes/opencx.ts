import { createHmac } from 'node:crypto';
import { type Handler, isObject, json, parseJson, type Route, type Runtime, type SandboxReply } from '../http.js';

// OpenCX `POST /widget/authenticate-user` (vendors.md §6): the org API key asks for a
// contact token. The sandbox signs it itself (HS256 with a per-run secret), so only this
// sandbox's identify endpoint accepts it.

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const LANGUAGES = /^[a-z]{2}$/;

/** HS256 compact JWS with node:crypto (no jose on the request path). */
export function signHs256(secret: string, payload: Record<string, unknown>): string {
  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

function badRequest(messages: string[]): SandboxReply {
  return json(400, { statusCode: 400, message: messages, error: 'Bad Request' });
}

/** Contact ids handed out per email, for the life of the sandbox. */
const contactIds = new WeakMap<Runtime['state'], Map<string, string>>();

const authenticateUser: Handler = (req, rt) => {
  const parsed = parseJson(req.raw);
  const body = parsed.ok && isObject(parsed.value) ? parsed.value : undefined;
  if (!body) return badRequest(['email must be an email', 'email should not be empty']);
  const m: string[] = [];
  if (typeof body.email !== 'string' || body.email === '') m.push('email should not be empty');
  else if (!EMAIL.test(body.email)) m.push('email must be an email');
  const str = (k: string): void => {
    if (body[k] !== undefined && typeof body[k] !== 'string') m.push(`${k} must be a string`);
  };
  str('name');
  str('phone');
  str('chat_context');
  if (body.avatar_url !== undefined && body.avatar_url !== null && typeof body.avatar_url !== 'string') m.push('avatar_url must be a string');
  if (body.language !== undefined && (typeof body.language !== 'string' || !LANGUAGES.test(body.language))) m.push('language must be a two-letter language code');
  if (body.customData !== undefined && !isObject(body.customData)) m.push('customData must be an object');
  if (body.http_action_overrides !== undefined && !isObject(body.http_action_overrides)) m.push('http_action_overrides must be an object');
  if (m.length > 0) return badRequest(m);
  const email = (body.email as string).toLowerCase();
  let ids = contactIds.get(rt.state);
  if (!ids) {
    ids = new Map();
    contactIds.set(rt.state, ids);
  }
  let id = ids.get(email);
  if (!id) {
    id = `ocx_contact_${ids.size + 1}`;
    ids.set(email, id);
  }
  const iat = Math.floor(rt.now() / 1000);
  const token = signHs256(rt.signingSecret, {
    sub: id,
    email: body.email,
    ...(typeof body.name === 'string' ? { name: body.name } : {}),
    ...(isObject(body.customData) ? { customData: body.customData } : {}),
    iss: 'chatid-sandbox',
    iat,
    exp: iat + 24 * 3600,
  });
  return json(200, { token, contact: { id } });
};

/** OpenCX `POST /widget/authenticate-user`. */
export const opencxRoutes: Route[] = [{ method: 'POST', pattern: '/widget/authenticate-user', family: 'opencx', auth: true, handler: authenticateUser }];
