import type { ChalkInstance } from 'chalk';
import { escapeControls, jsonText } from '../../cli/output.js';
import { iso, relativeClaimTime } from '../../core/jwt-time.js';

/** Claims that hold NumericDates and get a human date beside them. */
const TIME_CLAIMS = new Set(['exp', 'nbf', 'iat']);

/**
 * Claims as aligned `name  value` lines; NumericDates get their ISO date and a relative
 * time ("expires in 59m") computed against `now` (Unix seconds). Names and values come from an
 * untrusted token: control characters (C0, DEL, C1, U+2028/U+2029) are written as escapes.
 */
export function renderClaims(payload: unknown, now: number, c: ChalkInstance, indent = '  '): string {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return `${indent}${jsonText(payload)}\n`;
  }
  const entries = Object.entries(payload as Record<string, unknown>);
  if (entries.length === 0) return `${indent}${c.dim('(no claims)')}\n`;
  const names = entries.map(([k]) => escapeControls(k));
  const width = Math.min(20, Math.max(...names.map((n) => n.length)));
  let out = '';
  for (const [i, [k, v]] of entries.entries()) {
    let line = `${indent}${c.bold(names[i]!.padEnd(width))}  ${jsonText(v)}`;
    if (TIME_CLAIMS.has(k) && typeof v === 'number' && Number.isFinite(v)) {
      line += c.dim(`  ${iso(v).replace('.000Z', 'Z')} (${relativeClaimTime(k, v, now)})`);
    }
    out += `${line}\n`;
  }
  return out;
}
