// Every typed error chatid raises carries a hint (cli.md §1: {"error":{"code","message","hint"}};
// the brief: every bad input names the next step). Checked on the source, so an error that no
// test happens to trigger is covered too.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../../src/', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** The text of the call that opens at `open` (an index just after its `(`), strings skipped. */
function callText(s: string, open: number): string {
  let depth = 1;
  let quote: string | undefined;
  let k = open;
  for (; k < s.length && depth > 0; k++) {
    const c = s[k]!;
    if (quote) {
      if (c === '\\') k++;
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
  }
  return s.slice(open, k);
}

describe('typed errors', () => {
  it('every `new …Error(\'ERR_…\'` in src/ passes a hint', () => {
    const missing: string[] = [];
    let seen = 0;
    for (const file of sources(SRC)) {
      const s = readFileSync(file, 'utf8');
      for (const m of s.matchAll(/new (\w+Error)\(\s*'(ERR_\w+)'/g)) {
        seen++;
        if (!callText(s, s.indexOf('(', m.index) + 1).includes('hint')) {
          missing.push(`${relative(SRC, file)}:${s.slice(0, m.index).split('\n').length} ${m[2]}`);
        }
      }
    }
    expect(seen).toBeGreaterThan(150); // the scan finds the errors at all (codes made from templates are not seen)
    expect(missing).toEqual([]);
  });
});
