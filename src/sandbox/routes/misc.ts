import { json, type Route } from '../http.js';

/** Health checks and `GET /api/v1/get-chatbots` (the Chatbase whoami: the chatbots the key may use). */
export const miscRoutes: Route[] = [
  { method: 'GET', pattern: '/api/v2/health', family: 'open', auth: false, exempt: true, handler: () => json(200, { status: 'ok' }) },
  { method: 'GET', pattern: '/health', family: 'open', auth: false, exempt: true, handler: () => json(200, { status: 'ok' }) },
  {
    method: 'GET',
    pattern: '/api/v1/get-chatbots',
    family: 'v1',
    auth: true,
    // The chatbots this key may use: a key scoped to some agents does not see the others.
    handler: (req, rt) =>
      json(200, {
        chatbots: [...rt.state.agents.values()].filter((a) => rt.keyAllowsAgent(req.apiKey, a.id)).map((a) => ({
          id: rt.provider === 'bookbag' ? Number(a.id) : a.id,
          name: a.name,
          status: 'active',
          model: 'gpt-4o-mini',
          visibility: 'private',
          created_at: '2026-01-01T00:00:00.000Z',
        })),
      }),
  },
];
