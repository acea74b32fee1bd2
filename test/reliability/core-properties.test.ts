// Property and fuzz tests for the pure parsers in src/core (issue 6). Bounded numRuns keep
// the suite fast; fast-check prints the seed and the shrunk counterexample on failure, so a
// red run names the input that broke it and can be replayed with `{ seed, path }`.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CliError} from '../../src/cli/errors.js';
import { UsageError } from '../../src/cli/errors.js';
import { decodeBase64Strict, decodeBase64UrlStrict, encodeBase64, encodeBase64Url } from '../../src/core/base64.js';
import { parseDuration } from '../../src/core/duration.js';
import { fingerprint, mask } from '../../src/core/fingerprint.js';
import { parseSecretKey } from '../../src/core/secret-key.js';

// Deterministic by default (the same cases on every run); FC_SEED=<n> explores others.
fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261123) });

const RUNS = { numRuns: 300 };
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('parseDuration', () => {
  const units: Array<[string, number]> = [
    ['ms', 1],
    ['s', 1000],
    ['m', 60_000],
    ['h', 3_600_000],
    ['d', 86_400_000],
    ['w', 604_800_000],
    ['sec', 1000],
    ['min', 60_000],
    ['hours', 3_600_000],
    ['days', 86_400_000],
  ];

  it('reads <n><unit>, with an optional leading + and surrounding space, as n × unit', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1_000_000 }), fc.constantFrom(...units), fc.boolean(), fc.constantFrom('', ' ', '\t'), (n, [unit, factor], plus, pad) => {
        const text = `${pad}${plus ? '+' : ''}${n}${unit}${pad}`;
        expect(parseDuration(text), JSON.stringify(text)).toBe(n * factor);
      }),
      RUNS,
    );
  });

  it('refuses bare numbers (ambiguous: seconds or milliseconds?) and negative durations', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1_000_000, max: 1_000_000 }), (n) => {
        expect(parseDuration(String(n))).toBeUndefined();
        expect(parseDuration(`-${Math.abs(n) + 1}h`)).toBeUndefined();
      }),
      RUNS,
    );
  });

  it('never throws on any text, and returns undefined or a finite non-negative number', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.stringMatching(/^[+-]?\d{1,30}(\.\d{0,5})?\s{0,2}[a-zA-Z]{0,8}$/),
    );
    fc.assert(
      fc.property(text, (t) => {
        const v = parseDuration(t);
        if (v !== undefined) {
          expect(Number.isFinite(v), JSON.stringify(t)).toBe(true);
          expect(v).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses unknown units instead of guessing', () => {
    for (const t of ['1x', '1hh', '1 fortnight', '1h30m', 'h', '', ' ', '+', '1.h', '.5h', '1e3s', 'Infinityh', 'NaNs']) {
      expect(parseDuration(t), JSON.stringify(t)).toBeUndefined();
    }
  });
});

describe('strict base64 / base64url', () => {
  const bytes = fc.uint8Array({ maxLength: 96 });

  it('round-trips every byte string', () => {
    fc.assert(
      fc.property(bytes, (b) => {
        expect(decodeBase64Strict(encodeBase64(b))).toEqual(b);
        expect(decodeBase64UrlStrict(encodeBase64Url(b))).toEqual(b);
      }),
      RUNS,
    );
  });

  it('accepts only canonical encodings: whatever decodes re-encodes to the same text', () => {
    const alphabetStd = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=', ' ', '\n', '-', '_', '.'];
    const alphabetUrl = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', '=', '+', '/', ' ', '\n'];
    const near = (alphabet: string[]) => fc.array(fc.constantFrom(...alphabet), { maxLength: 24 }).map((a) => a.join(''));
    fc.assert(
      fc.property(fc.oneof(near(alphabetStd), fc.string({ maxLength: 24 })), (t) => {
        const d = decodeBase64Strict(t);
        if (d !== undefined) expect(encodeBase64(d), JSON.stringify(t)).toBe(t);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.oneof(near(alphabetUrl), fc.string({ maxLength: 24 })), (t) => {
        const d = decodeBase64UrlStrict(t);
        if (d !== undefined) expect(encodeBase64Url(d), JSON.stringify(t)).toBe(t);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses every small corruption of a valid encoding', () => {
    // Each mutation turns a canonical encoding into text some lenient decoder would still accept.
    const mutations: Array<[string, (s: string) => string]> = [
      ['leading space', (s) => ` ${s}`],
      ['trailing newline', (s) => `${s}\n`],
      ['inner space', (s) => `${s.slice(0, 2)} ${s.slice(2)}`],
      ['extra =', (s) => `${s}=`],
      ['NUL byte', (s) => `${s}\u0000`],
    ];
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 48 }), fc.constantFrom(...mutations), (b, [name, mutate]) => {
        expect(decodeBase64Strict(mutate(encodeBase64(b))), `${name} of ${encodeBase64(b)}`).toBeUndefined();
        expect(decodeBase64UrlStrict(mutate(encodeBase64Url(b))), `${name} of ${encodeBase64Url(b)}`).toBeUndefined();
      }),
      RUNS,
    );
  });

  it('refuses the other alphabet, missing padding, padding on base64url and non-zero unused bits', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 48 }), (b) => {
        const std = encodeBase64(b);
        const url = encodeBase64Url(b);
        if (std.includes('=')) {
          expect(decodeBase64Strict(std.replace(/=+$/, '')), `unpadded ${std}`).toBeUndefined();
          expect(decodeBase64UrlStrict(`${url}${'='.repeat(std.length - url.length)}`), `padded ${url}`).toBeUndefined();
          // Flip the lowest unused bit of the last data character: same bytes under Node, not canonical.
          const last = url.length - 1;
          const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
          const idx = alphabet.indexOf(url[last]!);
          const dirty = `${url.slice(0, last)}${alphabet[idx ^ 1]}`;
          expect(decodeBase64UrlStrict(dirty), `unused bits in ${dirty}`).toBeUndefined();
        }
        if (/[+/]/.test(std)) expect(decodeBase64UrlStrict(std.replace(/=+$/, '')), `std alphabet ${std}`).toBeUndefined();
        if (/[-_]/.test(url)) expect(decodeBase64Strict(url.padEnd(std.length, '=')), `url alphabet ${url}`).toBeUndefined();
      }),
      RUNS,
    );
  });
});

