import type * as Fs from 'node:fs';
import { createRequire } from 'node:module';
import type * as Module from 'node:module';
import type * as Path from 'node:path';
import type * as Url from 'node:url';

// node:fs is loaded on use: its ESM facade would set up file streams at start-up.
const load = createRequire(import.meta.url);

/**
 * Point the frames of a stack trace that are in the bundle (`/…/dist/cli.js:line:col`, or
 * `file:///…/dist/…js:line:col` for ESM chunks) at
 * the TypeScript source, using the `.map` file the build writes beside each chunk. Called only
 * when a stack is printed (`--verbose` on an unexpected failure), so start-up never reads a
 * source map and needs no `--enable-source-maps`. Frames without a readable map (the sources
 * themselves under test, node: internals) are left as they are; it never throws.
 * @example mapStack('at run (file:///app/dist/chunks/main-X.js:10:5)') // 'at run (/app/src/cli/main.ts:42:7)'
 */
export function mapStack(stack: string): string {
  const { SourceMap } = load('node:module') as typeof Module;
  const { readFileSync } = load('node:fs') as typeof Fs;
  const { dirname, resolve } = load('node:path') as typeof Path;
  const { fileURLToPath } = load('node:url') as typeof Url;
  const maps = new Map<string, { map: InstanceType<typeof SourceMap>; dir: string } | null>();
  // ESM chunks appear as file: URLs, the CommonJS bundle (dist/cli.js) as absolute paths.
  return stack.replace(/(\bfile:\/\/[^\s()]+\.[cm]?js|(?<=[\s(])\/[^\s():]+\.[cm]?js):(\d+):(\d+)/g, (whole: string, url: string, line: string, col: string) => {
    let entry = maps.get(url);
    if (entry === undefined) {
      try {
        const file = `${url.startsWith('file:') ? fileURLToPath(url) : url}.map`;
        entry = { map: new SourceMap(JSON.parse(readFileSync(file, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]), dir: dirname(file) };
      } catch {
        entry = null;
      }
      maps.set(url, entry);
    }
    if (!entry) return whole;
    const hit = entry.map.findEntry(Number(line) - 1, Number(col) - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number };
    if (hit.originalSource === undefined || hit.originalLine === undefined || hit.originalColumn === undefined) return whole;
    return `${resolve(entry.dir, hit.originalSource)}:${hit.originalLine + 1}:${hit.originalColumn + 1}`;
  });
}
