import type { Family } from './http.js';

/** Generic failures every route family words its own way. */
export type Failure = 'missing-key' | 'invalid-key' | 'forbidden' | 'rate-limit' | 'server' | 'unavailable' | 'not-found' | 'too-large';

const STATUS: Record<Failure, number> = {
  'missing-key': 401,
  'invalid-key': 401,
  forbidden: 403,
  'rate-limit': 429,
  server: 500,
  unavailable: 503,
  'not-found': 404,
  'too-large': 413,
};

const V2_CODE: Record<Failure, string> = {
  'missing-key': 'AUTH_MISSING_API_KEY',
  'invalid-key': 'AUTH_INVALID_API_KEY',
  forbidden: 'AUTH_INSUFFICIENT_PERMISSIONS',
  'rate-limit': 'RATE_LIMIT_TOO_MANY_REQUESTS',
  server: 'INTERNAL_SERVER_ERROR',
  unavailable: 'INTERNAL_SERVER_ERROR',
  'not-found': 'RESOURCE_NOT_FOUND',
  'too-large': 'VALIDATION_INVALID_BODY',
};

const MESSAGE: Record<Failure, string> = {
  'missing-key': 'Missing API key',
  'invalid-key': 'Invalid API key',
  forbidden: 'This API key may not do that',
  'rate-limit': 'Rate limit exceeded',
  server: 'Internal server error',
  unavailable: 'Service unavailable',
  'not-found': 'Not found',
  'too-large': 'Request body too large',
};

const REPLYFUL: Record<Failure, { type: string; code: string; message: string }> = {
  'missing-key': { type: 'authentication_error', code: 'missing_api_key', message: 'No API key provided. Send "Authorization: Bearer <key>".' },
  'invalid-key': { type: 'authentication_error', code: 'invalid_api_key', message: 'Invalid API key provided.' },
  forbidden: { type: 'permission_error', code: 'insufficient_permissions', message: 'This API key may not do that.' },
  'rate-limit': { type: 'rate_limit_error', code: 'too_many_requests', message: 'Too many requests. Retry after the time in Retry-After.' },
  server: { type: 'api_error', code: 'internal_error', message: 'An internal error occurred.' },
  unavailable: { type: 'api_error', code: 'service_unavailable', message: 'The service is temporarily unavailable.' },
  'not-found': { type: 'invalid_request_error', code: 'not_found', message: 'Unrecognized request URL.' },
  'too-large': { type: 'invalid_request_error', code: 'body_too_large', message: 'Request body too large.' },
};

const OPENCX_ERROR: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 413: 'Payload Too Large', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable' };

/** Status and body of a generic failure in the words of the route's vendor (vendors.md). */
export function failure(family: Family, f: Failure, requestId: string): { status: number; body: unknown } {
  const status = STATUS[f];
  switch (family) {
    case 'v1':
      if (f === 'missing-key' || f === 'invalid-key') return { status, body: { message: 'Unauthorized access' } };
      return { status, body: { message: MESSAGE[f] } };
    case 'v1-chat':
      if (f === 'missing-key') return { status, body: { message: 'No API key provided.' } };
      if (f === 'forbidden') return { status, body: { message: 'Access denied or quota exceeded' } };
      return { status, body: { message: MESSAGE[f] } };
    case 'v2':
    case 'open':
      return { status, body: { error: { code: V2_CODE[f], message: MESSAGE[f] } } };
    case 'opencx':
      return { status, body: { statusCode: status, message: status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden resource' : MESSAGE[f], error: OPENCX_ERROR[status] ?? 'Error' } };
    case 'replyful': {
      const r = REPLYFUL[f];
      return { status, body: { error: { ...r, docUrl: `https://docs.replyful.com/api-reference/errors#${r.code}`, requestId } } };
    }
  }
}
