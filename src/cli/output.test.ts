import { describe, expect, it } from 'vitest';
import { createTestCtx } from '../../test/helpers/test-ctx.js';
import { INTERNAL_HINT, INTERNAL_HINT_NO_STACK, INTERNAL_HINT_WITH_STACK, toCliError } from './errors.js';
import { escapeControlsKeepLines, jsonString, jsonText, renderError } from './output.js';

describe('renderError of an internal error', () => {
  const boom = () => toCliError(new TypeError('boom'));

  it('asks for a re-run with --verbose, and prints no stack, without --verbose', () => {
    const ctx = createTestCtx();
    expect(renderError(boom(), ctx)).toBe(1);
    expect(ctx.stderr.text).toBe(`error: boom (ERR_INTERNAL)\nhint: ${INTERNAL_HINT}\n`);
  });

  it('prints the stack under --verbose, and then does not ask for --verbose again', () => {
    const ctx = createTestCtx();
    ctx.ui.verbose = true;
    expect(renderError(boom(), ctx)).toBe(1);
    expect(ctx.stderr.text).toContain(`hint: ${INTERNAL_HINT_WITH_STACK}\nTypeError: boom\n    at `);
    expect(ctx.stderr.text).not.toContain('--verbose');
  });

  it('under --verbose, for a thrown value with no stack, asks for a report without a re-run', () => {
    const ctx = createTestCtx();
    ctx.ui.verbose = true;
    expect(renderError(toCliError('oops'), ctx)).toBe(1);
    expect(ctx.stderr.text).toBe(`error: oops (ERR_INTERNAL)\nhint: ${INTERNAL_HINT_NO_STACK}\n`);
  });

  it('says the same in the JSON error document', () => {
    const ctx = createTestCtx();
    ctx.ui.json = true;
    ctx.ui.verbose = true;
    renderError(boom(), ctx);
    expect(JSON.parse(ctx.stdout.text)).toEqual({ error: { code: 'ERR_INTERNAL', message: 'boom', hint: INTERNAL_HINT_WITH_STACK } });
    expect(ctx.stderr.text).toMatch(/^TypeError: boom\n {4}at /);
  });
});

describe('readStdinText and Ctrl-C', () => {
  it('a terminal or pipe that never ends: Ctrl-C is a cancellation, not a wait for the forced exit', async () => {
    const { PassThrough } = await import('node:stream');
    const { readStdinText } = await import('./output.js');
    const { CancelledError } = await import('./errors.js');
    const stdin = new PassThrough();
    stdin.write('half a tok');
    const ctx = createTestCtx({ stdin, stdinTTY: true });
    const ac = new AbortController();
    ctx.signal = ac.signal;
    const reading = readStdinText(ctx).catch((err: unknown) => err);
    ac.abort(new Error('received SIGINT'));
    expect(await reading).toBeInstanceOf(CancelledError);
  });
});

describe('escaping text from a server', () => {
  it('escapeControlsKeepLines keeps \\n, \\t and CR+LF, and escapes every other control', () => {
    expect(escapeControlsKeepLines('a\tb\r\nc\nd')).toBe('a\tb\r\nc\nd');
    expect(escapeControlsKeepLines('\u001b[2J\rx\u0000\u007f\u009b\u2028\r')).toBe('\\u001b[2J\\rx\\u0000\\u007f\\u009b\\u2028\\r');
  });
  it('jsonText escapes DEL, C1 and U+2028/2029, which JSON.stringify leaves, and keeps the value', () => {
    const v = { t: 'a\u001b\u007f\u0085\u009b\u2028\u2029é' };
    expect(jsonText(v)).toBe('{"t":"a\\u001b\\u007f\\u0085\\u009b\\u2028\\u2029é"}');
    expect(JSON.parse(jsonText(v, 2))).toEqual(v);
  });
});

describe('jsonString', () => {
  it('writes a string as jsonText writes it: DEL, C1 controls and U+2028/U+2029 escaped, the value unchanged', () => {
    for (const s of ['user_123', '', 'a\u007fb', 'c\u0085\u009bd', 'e\u2028f\u2029', 'ü\u00a0😀', 'q"\\\n\u001b']) {
      expect(jsonString(s)).toBe(jsonText(s));
      expect(JSON.parse(jsonString(s))).toBe(s);
    }
    expect(jsonString('a\u007f\u0080\u009f\u2028\u2029b')).toBe('"a\\u007f\\u0080\\u009f\\u2028\\u2029b"');
  });
});
