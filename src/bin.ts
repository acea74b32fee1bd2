// The executable's entry: runs main and sets the exit status; nothing else (STYLE.md §6).
// `chatid --version` alone answers here, before commander and the command tree load: it is
// the one command whose whole cost is start-up (issue 5: ≤ 1.3× `node -e 0`).
import type * as Fs from 'node:fs';
import { createRequire } from 'node:module';
import { VERSION } from './version.js';

// Builtins through require: an ESM import of node:fs builds a facade that reads every export,
// and its lazy getters (ReadStream, …) load the stream stack before anything is printed.
const load = createRequire(import.meta.url);

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  printVersion();
} else {
  // Node ≥ 22.1 keeps compiled code in an on-disk cache (NODE_COMPILE_CACHE / the tmp dir) for
  // the chunks imported next; Node 20 has no such API, so this is skipped there.
  (load('node:module') as { enableCompileCache?: () => unknown }).enableCompileCache?.();
  const { main, createRealCtx } = await import('./cli/start.js');
  process.exitCode = await main(argv, createRealCtx());
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
    else if (code !== 'EPIPE') throw err;
  }
}
