// Builds the CLI into a private temp directory for tests that spawn real processes.
// `dist/` is shared by everyone running `npm run build` in this tree (the build script
// deletes it first), so spawning `bin/chatid.js` could race with another build; a private
// bundle made with the same esbuild options cannot.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** Bundle src/bin.ts as scripts/build.mjs does; returns the path of the entry file. */
export async function buildCliBundle(): Promise<string> {
  const outdir = mkdtempSync(join(tmpdir(), 'chatid-bundle-'));
  await build({
    entryPoints: { bin: join(REPO, 'src/bin.ts') },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    logLevel: 'error',
    chunkNames: 'chunks/[name]-[hash]',
    banner: {
      js: "import { createRequire as __chatidCreateRequire } from 'node:module'; const require = __chatidCreateRequire(import.meta.url);",
    },
  });
  return join(outdir, 'bin.js');
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
