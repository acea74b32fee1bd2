import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteSink, GROUP, hasLargeArray, putJson } from './json-body.js';

function encode(value: unknown, start = 16): Buffer {
  const out = new ByteSink(Buffer.alloc(start));
  putJson(value, out);
  return out.buf.subarray(0, out.length);
}

describe('putJson', () => {
  const item = fc.oneof(fc.jsonValue(), fc.constant(undefined), fc.constant(new Date(0)), fc.string({ unit: 'grapheme' }), fc.record({ a: fc.string({ unit: 'binary' }), b: fc.option(fc.double(), { nil: undefined }) }));
  const bigArray = fc.array(item, { minLength: GROUP + 1, maxLength: GROUP * 3 + 5 });

  it('writes the bytes of JSON.stringify, whatever the value and however small the buffer it starts with', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          bigArray,
          fc.record({ message: fc.string(), data: bigArray, total: fc.option(fc.nat(), { nil: undefined }) }),
          fc.record({ data: bigArray, f: fc.constant(() => 1), x: fc.jsonValue() }),
          fc.jsonValue(),
        ),
        fc.nat({ max: 4096 }),
        (value, start) => {
          expect(encode(value, start).equals(Buffer.from(JSON.stringify(value) ?? '', 'utf8')), JSON.stringify(value)?.slice(0, 200)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('serialises a contacts reply in groups (no one string of the whole body)', () => {
    const data = Array.from({ length: 1000 }, (_, i) => ({ id: `c${i}`, external_id: `u${i}`, name: 'Zoë 😀', custom_attributes: {} }));
    expect(hasLargeArray({ message: 'Success', data })).toBe(true);
    expect(encode({ message: 'Success', data }).toString('utf8')).toBe(JSON.stringify({ message: 'Success', data }));
  });

  it('leaves values with toJSON to JSON.stringify (their key argument differs when cut up)', () => {
    const data = Array.from({ length: GROUP + 2 }, (_, i) => ({ toJSON: (key: string) => `${key}:${i}` }));
    expect(hasLargeArray({ data })).toBe(false);
    expect(encode({ data }).toString('utf8')).toBe(JSON.stringify({ data }));
    const top = { data: Array.from({ length: GROUP + 2 }, (_, i) => i), when: { toJSON: (key: string) => key } };
    expect(encode(top).toString('utf8')).toBe(JSON.stringify(top));
  });
});
