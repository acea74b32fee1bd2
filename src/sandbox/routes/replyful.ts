import { type Handler, json, type Route, type SandboxRequest } from '../http.js';
import type { StoredConversation } from '../state.js';

// Replyful `GET /v1/conversations` (vendors.md §5.2): the list envelope, validation in the
// Stripe-like error envelope, and (in the server) RateLimit-* headers. The data are the
// sandbox's stored conversations, newest first.

function invalid(req: SandboxRequest, code: string, message: string, param?: string) {
  return json(422, {
    error: { type: 'validation_error', code, message, ...(param ? { param } : {}), docUrl: `https://docs.replyful.com/api-reference/errors#${code}`, requestId: req.requestId },
  });
}

const listConversations: Handler = (req, rt) => {
  const q = req.query;
  const limitText = q.get('limit');
  const limit = limitText === null ? 20 : /^\d+$/.test(limitText) ? Number(limitText) : Number.NaN;
  if (!(limit >= 1 && limit <= 100)) return invalid(req, 'invalid_query_parameter', 'limit must be an integer between 1 and 100.', 'limit');
  const sort = q.get('sort') ?? '-updatedAt';
  if (!['createdAt', '-createdAt', 'updatedAt', '-updatedAt'].includes(sort)) return invalid(req, 'invalid_query_parameter', 'sort must be one of ±createdAt, ±updatedAt.', 'sort');
  const keys = [...q.keys()];
  if (keys.some((k) => k.startsWith('createdAt[')) && keys.some((k) => k.startsWith('updatedAt['))) {
    return invalid(req, 'conflicting_date_range', 'Use createdAt or updatedAt bounds, not both.');
  }
  const supportLevel = q.get('supportLevel');
  if (supportLevel !== null && supportLevel !== 'ai' && supportLevel !== 'human') return invalid(req, 'invalid_query_parameter', 'supportLevel must be ai or human.', 'supportLevel');
  const all: Array<{ c: StoredConversation; agent: string }> = [];
  for (const a of rt.state.agents.values()) for (const c of a.conversations) all.push({ c, agent: a.id });
  const field = sort.replace('-', '') === 'createdAt' ? 'created_at' : 'updated_at';
  all.sort((x, y) => (x.c[field] < y.c[field] ? -1 : x.c[field] > y.c[field] ? 1 : 0));
  if (sort.startsWith('-')) all.reverse();
  const items = all.map(({ c, agent }) => ({
    id: `conv_${agent}_${c.id}`,
    object: 'conversation',
    status: 'open',
    channelId: `chan_${agent}`,
    supportLevel: 'ai',
    contactId: c.userId ? `ct_${c.userId}` : null,
    createdAt: c.created_at,
    updatedAt: c.updated_at,
  }));
  let start = 0;
  const after = q.get('startingAfter');
  if (after !== null) {
    const i = items.findIndex((x) => x.id === after);
    if (i < 0) return invalid(req, 'invalid_cursor', 'startingAfter is not a cursor from this list.', 'startingAfter');
    start = i + 1;
  }
  const data = items.slice(start, start + limit);
  const hasMore = start + limit < items.length;
  return json(200, { object: 'list', data, hasMore, nextCursor: hasMore ? (data.at(-1)?.id ?? null) : null, url: '/v1/conversations' });
};

/** Replyful `GET /v1/conversations` (its whoami). */
export const replyfulRoutes: Route[] = [{ method: 'GET', pattern: '/v1/conversations', family: 'replyful', auth: true, handler: listConversations }];
