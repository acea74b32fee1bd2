// Bundles the CLI into dist/ as CommonJS (`npm run build`; `npm ci` runs it via `prepare`):
//   dist/bin.js        the entry (bin/chatid.js requires it): a lone `--version` answers there;
//   dist/cli.js        src/cli/start.ts and everything it can reach (commander, chalk, every
//                      command), one file, no splitting, written inside the CommonJS wrapper,
//                      strict mode;
//   dist/cli.*.cache   V8's code caches for cli.js, one per timed command (hash, token sign,
//                      token verify) and cli for the others, each made here by running its
//                      commands, valid for the cli.js whose build id (its first line) it starts with;
//   dist/scan-worker.js the worker thread of contacts sync's parallel scan (src/sync/scan.ts),
//                      started by cli.js for large files;
//   dist/vendor/*.js   each heavy package (jose, conf, csv-parse, prompts, proper-lockfile) in
//                      its own file, required only when a command's run function needs it;
//                      undici and cli-progress stay in node_modules (CommonJS already).
// Why (docs/performance.md, "Where start-up time goes now"): Node's ESM loader costs about
// 0.75 M instructions per module file and ~15 M to start; CommonJS costs neither, and with the
// code cache V8 skips parsing and compiling the ~415 KB bundle (Node 20 has no
// module.enableCompileCache). `import()` of our own modules becomes a function call in the
// bundle; the heavy packages keep their separate files.
// cli.js drops its whitespace (565 → 415 KB: ≈ 1.5 ms less reading and compiling at every
// start) but keeps its names, so frames stay readable; linked source maps are read only when a
// stack is printed (src/cli/stack.ts). A build fails when a heavy package lands on the start-up
// path (checkStartupPath).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Packages that must load only through import() inside a run function (STYLE.md §16). */
export const HEAVY = ['jose', 'undici', 'conf', 'csv-parse', 'csv-stringify', '@inquirer', 'inquirer', 'cli-progress', 'proper-lockfile'];
/** Heavy CommonJS packages left in node_modules (a bundle of undici gains nothing at start-up). */
const FROM_NODE_MODULES = ['undici', 'cli-progress'];
const isHeavy = (p) => HEAVY.some((h) => p === h || p.startsWith(`${h}/`) || p.includes(`node_modules/${h}/`));

/**
 * `import process from 'node:process'` (chalk's supports-color): dependencies get the global
 * object (the same object) instead of the ESM facade, which reads every property of process
 * and so sets up the stdin, stdout and stderr streams.
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

/**
 * chalk's supports-color calls tty.isatty(1) and tty.isatty(2) when it loads (node:tty loads
 * node:net: ≈ 10 M instructions at every start) to set the level of chalk's default instances.
 * chatid never uses those (ESLint bans the default chalk; src/cli/real-context.ts makes
 * `new Chalk({ level: 0 })` and main sets the level from src/cli/context.ts colorLevel), so in
 * the bundle supports-color answers "no color" without looking.
 */
