import { describe, expect, it } from 'vitest';
import { secretTextProblem, secretWhitespace } from './secret-key.js';

describe('the secret text rule (storing refuses it, one use warns, whoami reports it)', () => {
  it('names the whitespace a pasted secret picked up', () => {
    expect(secretWhitespace('sk_1')).toBeUndefined();
    expect(secretWhitespace('inner spaces are fine')).toBeUndefined();
    expect(secretWhitespace(' \t\n')).toBe('only whitespace');
    expect(secretWhitespace('sk_1 \n')).toBe('a trailing space and newline');
    expect(secretWhitespace('\u00a0sk_1\r\n')).toBe('a leading no-break space, a trailing carriage return and newline');
    expect(secretWhitespace('one\ntwo')).toBe('a line break inside');
  });
  it('sorts each case into one kind, the placeholder first', () => {
    expect(secretTextProblem('sk_1')).toBeUndefined();
    expect(secretTextProblem('sk_…')).toEqual({ kind: 'placeholder', what: 'holds "…", the placeholder of the docs\' examples' });
    expect(secretTextProblem(' sk_… ')?.kind).toBe('placeholder');
    expect(secretTextProblem('  ')).toEqual({ kind: 'only-whitespace', what: 'is only whitespace' });
    expect(secretTextProblem('sk_1\t')).toEqual({ kind: 'whitespace', what: 'has a trailing tab' });
  });
});
