import type * as BufferModule from 'node:buffer';
import type * as Crypto from 'node:crypto';
import type * as Fs from 'node:fs';
import type * as Module from 'node:module';
import type * as Path from 'node:path';
import type * as Vm from 'node:vm';

/** The CommonJS wrapper, on the bundle's first line so that line numbers stay those of the file. */
const WRAPPER = '(function (exports, require, module, __filename, __dirname) {';
/** The cache file starts with the SHA-256 of the bundle it was made from. */
const DIGEST_BYTES = 32;

export interface LoadedBundle<T> {
  exports: T;
  /** False when V8 used the cache: it was there, made from these bytes, by this Node and V8. */
  cacheMissed: boolean;
  /** A cache for this bundle holding every function compiled so far (the build calls it). */
  createCache: () => Buffer;
}

/**
 * Run the CommonJS bundle `file` (dist/cli.js) as `require` would, but compiled with V8's code
 * cache from `cacheFile` (written by scripts/build.mjs after running the common commands): V8
 * then deserializes bytecode instead of parsing and compiling ~500 KB at every start. Node 20
 * has no `module.enableCompileCache()` (Node ≥ 22.1), hence this.
 *
 * The cache is used only when its first 32 bytes are the SHA-256 of the bundle (V8 itself only
 * compares the source length) and V8 accepts it (same V8 version and flags); otherwise the
 * bundle is compiled from source as usual: slower, same result. An ASCII bundle is read as latin1,
 * which skips UTF-8 decoding.
 * @example loadBundle<typeof import('./start.js')>('/app/dist/cli.js', '/app/dist/cli.cache', createRequire(import.meta.url)).exports.main
 */
export function loadBundle<T>(file: string, cacheFile: string, load: (id: string) => unknown): LoadedBundle<T> {
  const { readFileSync } = load('node:fs') as typeof Fs;
  const { createHash } = load('node:crypto') as typeof Crypto;
  const { Script } = load('node:vm') as typeof Vm;
  const { createRequire } = load('node:module') as typeof Module;
  const { dirname } = load('node:path') as typeof Path;
  const { isAscii } = load('node:buffer') as typeof BufferModule;
  const bytes = readFileSync(file);
  const digest = createHash('sha256').update(bytes).digest();
  let cachedData: Buffer | undefined;
  try {
    const c = readFileSync(cacheFile);
    if (c.length > DIGEST_BYTES && digest.equals(c.subarray(0, DIGEST_BYTES))) cachedData = c.subarray(DIGEST_BYTES);
  } catch {
    // No cache (a build without one, or removed): compile from source.
  }
  const script = new Script(`${WRAPPER}${bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8')}\n})`, { filename: file, ...(cachedData ? { cachedData } : {}) });
  const module = { exports: {} as T };
  const fn = script.runInThisContext() as (e: unknown, r: NodeJS.Require, m: { exports: T }, f: string, d: string) => void;
  fn(module.exports, createRequire(file), module, file, dirname(file));
  return {
    exports: module.exports,
    cacheMissed: cachedData === undefined || script.cachedDataRejected === true,
    createCache: () => Buffer.concat([digest, script.createCachedData()]),
  };
}