const chalkNoSupportsColor = {
  name: 'chalk-no-supports-color',
  setup(b) {
    b.onResolve({ filter: /^#supports-color$/ }, (args) =>
      /node_modules[\\/]chalk[\\/]/.test(args.importer) ? { path: 'supports-color', namespace: 'chalk-no-supports-color' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'chalk-no-supports-color' }, () => ({
      loader: 'js',
      contents: 'export function createSupportsColor() { return false; }\nexport default { stdout: false, stderr: false };\n',
    }));
  },
};

/** `csv-parse/sync` → `vendor/csv-parse-sync.js`. */
const vendorFile = (spec) => `vendor/${spec.replace(/^@/, '').replace(/\//g, '-')}.js`;

/** Heavy packages imported by our sources become `require('./vendor/<name>.js')`; `used` collects them. */
function vendorExternal(used) {
  return {
    name: 'vendor-external',
    setup(b) {
      b.onResolve({ filter: /^[@a-z]/ }, (args) => {
        if (!isHeavy(args.path) || args.importer.includes('node_modules')) return undefined;
        if (FROM_NODE_MODULES.some((p) => args.path === p || args.path.startsWith(`${p}/`))) return { path: args.path, external: true };
        used.add(args.path);
        return { path: `./${vendorFile(args.path)}`, external: true };
      });
    },
  };
}

/** In CommonJS output, `import.meta.url` (createRequire in bin.ts and stack.ts) is this file's URL. */
const IMPORT_META_URL = {
  define: { 'import.meta.url': '__chatidImportMetaUrl' },
  banner: { js: 'var __chatidImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
};
/**
 * cli.js starts with its build id (src/cli/load-bundle.ts): the SHA-256 of the file with these
 * 64 zeros in place, filled in after the build (same length, so the source map stays right).
 */
const BUILD_ID_PLACEHOLDER = `/*chatid-build:${'0'.repeat(64)}*/`;
/**
 * cli.js is written inside the CommonJS wrapper (after its build id; the closing `})` before the
 * source-map comment), so load-bundle.ts compiles the file's text as it is read: wrapping it at
 * run time made V8 flatten a ~560 KB two-part string, ≈ 4.5 ms of every start
 * (docs/performance.md). The same text as WRAPPER in src/cli/load-bundle.ts, which refuses a
 * file without it. STRICT follows it: esbuild's own "use strict" comes after the banner, so it
 * was no directive, and the bundle ran in sloppy mode while the tests run the sources as ESM,
 * which is strict.
 */
const CJS_WRAPPER = '(function (exports, require, module, __filename, __dirname) {';
const STRICT = '"use strict";';

const COMMON = { bundle: true, format: 'cjs', platform: 'node', target: 'node20.19', legalComments: 'none', logLevel: 'warning', charset: 'ascii' };

/**
 * Build the CLI into `outdir` (default dist/). `codeCache: false` skips the V8 cache (tests that
 * bundle privately do not need the speed); `sourcemap` as esbuild's.
 * @returns {Promise<string>} the path of bin.js in outdir
 */
export async function buildCli({ outdir = join(ROOT, 'dist'), codeCache = true, sourcemap = 'linked' } = {}) {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  // .js files in outdir are CommonJS whatever the package's "type" says.
  writeFileSync(join(outdir, 'package.json'), '{ "type": "commonjs" }\n');
  const used = new Set();
  const cli = await build({
    ...COMMON,
    ...IMPORT_META_URL,
    absWorkingDir: ROOT,
    banner: { js: `${BUILD_ID_PLACEHOLDER}${CJS_WRAPPER}${STRICT}${IMPORT_META_URL.banner.js}` },
    entryPoints: { cli: 'src/cli/start.ts' },
    // Whitespace only: identifiers keep their names in stacks and in the heap.
    minifyWhitespace: true,
    outdir,
    sourcemap,
    metafile: true,
    define: { ...IMPORT_META_URL.define, CHATID_SCAN_WORKER: JSON.stringify('./scan-worker.js') },
    // import() of external modules (vendor files, undici, builtins) becomes require() on use.
    supported: { 'dynamic-import': false },
    plugins: [processShim, lazyChildProcess, chalkNoSupportsColor, vendorExternal(used)],
    // Written below, once the build id is in (never read back from a directory others may rebuild).
    write: false,
  });
  // The scan worker: its own file (a Worker runs a script), sharing the vendor files.
  await build({
    ...COMMON,
    absWorkingDir: ROOT,
    entryPoints: { 'scan-worker': 'src/sync/scan-worker.ts' },
    outdir,
    sourcemap,
    supported: { 'dynamic-import': false },
    plugins: [vendorExternal(used)],
  });
  if (used.size) {
    await build({
      ...COMMON,
      absWorkingDir: ROOT,
      // Our sources are ESM in a "type": "module" package, so esbuild gives their imports of
      // these CommonJS files Node's semantics: named exports are module.exports' properties
      // and `default` is module.exports itself. A CommonJS package is exported as it is; an
      // ESM package as its namespace, or as its default export when it has one (conf).
      entryPoints: Object.fromEntries([...used].map((spec) => [vendorFile(spec).replace(/\.js$/, ''), `vendor-entry:${spec}`])),
      outdir,
      sourcemap,
      external: FROM_NODE_MODULES,
      plugins: [
        {
          name: 'vendor-entry',
          setup(b) {
            b.onResolve({ filter: /^vendor-entry:/ }, (args) => ({ path: args.path.slice('vendor-entry:'.length), namespace: 'vendor-entry' }));
            b.onLoad({ filter: /.*/, namespace: 'vendor-entry' }, (args) => ({ loader: 'js', contents: `const m = require(${JSON.stringify(args.path)});\nmodule.exports = m && m.__esModule && 'default' in m ? m.default : m;\n`, resolveDir: ROOT }));
          },
        },
      ],
    });
    // An ESM package with both a default and named exports cannot keep both that way.
    for (const spec of used) {
      const probe = spawnSync(process.execPath, ['-e', `const m = require(${JSON.stringify(spec)}); process.stdout.write(String(Boolean(m && m.__esModule && 'default' in m && Object.keys(m).some((k) => k !== 'default' && k !== '__esModule'))))`], { cwd: ROOT, encoding: 'utf8' });
      if (probe.stdout !== 'false') fail(`${spec} has a default export and named exports (or could not be loaded: ${probe.stderr.slice(0, 300)}); scripts/build.mjs vendor-entry keeps only one.`);
    }
  }
  await build({
    ...COMMON,
    ...IMPORT_META_URL,
    absWorkingDir: ROOT,
    entryPoints: { bin: 'src/bin.ts' },
    outdir,
    sourcemap,
    define: { ...IMPORT_META_URL.define, CHATID_CLI_BUNDLE: JSON.stringify({ file: './cli.js', cachePrefix: './cli.' }) },
    // The ESM branch of bin.ts (tests' bundles) is dead code here; never bundle start.ts twice.
    plugins: [{ name: 'start-external', setup: (b) => b.onResolve({ filter: /^\.\/cli\/start\.js$/ }, () => ({ path: './cli.js', external: true })) }],
  });
  const cliFile = join(outdir, 'cli.js');
  for (const f of cli.outputFiles) if (f.path !== cliFile) writeFileSync(f.path, f.contents);
  // esbuild escapes non-ASCII text in code (charset 'ascii') but keeps comments as written:
  // make those ASCII too ('…' → '?', one UTF-16 unit for one, so source-map columns hold),
  // so that load-bundle.ts can read the file as latin1 instead of decoding UTF-8.
  let source = cli.outputFiles.find((f) => f.path === cliFile).text.replace(/[^\p{ASCII}]/gu, (c) => '?'.repeat(c.length));
  if (/\bimport\(/.test(source)) fail(`${relative(ROOT, cliFile)} calls import(), which a vm.Script cannot (src/cli/load-bundle.ts).`);
  if (!source.startsWith(`${BUILD_ID_PLACEHOLDER}${CJS_WRAPPER}${STRICT}`)) fail(`${relative(ROOT, cliFile)} does not start with its build id placeholder, the CommonJS wrapper and "use strict".`);
  // Close the wrapper after the code and before the source-map comment, which stays last.
  const mapComment = /\n\/\/# sourceMappingURL=[^\n]*\n?$/.exec(source);
  source = mapComment ? `${source.slice(0, mapComment.index)}\n})${source.slice(mapComment.index)}` : `${source}\n})\n`;
  source = source.replace(BUILD_ID_PLACEHOLDER, BUILD_ID_PLACEHOLDER.replace(/0{64}/, createHash('sha256').update(source).digest('hex')));
  writeFileSync(cliFile, source);
  const startup = checkStartupPath(cli.metafile, outdir, used);
  writeFileSync(join(outdir, 'startup.json'), `${JSON.stringify(startup, null, 2)}\n`);
  if (codeCache) await writeCodeCache(outdir);
  return join(outdir, 'bin.js');
}

function fail(message) {
  console.error(`build: ${message}`);
  process.exit(1);
}

/**
 * The start-up path is dist/bin.js, dist/cli.js and the modules of cli.js that run when it is
 * loaded: src/cli/start.ts and what it imports statically, transitively (import() runs later,
 * inside run functions). Fail when a heavy package is among them, naming the chain that pulled
 * it in; otherwise describe the path for bench/ (dist/startup.json).
 */
function checkStartupPath(meta, outdir, vendored) {
  const inputs = meta.inputs;
  const from = new Map();
  const stack = ['src/cli/start.ts'];
  from.set('src/cli/start.ts', undefined);
  const problems = [];
  while (stack.length) {
    const k = stack.pop();
    for (const i of inputs[k]?.imports ?? []) {
      if (i.kind !== 'import-statement' && i.kind !== 'require-call') continue;
      const target = i.external ? i.original ?? i.path : i.path;
      if (isHeavy(target) || (i.external && i.path.startsWith('./vendor/'))) {
        const chain = [k];
        for (let p = from.get(k); p; p = from.get(p)) chain.unshift(p);
        problems.push(`${target} (${chain.join(' → ')})`);
        continue;
      }
      if (i.external || from.has(i.path)) continue;
      from.set(i.path, k);
      stack.push(i.path);
    }
  }
  if (problems.length) {
    fail(
      `heavy modules on the start-up path (load them with await import() inside the run function, STYLE.md §16):\n  ${problems.slice(0, 20).join('\n  ')}`,
    );
  }
  const rel = (f) => relative(ROOT, resolve(ROOT, f));
  const distRel = (f) => relative(ROOT, join(outdir, f));
  // Packages bundled in each file (external ones are required on use from dist/vendor/ or
  // node_modules/, where bench/ sees them being opened).
  const packages = {};
  for (const [k, o] of Object.entries(meta.outputs)) {
    if (!k.endsWith('.js')) continue;
    const names = new Set(Object.keys(o.inputs).map((i) => /node_modules\/((@[^/]+\/)?[^/]+)/.exec(i)?.[1]).filter(Boolean));
    packages[rel(k)] = [...names].sort();
  }
  for (const spec of vendored) packages[distRel(vendorFile(spec))] = [spec];
  const modules = [...from.keys()].sort();
  const bytes = Object.entries(meta.outputs).reduce((n, [k, o]) => (k.endsWith('.js') ? n + o.bytes : n), 0);
  return { files: [distRel('bin.js'), distRel('cli.js')], modules, bytes, heavy: HEAVY, packages };
}

/**
 * Make V8's code caches for cli.js (src/cli/load-bundle.ts codeCacheFor): each in its own process
 * that loads cli.js through load-bundle.ts, runs the cache's commands and saves the cache; a
 * second process checks that V8 accepts it. `cli` runs `--help` (which registers every command)
 * and all the others, for the commands without a cache of their own. Env and store are the
 * build's own: a temp config dir with one profile, a made-up secret, output to /dev/null.
 */
async function writeCodeCache(outdir) {
  const work = mkdtempSync(join(tmpdir(), 'chatid-code-cache-'));
  // Thrown inside, reported after the temp dir (trainer and made-up secret) is gone.
  let problem;
  try {
    const trainer = join(work, 'trainer.cjs');
    await build({
      ...COMMON,
      stdin: {
        resolveDir: ROOT,
        sourcefile: 'code-cache-trainer.ts',
        loader: 'ts',
        contents: `
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { codeCacheFor, loadBundle } from './src/cli/load-bundle.ts';
const [outdir, name, mode, runsJson] = process.argv.slice(2);
const file = join(outdir, \`cli.\${name}.cache\`);
const b = loadBundle<typeof import('./src/cli/start.ts')>(join(outdir, 'cli.js'), file, require);
if (mode === 'check') process.exit(b.cacheMissed ? 3 : 0);
// Each run: the argv, env changes for it (null: unset) and its exit code (a run that fails
// where it should not would train the error path instead).
const runs: { argv: string[]; env?: Record<string, string | null>; exit?: number }[] = JSON.parse(runsJson);
const strays = runs.filter((r) => name !== 'cli' && codeCacheFor(r.argv) !== name);
if (strays.length) throw new Error(\`the \${name} cache is trained on commands that load another: \${JSON.stringify(strays)}\`);
(async () => {
  for (const { argv, env = {}, exit = 0 } of runs) {
    const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
    const set = (k: string, v: string | null | undefined) => { if (v === null || v === undefined) delete process.env[k]; else process.env[k] = v; };
    for (const [k, v] of Object.entries(env)) set(k, v);
    const code = await b.exports.main(argv, b.exports.createRealCtx());
    if (code !== exit) throw new Error(\`chatid \${argv.join(' ')} exited \${code}, not \${exit}\`);
    for (const [k, v] of saved) set(k, v);
  }
  writeFileSync(file, b.createCache());
  process.exit(0);
})();
`,
      },
      outfile: trainer,
      logLevel: 'error',
    });
    const secret = 'code-cache-secret-0123456789abcdef-0123456789';
    const now = Math.floor(Date.now() / 1000);
    const b64u = (s) => Buffer.from(s).toString('base64url');
    const signed = `${b64u('{"alg":"HS256","typ":"JWT"}')}.${b64u(JSON.stringify({ user_id: 'user_123', iat: now, exp: now + 3600 }))}`;
    const token = `${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}`;
    const config = join(work, 'config');
    mkdirSync(config, { mode: 0o700 });
    writeFileSync(join(config, 'config.json'), JSON.stringify({ profiles: { build: { provider: 'chatbase', secret } } }), { mode: 0o600 });
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CHATID_') && k !== 'FORCE_COLOR'));
    Object.assign(env, { CHATID_SECRET: secret, CHATID_PROVIDER: 'chatbase', CHATID_CONFIG_DIR: config, NO_COLOR: '1', CI: 'true' });
    const hash = [{ argv: ['hash', 'user_123'] }, { argv: ['hash', 'user_123', '--profile', 'build'], env: { CHATID_SECRET: null, CHATID_PROVIDER: null } }];
    const sign = [{ argv: ['token', 'sign', '--user-id', 'user_123'] }];
    const verify = [{ argv: ['token', 'verify', token] }, { argv: ['token', 'verify', `${token}x`], exit: 3 }];
    const caches = { hash, 'token-sign': sign, 'token-verify': verify, cli: [{ argv: ['--help'] }, ...hash, ...sign, ...verify] };
    for (const [name, runs] of Object.entries(caches)) {
      const train = spawnSync(process.execPath, [trainer, outdir, name, 'train', JSON.stringify(runs)], { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
      if (train.status !== 0) throw new Error(`making the ${name} code cache failed (exit ${train.status ?? train.signal}): ${train.stderr.slice(0, 2000)}`);
      const check = spawnSync(process.execPath, [trainer, outdir, name, 'check'], { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
      if (check.status !== 0) throw new Error(`V8 rejected the ${name} code cache just made (exit ${check.status ?? check.signal}): ${check.stderr.slice(0, 2000)}`);
    }
  } catch (err) {
    problem = err;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (problem) fail(problem instanceof Error ? problem.message : String(problem));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await buildCli();
}
