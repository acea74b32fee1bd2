import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { codeCacheFor, loadBundle } from './load-bundle.js';

describe('codeCacheFor', () => {
  it('gives the timed commands their own cache', () => {
    expect(codeCacheFor(['hash', 'user_123'])).toBe('hash');
    expect(codeCacheFor(['hash', '--batch'])).toBe('hash');
    expect(codeCacheFor(['token', 'sign', '--user-id', 'u'])).toBe('token-sign');
    expect(codeCacheFor(['token', 'verify', 'a.b.c'])).toBe('token-verify');
  });

  it('gives every other command line the general cache', () => {
    for (const argv of [[], ['--help'], ['token'], ['token', 'decode', 'a.b.c'], ['contacts', 'sync', 'x.csv'], ['--profile', 'prod', 'hash', 'u'], ['hashes'], ['token', 'signs']]) {
      expect(codeCacheFor(argv)).toBe('cli');
    }
  });
});

describe('loadBundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatid-load-bundle-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const load = createRequire(import.meta.url);
  const WRAPPER = '(function (exports, require, module, __filename, __dirname) {';
  let n = 0;
  /** A bundle as scripts/build.mjs writes one (the id need not be the real hash here). */
  function bundle(body: string, { id = 'a'.repeat(64), wrapped = true } = {}): string {
    const file = join(dir, `b${++n}.js`);
    writeFileSync(file, wrapped ? `/*chatid-build:${id}*/${WRAPPER}"use strict";${body}\n})\n` : `/*chatid-build:${id}*/${body}\n`);
    return file;
  }

  it('runs the bundle as CommonJS, in strict mode, with a require of its own directory', () => {
    const file = bundle('module.exports = { strict: (function () { return this; })() === undefined, dir: __dirname, path: require("node:path").sep };');
    const b = loadBundle<{ strict: boolean; dir: string; path: string }>(file, join(dir, 'none.cache'), load);
    expect(b.exports).toEqual({ strict: true, dir, path: '/' });
    expect(b.cacheMissed).toBe(true); // there is no cache file
  });

  it('ignores a cache made for another build id, and one that is not a cache', () => {
    const other = loadBundle(bundle('module.exports = 1;', { id: 'b'.repeat(64) }), join(dir, 'none.cache'), load);
    const cache = join(dir, 'other.cache');
    writeFileSync(cache, other.createCache());
    const file = bundle('module.exports = 2;', { id: 'c'.repeat(64) });
    expect(loadBundle(file, cache, load)).toMatchObject({ exports: 2, cacheMissed: true });
    // Another source (V8 would find the one above in its in-memory cache and not look at ours).
    writeFileSync(cache, `${'c'.repeat(64)}not a code cache`);
    expect(loadBundle(bundle('module.exports = 22;', { id: 'c'.repeat(64) }), cache, load)).toMatchObject({ exports: 22, cacheMissed: true });
  });

  it('makes a cache that starts with the build id', () => {
    const b = loadBundle(bundle('module.exports = 3;', { id: 'd'.repeat(64) }), join(dir, 'none.cache'), load);
    const cache = b.createCache();
    expect(cache.subarray(0, 64).toString('latin1')).toBe('d'.repeat(64));
    expect(cache.length).toBeGreaterThan(64);
  });

  it('refuses a file without the build id and the wrapper, naming the fix', () => {
    expect(() => loadBundle(bundle('module.exports = 4;', { wrapped: false }), join(dir, 'none.cache'), load)).toThrow(/does not start with a build id and the CommonJS wrapper.*npm run build/);
    const plain = join(dir, 'plain.js');
    writeFileSync(plain, `${WRAPPER}module.exports = 5;\n})\n`);
    expect(() => loadBundle(plain, join(dir, 'none.cache'), load)).toThrow(/npm run build/);
  });
});
