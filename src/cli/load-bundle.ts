import type * as BufferModule from 'node:buffer';
import type * as Fs from 'node:fs';
import type * as Module from 'node:module';
import type * as Path from 'node:path';
import type * as Vm from 'node:vm';

/**
 * A bundle starts with `/*chatid-build:<64 hex digits>*\/` (scripts/build.mjs), then this
 * CommonJS wrapper, which the build writes into the file (closed at its end) so that the text
 * read is the text compiled: wrapping it here made V8 copy ~560 KB once more at every start.
 */
const ID_PREFIX = '/*chatid-build:';
const ID_LENGTH = 64;
const WRAPPER = '(function (exports, require, module, __filename, __dirname) {';

/**
 * The V8 code caches the build makes for dist/cli.js: one for each command whose start-up
 * issue 5 times (`hash`, `token sign`, `token verify`), and `cli` for every other command. A
 * cache holds the bytecode of every function its training run compiled, and V8 deserializes
 * all of it at start, so a cache trained on one command loads ≈ 110 KB less than one trained
 * on all of them (≈ 2–3 ms of `token sign`; docs/performance.md).
 */
export type CodeCacheName = 'hash' | 'token-sign' | 'token-verify' | 'cli';

/**
 * The code cache for a command line: the command's own when its first two words are one of
 * the commands with their own cache (options before the command, such as `--profile prod`,
 * make it `cli`: slower by a few ms, never wrong).
 * @example codeCacheFor(['token', 'sign', '--user-id', 'u1']) // 'token-sign'
 */
export function codeCacheFor(argv: readonly string[]): CodeCacheName {
  if (argv[0] === 'hash') return 'hash';
  if (argv[0] === 'token' && argv[1] === 'sign') return 'token-sign';
  if (argv[0] === 'token' && argv[1] === 'verify') return 'token-verify';
  return 'cli';
}

export interface LoadedBundle<T> {
  exports: T;
  /** False when V8 used the cache: it was there, made for this build, by this Node and V8. */
  cacheMissed: boolean;
  /** A cache for this bundle holding every function compiled so far (the build calls it). */
  createCache: () => Buffer;
}

/**
 * Run the CommonJS bundle `file` (dist/cli.js) as `require` would, but compiled with V8's code
 * cache from `cacheFile` (written by scripts/build.mjs after running a command: codeCacheFor): V8
 * then deserializes bytecode instead of parsing and compiling ~415 KB at every start. Node 20
 * has no `module.enableCompileCache()` (Node ≥ 22.1), hence this.
 *
 * The cache is used only when it starts with the bundle's build id (the SHA-256 of the bundle,
 * written on its first line by the build; V8 itself compares only the source length) and V8
 * accepts it (same V8 version and flags); otherwise the bundle is compiled from source as
 * usual: slower, same result. The id is not recomputed here (hashing 415 KB costs more than
 * the rest of the loading): a hand edit of dist/cli.js needs a rebuild, or dist/cli.*.cache
 * deleted. V8 does not checksum a code cache: one damaged in place (same length, same id) can
 * crash the process; `npm run build`, or deleting dist/cli.*.cache, mends it. An ASCII bundle
 * (the build makes it so) is read as latin1, skipping UTF-8 decoding.
 * @example loadBundle<typeof Start>('/app/dist/cli.js', '/app/dist/cli.hash.cache', createRequire(import.meta.url)).exports.main
 */
export function loadBundle<T>(file: string, cacheFile: string, load: (id: string) => unknown): LoadedBundle<T> {
  const { readFileSync } = load('node:fs') as typeof Fs;
  const { Script } = load('node:vm') as typeof Vm;
  const { createRequire } = load('node:module') as typeof Module;
  const { dirname } = load('node:path') as typeof Path;
  const { isAscii } = load('node:buffer') as typeof BufferModule;
  const bytes = readFileSync(file);
  const head = bytes.toString('latin1', 0, ID_PREFIX.length + ID_LENGTH + 2 + WRAPPER.length);
  if (!head.startsWith(ID_PREFIX) || !head.endsWith(`*/${WRAPPER}`)) {
    throw new Error(`${file} does not start with a build id and the CommonJS wrapper: it was not made by this version's scripts/build.mjs. Run \`npm run build\`.`);
  }
  const id = Buffer.from(head.slice(ID_PREFIX.length, ID_PREFIX.length + ID_LENGTH), 'latin1');
  let cachedData: Buffer | undefined;
  try {
    const c = readFileSync(cacheFile);
    if (c.length > ID_LENGTH && id.equals(c.subarray(0, ID_LENGTH))) cachedData = c.subarray(ID_LENGTH);
  } catch {
    // No cache (a build without one, or removed): compile from source.
  }
  const script = new Script(bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8'), { filename: file, ...(cachedData ? { cachedData } : {}) });
  const module = { exports: {} as T };
  const fn = script.runInThisContext() as (e: unknown, r: NodeJS.Require, m: { exports: T }, f: string, d: string) => void;
  fn(module.exports, createRequire(file), module, file, dirname(file));
  return {
    exports: module.exports,
    cacheMissed: cachedData === undefined || script.cachedDataRejected === true,
    createCache: () => Buffer.concat([id, script.createCachedData()]),
  };
}
