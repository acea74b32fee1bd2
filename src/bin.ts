// The executable's entry: runs main and sets the exit status; nothing else (STYLE.md §6).
// `chatid --version` alone answers here, before commander and the command tree load: it is
// the one command whose whole cost is start-up (issue 5: ≤ 1.3× `node -e 0`).
import type * as Fs from 'node:fs';
import { createRequire } from 'node:module';
import type * as Url from 'node:url';
import { codeCacheFor, loadBundle } from './cli/load-bundle.js';
import type * as Start from './cli/start.js';
import { VERSION } from './version.js';

/**
 * Set by scripts/build.mjs: the CommonJS bundle of src/cli/start.ts beside dist/bin.js, and the
 * start of its V8 code caches' names (`./cli.` + codeCacheFor(argv) + `.cache`). Undefined in
 * other builds of this file (tests bundle it as ESM with splitting), which import start.js
 * instead.
 */
declare const CHATID_CLI_BUNDLE: { file: string; cachePrefix: string } | undefined;

type Cli = typeof Start;

// Builtins through require: an ESM import of node:fs builds a facade that reads every export,
// and its lazy getters (ReadStream, …) load the stream stack before anything is printed.
const load = createRequire(import.meta.url);

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  printVersion();
} else {
  // An unexpected rejection ends the process with its stack, as a top-level await would.
  void run();
}

async function run(): Promise<void> {
  // Node ≥ 22.1 keeps compiled code in an on-disk cache (NODE_COMPILE_CACHE / the tmp dir) for
  // the modules loaded next; Node 20 has no such API (the bundle's own cache does that there).
  (load('node:module') as { enableCompileCache?: () => unknown }).enableCompileCache?.();
  const { main, createRealCtx } =
    typeof CHATID_CLI_BUNDLE === 'undefined'
      ? await import('./cli/start.js')
      : loadBundle<Cli>(beside(CHATID_CLI_BUNDLE.file), beside(`${CHATID_CLI_BUNDLE.cachePrefix}${codeCacheFor(argv)}.cache`), load).exports;
  process.exitCode = await main(argv, createRealCtx());
}

/** The path of `name` in the directory of this file. */
function beside(name: string): string {
  return (load('node:url') as typeof Url).fileURLToPath(new URL(name, import.meta.url));
}

function printVersion(): void {
  // writeSync on fd 1 skips setting up the process.stdout stream (several ms on a pipe).
  try {
    (load('node:fs') as typeof Fs).writeSync(1, `${VERSION}\n`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // A non-blocking stdout that is momentarily full: let the stream queue it.
    if (code === 'EAGAIN') process.stdout.write(`${VERSION}\n`);
    // EPIPE (`chatid --version | true`): nobody reads it, as with other commands.
    else if (code !== 'EPIPE') {
      // A full disk, an I/O error: the ERR_OUTPUT_WRITE line of every other command (a stack
      // trace is for bugs), without loading the CLI for it.
      const why = (err as Error).message.replace(/, write$/, '');
      try {
        (load('node:fs') as typeof Fs).writeSync(2, `error: Cannot write the output to stdout (${why}); what it holds is incomplete. (ERR_OUTPUT_WRITE)\nhint: Free space where stdout goes (or send it elsewhere) and run the command again.\n`);
      } catch {
        // stderr is gone too: the exit status says it
      }
      process.exitCode = 1;
    }
  }
}
