// Builds the CLI into a private directory for tests that spawn real processes.
// `dist/` is shared by everyone running `npm run build` in this tree (the build script
// deletes it first), so spawning `bin/chatid.js` could race with another build; a private
// build made by the same function (scripts/build.mjs) cannot. It sits under node_modules/ so
// the packages left external (undici, cli-progress) resolve.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCli } from '../../scripts/build.mjs';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

const BUNDLES = join(REPO, 'node_modules', '.cache');
const PREFIX = 'chatid-bundle-';

/**
 * Build the CLI as `npm run build` does (CommonJS bundle, vendor files, code cache), into a
 * private directory; returns the path of its bin.js. Remove it with {@link removeCliBundle} in
 * afterAll, once every process started from it has ended.
 */
export async function buildCliBundle(): Promise<string> {
  mkdirSync(BUNDLES, { recursive: true });
  return buildCli({ outdir: mkdtempSync(join(BUNDLES, PREFIX)) });
}

/** Delete the private build whose bin.js is `bin` (only one that buildCliBundle made). */
export async function removeCliBundle(bin: string | undefined): Promise<void> {
  if (!bin) return;
  const dir = dirname(bin);
  if (dirname(dir) !== BUNDLES || !basename(dir).startsWith(PREFIX)) throw new Error(`${bin} is not a build made by buildCliBundle; not removing it.`);
  await rm(dir, { recursive: true, force: true });
}

export interface Spawned {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run `node <bin> …args` (under `umask` when given) with `stdin` piped in; CI is removed
 * from the environment unless given in `env`.
 */
export function runBin(bin: string, args: string[], o: { env?: Record<string, string>; stdin?: string; umask?: string } = {}): Promise<Spawned> {
  const { CI: _ci, ...base } = process.env;
  const env = { ...base, NO_COLOR: '1', ...o.env };
  const [cmd, argv] = o.umask
    ? ['sh', ['-c', `umask ${o.umask}; exec "$0" "$@"`, process.execPath, bin, ...args]]
    : [process.execPath, [bin, ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv as string[], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(o.stdin ?? '');
  });
}
