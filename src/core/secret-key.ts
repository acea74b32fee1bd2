import { UsageError } from '../cli/errors.js';
import { decodeBase64Strict } from './base64.js';

export interface SecretKey {
  /** The key bytes used for HMAC / JWT signing. */
  bytes: Uint8Array;
  /** How the secret text was written: raw UTF-8 text (the default), or a `hex:` / `base64:` prefix. */
  encoding: 'text' | 'hex' | 'base64';
}

/**
 * Turn a secret as written (../shared/spec/cli.md §2) into key bytes: raw UTF-8 text, or
 * `hex:<hex>` / `base64:<b64>` for binary keys. A malformed prefixed value is an error,
 * never silently used as text.
 * @example parseSecretKey('hex:00ff').bytes // Uint8Array [0, 255]
 */
export function parseSecretKey(secret: string): SecretKey {
  if (secret.startsWith('hex:')) {
    const hex = secret.slice(4);
    if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) {
      throw new UsageError('ERR_SECRET_FORMAT', 'The secret starts with "hex:" but the rest is not an even number of hex digits.', {
        hint: 'Write hex:<hex digits>, or drop the prefix to use the text as it is.',
      });
    }
    return { bytes: new Uint8Array(Buffer.from(hex, 'hex')), encoding: 'hex' };
  }
  if (secret.startsWith('base64:')) {
    const bytes = decodeBase64Strict(secret.slice(7));
    if (!bytes || bytes.length === 0) {
      throw new UsageError('ERR_SECRET_FORMAT', 'The secret starts with "base64:" but the rest is not canonical padded base64.', {
        hint: 'Write base64:<standard base64 with = padding>, or drop the prefix to use the text as it is.',
      });
    }
    return { bytes, encoding: 'base64' };
  }
  return { bytes: new TextEncoder().encode(secret), encoding: 'text' };
}

/** Names of the whitespace characters a pasted secret picks up. */
const SPACE_NAMES: Record<string, string> = { ' ': 'space', '\t': 'tab', '\n': 'newline', '\r': 'carriage return', '\u00a0': 'no-break space', '\ufeff': 'byte-order mark' };
const spaceName = (c: string): string => SPACE_NAMES[c] ?? `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * What whitespace a secret holds that a vendor's secret never does, or undefined: `only
 * whitespace`, or e.g. `a leading space and a trailing newline`, `a line break inside`.
 * @example secretWhitespace('abc \n') // 'a trailing space and newline'
 */
export function secretWhitespace(value: string): string | undefined {
  if (value.trim() === '' && value !== '') return 'only whitespace';
  const lead = /^\s+/u.exec(value)?.[0] ?? '';
  const trail = /\s+$/u.exec(value)?.[0] ?? '';
  const inner = /[\r\n]/.test(value.slice(lead.length, value.length - trail.length));
  const names = (run: string): string => [...new Set([...run].map(spaceName))].join(' and ');
  const parts = [lead && `a leading ${names(lead)}`, trail && `a trailing ${names(trail)}`, inner && 'a line break inside'].filter(Boolean);
  return parts.length === 0 ? undefined : parts.join(', ');
}

/** What a secret holds that no vendor's secret does; `what` completes "the secret …". */
export interface SecretTextProblem {
  kind: 'only-whitespace' | 'whitespace' | 'placeholder';
  what: string;
}

/**
 * The one rule for a secret's text, which commands apply by their own stakes (storing refuses,
 * one use warns, whoami reports): the docs' placeholder `…`, whitespace alone, or whitespace
 * around it or a line break in it.
 * @example secretTextProblem('sk_1 ') // { kind: 'whitespace', what: 'has a trailing space' }
 */
export function secretTextProblem(value: string): SecretTextProblem | undefined {
  if (value.includes('\u2026')) return { kind: 'placeholder', what: 'holds "…", the placeholder of the docs\' examples' };
  const ws = secretWhitespace(value);
  if (ws === undefined) return undefined;
  return ws === 'only whitespace' ? { kind: 'only-whitespace', what: 'is only whitespace' } : { kind: 'whitespace', what: `has ${ws}` };
}
