import { describe, expect, it } from 'vitest';
import { apiKeyProblem } from './api-key.js';

describe('apiKeyProblem', () => {
  it('accepts the vendors\' key shapes', () => {
    for (const k of ['sk_test_123', 'oc_live_AbC-9.x', 'rfl_test_k', 'ocx_live_k', 'a'.repeat(200)]) expect(apiKeyProblem(k)).toBeUndefined();
  });

  it('names the first character no key has, and where it is, in characters', () => {
    expect(apiKeyProblem('oc_test_\u2026')).toBe('holds U+2026 "\u2026" at character 9 of 9: vendor API keys are printable ASCII without spaces');
    expect(apiKeyProblem('sk_live\n')).toBe('holds a line break at character 8 of 8: vendor API keys are printable ASCII without spaces');
    expect(apiKeyProblem(' sk')).toBe('holds a space at character 1 of 3: vendor API keys are printable ASCII without spaces');
    expect(apiKeyProblem('sk\tx')).toBe('holds a tab at character 3 of 4: vendor API keys are printable ASCII without spaces');
    expect(apiKeyProblem('sk_t\u00e9st')).toBe('holds U+00E9 "\u00e9" at character 5 of 7: vendor API keys are printable ASCII without spaces');
    expect(apiKeyProblem('sk_\u{1F511}x')).toBe('holds U+1F511 "\u{1F511}" at character 4 of 5: vendor API keys are printable ASCII without spaces');
    expect(apiKeyProblem('sk\u0000')).toBe('holds the control character U+0000 at character 3 of 3: vendor API keys are printable ASCII without spaces');
    expect(apiKeyProblem('sk\u0085')).toBe('holds the control character U+0085 at character 3 of 3: vendor API keys are printable ASCII without spaces');
    expect(apiKeyProblem('')).toBe('is empty: vendor API keys are printable ASCII without spaces');
  });
});
