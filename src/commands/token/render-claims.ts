import type { ChalkInstance } from 'chalk';
import { iso, relativeClaimTime } from '../../core/jwt-time.js';

/** Claims that hold NumericDates and get a human date beside them. */
const TIME_CLAIMS = new Set(['exp', 'nbf', 'iat']);

/**
 * Claims as aligned `name  value` lines; NumericDates get their ISO date and a relative
 * time ("expires in 59m") computed against `now` (Unix seconds).
 */
export function renderClaims(payload: unknown, now: number, c: ChalkInstance, indent = '  '): string {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return `${indent}${JSON.stringify(payload)}\n`;
  }
  const entries = Object.entries(payload as Record<string, unknown>);
  if (entries.length === 0) return `${indent}${c.dim('(no claims)')}\n`;
  const width = Math.min(20, Math.max(...entries.map(([k]) => k.length)));
  let out = '';
  for (const [k, v] of entries) {
    let line = `${indent}${c.bold(k.padEnd(width))}  ${JSON.stringify(v)}`;
    if (TIME_CLAIMS.has(k) && typeof v === 'number' && Number.isFinite(v)) {
      line += c.dim(`  ${iso(v).replace('.000Z', 'Z')} (${relativeClaimTime(k, v, now)})`);
    }
    out += `${line}\n`;
  }
  return out;
}