describe('parseSecretKey', () => {
  it('decodes hex: (either case) and base64: to exactly the bytes written', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.boolean(), (b, upper) => {
        const h = upper ? hex(b).toUpperCase() : hex(b);
        expect(parseSecretKey(`hex:${h}`)).toEqual({ bytes: b, encoding: 'hex' });
        expect(parseSecretKey(`base64:${encodeBase64(b)}`)).toEqual({ bytes: b, encoding: 'base64' });
      }),
      RUNS,
    );
  });

  it('uses any other text as its UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 64 }), (s) => {
        fc.pre(!s.startsWith('hex:') && !s.startsWith('base64:'));
        const k = parseSecretKey(s);
        expect(k.encoding).toBe('text');
        expect(Buffer.from(k.bytes).toString('utf8')).toBe(s);
      }),
      RUNS,
    );
  });

  it('refuses a malformed prefixed value with ERR_SECRET_FORMAT (exit 2), never falling back to text', () => {
    const badHex = fc.oneof(
      fc.constant(''),
      fc.stringMatching(/^[0-9a-f]{1,9}$/).filter((s) => s.length % 2 === 1),
      fc.stringMatching(/^[0-9a-f]{0,8}[g-zG-Z \n=:][0-9a-f]{0,8}$/),
    );
    const badB64 = fc.oneof(
      fc.constant(''),
      fc.uint8Array({ minLength: 1, maxLength: 32 }).map((b) => encodeBase64(b).replace(/=+$/, '')).filter((s) => s.length % 4 !== 0),
      fc.uint8Array({ minLength: 1, maxLength: 32 }).map((b) => `${encodeBase64(b)}\n`),
      fc.uint8Array({ minLength: 3, maxLength: 32 }).map((b) => encodeBase64Url(b)).filter((s) => /[-_]/.test(s)),
    );
    fc.assert(
      fc.property(fc.oneof(badHex.map((h) => `hex:${h}`), badB64.map((b) => `base64:${b}`)), (secret) => {
        let thrown: unknown;
        try {
          parseSecretKey(secret);
        } catch (err) {
          thrown = err;
        }
        expect(thrown, JSON.stringify(secret)).toBeInstanceOf(UsageError);
        expect((thrown as CliError).code).toBe('ERR_SECRET_FORMAT');
        expect((thrown as UsageError).exitCode).toBe(2);
        // The error must not echo the secret back.
        const body = secret.replace(/^(hex|base64):/, '');
        if (body.length >= 4) expect((thrown as Error).message).not.toContain(body);
      }),
      RUNS,
    );
  });

  it('never throws anything but a UsageError, on any input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }).map((s) => `hex:${s}`), fc.string({ maxLength: 40 }).map((s) => `base64:${s}`)), (s) => {
        try {
          parseSecretKey(s);
        } catch (err) {
          expect(err, JSON.stringify(s)).toBeInstanceOf(UsageError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('fingerprint and mask', () => {
  it('fingerprint is 8 lowercase hex chars, stable, and mask never reveals more than 6 characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), (s) => {
        expect(fingerprint(s)).toMatch(/^[0-9a-f]{8}$/);
        expect(fingerprint(s)).toBe(fingerprint(s));
        const m = mask(s);
        const shown = [...m.replace('…', '')];
        expect(shown.length).toBeLessThanOrEqual(6);
        // A masked secret of 8+ chars never contains any run of 4 consecutive secret chars
        // beyond the 3-char prefix and suffix it is allowed to show.
        const chars = [...s];
        if (chars.length >= 16) expect(m).toBe(`${chars.slice(0, 3).join('')}…${chars.slice(-3).join('')}`);
        else expect(shown.length).toBeLessThanOrEqual(2);
      }),
      RUNS,
    );
  });
});
