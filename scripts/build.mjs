// Bundles src/bin.ts into dist/ as ESM with code splitting, so that modules a command loads
// with import() (jose, undici, conf, csv-parse, prompts) stay out of the start-up path.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { bin: 'src/bin.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  chunkNames: 'chunks/[name]-[hash]',
  // CommonJS packages loaded with import(): a bundled chunk would expose only `default`
  // (so `const { Agent } = await import('undici')` got undefined); left external, Node's own
  // CJS interop gives them named exports, as in the tests.
  external: ['undici', 'cli-progress'],
  // commander and a few deps are CommonJS: give the ESM bundle a require().
  banner: {
    js: "import { createRequire as __chatidCreateRequire } from 'node:module'; const require = __chatidCreateRequire(import.meta.url);",
  },
});
