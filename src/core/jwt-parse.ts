import { decodeBase64UrlStrict } from './base64.js';

/** Largest compact JWS accepted, checked before any decoding (a widget token is < 2 KiB). */
export const MAX_TOKEN_BYTES = 16 * 1024;
/** Deepest JSON nesting accepted in the header or payload. */
export const MAX_JSON_DEPTH = 32;

/** A compact JWS split into its parts; header/payload are whatever JSON they held. */
export interface ParsedJwt {
  /** The three segments as written. */
  segments: readonly [string, string, string];
  /** `<header>.<payload>`, the bytes the MAC covers (ASCII). */
  signingInput: string;
  header: Record<string, unknown>;
  /** Parsed payload JSON: usually an object; verify reports PAYLOAD_NOT_OBJECT otherwise. */
  payload: unknown;
  signature: Uint8Array;
  /** Member names the header or the payload object holds more than once (JSON.parse kept the last). */
  duplicates: { header: string[]; payload: string[] };
}

export type ParseJwtResult = { ok: true; jwt: ParsedJwt } | { ok: false; message: string; header?: Record<string, unknown>; payload?: unknown };

/**
 * Split and decode a compact JWS strictly (../shared/spec/cli.md §6): a size cap before
 * decoding, exactly three segments of canonical unpadded base64url (no whitespace, `=`, `+`,
 * `/`, non-zero unused bits), UTF-8 JSON with bounded nesting, and a header that is an
 * object. jose alone accepts spaces and padding (see ../shared/vectors/wycheproof/README.md),
 * so this runs before any signature check. Never throws.
 * @example parseJwt('a.b').ok // false (message: 'a JWT has 3 dot-separated segments; this has 2')
 */
export function parseJwt(token: string): ParseJwtResult {
  const jws = parseCompactJws(token);
  if (!jws.ok) return jws;
  const payload = decodeJson(jws.jws.payloadBytes, 'payload');
  if (!payload.ok) return { ok: false, message: payload.message, header: jws.jws.header };
  const { segments, signingInput, header, signature, headerDuplicates } = jws.jws;
  return { ok: true, jwt: { segments, signingInput, header, payload: payload.value, signature, duplicates: { header: headerDuplicates, payload: payload.duplicates } } };
}

/** A compact JWS whose payload is still bytes (Wycheproof's payloads are not JSON). */
export interface ParsedJws extends Omit<ParsedJwt, 'payload' | 'duplicates'> {
  payloadBytes: Uint8Array;
  headerDuplicates: string[];
}

/**
 * What a one-segment value looks like when it is another vendor credential chatid handles: a
 * user hash pasted into `token verify` would otherwise only be "not 3 segments".
 */
function notAJwt(value: string): string {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return ' (it looks like an HMAC user hash, 64 hex characters: `chatid hash <userId> --expect <hash>` checks those)';
  // At least 28 bytes (nonce and tag) of padded standard base64.
  if (value.length >= 40 && value.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(value)) {
    return ' (it looks like standard base64, as a TeamWeb AES-GCM token is: `chatid decrypt <token>` opens those)';
  }
  return '';
}

/**
 * The strict part of {@link parseJwt} without reading the payload as JSON: size cap, three
 * canonical base64url segments, a JSON-object header. Never throws.
 * @example parseCompactJws('eyJhbGciOiJIUzI1NiJ9.Zm9v.' + 'A'.repeat(43)).ok // true
 */
export function parseCompactJws(token: string): { ok: true; jws: ParsedJws } | { ok: false; message: string } {
  if (token.length > MAX_TOKEN_BYTES) {
    return { ok: false, message: `the token is ${token.length} characters long; the limit is ${MAX_TOKEN_BYTES}` };
  }
  if (token.length === 0) return { ok: false, message: 'the token is empty' };
  const parts = token.split('.');
  if (parts.length !== 3) {
    return { ok: false, message: `a JWT has 3 dot-separated segments; this has ${parts.length}${parts.length === 1 ? notAJwt(token) : ''}` };
  }
  const [h, p, s] = parts as [string, string, string];
  const names = ['header', 'payload', 'signature'] as const;
  const bytes: Uint8Array[] = [];
  for (const [i, seg] of [h, p, s].entries()) {
    const name = names[i]!;
    // An empty signature still parses, so `alg: none` is reported as ALG_NOT_ALLOWED.
    const why = name === 'signature' && seg === '' ? undefined : base64UrlProblem(seg);
    if (why) return { ok: false, message: `the ${name} segment ${why}` };
    const b = decodeBase64UrlStrict(seg);
    if (!b) return { ok: false, message: `the ${name} segment is not canonical base64url (non-zero unused bits)` };
    bytes.push(b);
  }
  const header = decodeJson(bytes[0]!, 'header');
  if (!header.ok) return { ok: false, message: header.message };
  if (!isPlainObject(header.value)) return { ok: false, message: 'the header is JSON but not an object' };
  return { ok: true, jws: { segments: [h, p, s], signingInput: `${h}.${p}`, header: header.value, payloadBytes: bytes[1]!, signature: bytes[2]!, headerDuplicates: header.duplicates } };
}

/** Why a segment is not canonical base64url, in words a user can act on; undefined if fine. */
function base64UrlProblem(seg: string): string | undefined {
  if (seg === '') return 'is empty';
  if (/\s/.test(seg)) return 'contains whitespace';
  if (seg.includes('=')) return 'has "=" padding (JWTs use unpadded base64url)';
  if (/[+/]/.test(seg)) return 'uses "+" or "/" (standard base64, not base64url)';
  if (!/^[A-Za-z0-9_-]*$/.test(seg)) return 'contains characters outside the base64url alphabet';
  if (seg.length % 4 === 1) return 'has an impossible length for base64url';
  return undefined;
}

type JsonResult = { ok: true; value: unknown; duplicates: string[] } | { ok: false; message: string };

function decodeJson(bytes: Uint8Array, name: string): JsonResult {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return { ok: false, message: `the ${name} is not valid UTF-8` };
  }
  const depth = jsonDepth(text);
  if (depth > MAX_JSON_DEPTH) return { ok: false, message: `the ${name} JSON nests deeper than ${MAX_JSON_DEPTH} levels` };
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    return { ok: false, message: `the ${name} is not JSON` };
  }
  return { ok: true, value, duplicates: isPlainObject(value) ? duplicateMemberNames(text) : [] };
}

/**
 * The member names a JSON object's text (valid JSON, an object at the top) holds more than
 * once, in order of their second appearance. JSON.parse keeps the last silently, while a
 * verifier with another parser may read the first (RFC 7515 §4, RFC 7519 §4). Linear.
 * @example duplicateMemberNames('{"user_id":"a","x":{"y":1,"y":2},"user_id":"b"}') // ['user_id']
 */
export function duplicateMemberNames(text: string): string[] {
  const seen = new Set<string>();
  const dups: string[] = [];
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const start = i;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
      if (depth !== 1) continue;
      let j = i + 1;
      while (j < text.length && (text[j] === ' ' || text[j] === '\t' || text[j] === '\n' || text[j] === '\r')) j++;
      if (text.charCodeAt(j) !== 0x3a) continue; // a value, not a member name
      const name = JSON.parse(text.slice(start, i + 1)) as string;
      if (!seen.has(name)) seen.add(name);
      else if (!dups.includes(name)) dups.push(name);
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return dups;
}

/** Maximum bracket depth of JSON text, ignoring brackets inside strings; linear, no recursion. */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) max = depth;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/**
 * True for a JSON object (not an array or null).
 * @example isPlainObject({}) // true
 */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
