/**
 * Why `key` cannot be an API key, or undefined when it can. Vendor keys (vendors.md: `sk_…`,
 * `oc_live_…`, `rfl_…`, `ocx_…`) are printable ASCII without spaces; anything else is a
 * copy-paste accident (a space or line break around it, a placeholder `…` from the docs) that
 * would otherwise fail later as a network error or a 401. The key itself is never quoted, only
 * the character and where it is (counted in characters, not UTF-16 units).
 * @example apiKeyProblem('oc_test_…') // 'holds U+2026 "…" at character 9 of 9: vendor API keys are printable ASCII without spaces'
 */
export function apiKeyProblem(key: string): string | undefined {
  const problem = firstBadCharacter(key);
  return problem === undefined ? undefined : `${problem}: ${API_KEY_SHAPE}`;
}

/** What every vendor's key looks like, said after each problem. */
export const API_KEY_SHAPE = 'vendor API keys are printable ASCII without spaces';

function firstBadCharacter(key: string): string | undefined {
  if (key === '') return 'is empty';
  const chars = [...key];
  const at = chars.findIndex((c) => !/^[\x21-\x7e]$/.test(c));
  if (at < 0) return undefined;
  return `holds ${describeChar(chars[at] as string)} at character ${at + 1} of ${chars.length}`;
}

/** A character that may not be printable, named for an error message. */
function describeChar(c: string): string {
  const named: Record<string, string> = { ' ': 'a space', '\t': 'a tab', '\n': 'a line break', '\r': 'a carriage return' };
  const code = c.codePointAt(0) ?? 0;
  const u = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return named[c] ?? (code < 0x20 || (code >= 0x7f && code < 0xa0) ? `the control character ${u}` : `${u} "${c}"`);
}
