// Bundles src/bin.ts into dist/ as ESM with code splitting, so that modules a command loads
// with import() (jose, undici, conf, csv-parse, prompts) stay out of the start-up path.
// Measured choices (docs/performance.md, `npm run bench`):
// - splitting on for everything behind src/cli/start.ts; bin.js built apart (see below), so a
//   lone `--version` opens that one file of dist/.
// - no minify: start-up was the same within noise, and readable frames help bug reports.
// - linked source maps, read only when a stack is printed (src/cli/stack.ts), never at start-up.
// - two shims below that keep builtin modules' lazy parts lazy.
// The build fails if a heavy package lands on the start-up path (see checkStartupPath).
import { build } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';

/** Packages that must load only through import() inside a run function (STYLE.md §16). */
const HEAVY = ['jose', 'undici', 'conf', 'csv-parse', 'csv-stringify', '@inquirer', 'inquirer', 'cli-progress', 'proper-lockfile'];

/**
 * `import process from 'node:process'` (chalk's supports-color) makes Node build an ESM facade
 * that reads every property of process, so stdin, stdout and stderr streams get set up at
 * start-up whether used or not. Dependencies get the global object instead (same object).
 */
const processShim = {
  name: 'process-shim',
  setup(b) {
    b.onResolve({ filter: /^(node:)?process$/ }, (args) =>
      args.kind === 'import-statement' && args.importer.includes('node_modules') ? { path: 'process', namespace: 'process-shim' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'process-shim' }, () => ({
      loader: 'js',
      contents: 'const p = globalThis.process;\nexport default p;\nexport const { env, argv, platform, arch, version, versions, pid, execPath } = p;\n',
    }));
  },
};

/**
 * commander requires node:child_process at load time (it loads net, dgram, …) but uses it only
 * for executable subcommands, which chatid has none of: load it on first use instead.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.kind === 'require-call' && /node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy-child-process' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-child-process' }, () => ({
      loader: 'js',
      contents: "let m;\nmodule.exports = new Proxy({}, { get: (_, k) => (m ??= require('node:child_process'))[k] });\n",
    }));
  },
};

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
const result = await build({
  entryPoints: { start: 'src/cli/start.ts' },
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
  metafile: true,
  plugins: [processShim, lazyChildProcess],
  // CommonJS packages loaded with import(): a bundled chunk would expose only `default`
  // (so `const { Agent } = await import('undici')` got undefined); left external, Node's own
  // CJS interop gives them named exports, as in the tests.
  external: ['undici', 'cli-progress'],
  // commander and a few deps are CommonJS: give the ESM bundle a require().
  banner: {
    js: "import { createRequire as __chatidCreateRequire } from 'node:module'; const require = __chatidCreateRequire(import.meta.url);",
  },
});
// bin.js on its own, without splitting: `--version` then opens one file of dist/ (VERSION is
// inlined instead of coming from a shared chunk) and everything else is one import() away.
await build({
  entryPoints: { bin: 'src/bin.ts' },
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [
    {
      name: 'start-external',
      setup(b) {
        b.onResolve({ filter: /^\.\/cli\/start\.js$/ }, () => ({ path: './start.js', external: true }));
      },
    },
  ],
});
checkStartupPath(result.metafile);

/**
 * The start-up path is bin.js (no imports but node:) plus, for every command but a lone
 * --version, dist/start.js and the chunks it imports statically. Fail the build when a heavy
 * package or an eager external import of one is on it, naming the chunk and the source files
 * that pulled it in; write what is on it to dist/startup.json (bench reports it).
 */
function checkStartupPath(meta) {
  const outs = meta.outputs;
  const roots = Object.keys(outs).filter((k) => /^src\/cli\/(main|real-context|start)\.ts$/.test(outs[k].entryPoint ?? ''));
  const seen = new Set();
  const stack = [...roots];
  while (stack.length) {
    const k = stack.pop();
    if (seen.has(k)) continue;
    seen.add(k);
    for (const i of outs[k].imports) if (i.kind === 'import-statement' && !i.external) stack.push(i.path);
  }
  const isHeavy = (p) => HEAVY.some((h) => p === h || p.startsWith(`${h}/`) || p.includes(`node_modules/${h}/`));
  const problems = [];
  let bytes = 0;
  for (const k of seen) {
    bytes += outs[k].bytes;
    for (const input of Object.keys(outs[k].inputs)) if (isHeavy(input)) problems.push(`${k} bundles ${input}`);
    for (const i of outs[k].imports) if (i.external && i.kind === 'import-statement' && isHeavy(i.path)) problems.push(`${k} imports ${i.path} statically`);
  }
  if (problems.length) {
    const src = [...seen].flatMap((k) => Object.keys(outs[k].inputs).filter((p) => p.startsWith('src/')));
    console.error(
      `build: heavy modules on the start-up path (load them with await import() inside the run function, STYLE.md §16):\n  ${problems.slice(0, 20).join('\n  ')}\n` +
        `Source files on that path: ${src.join(', ')}`,
    );
    process.exit(1);
  }
  // Which packages each chunk holds, so bench/ can name the heavy ones a command really loads.
  const packages = {};
  for (const [k, o] of Object.entries(outs)) {
    if (!k.endsWith('.js')) continue;
    const names = new Set(Object.keys(o.inputs).map((i) => /node_modules\/((@[^/]+\/)?[^/]+)/.exec(i)?.[1]).filter(Boolean));
    for (const i of o.imports) if (i.external && i.kind !== 'dynamic-import' && !i.path.startsWith('node:') && !builtinModules.includes(i.path)) names.add(i.path);
    packages[k] = [...names].sort();
  }
  writeFileSync(new URL('../dist/startup.json', import.meta.url), `${JSON.stringify({ chunks: [...seen].sort(), bytes, heavy: HEAVY, packages }, null, 2)}\n`);
}
