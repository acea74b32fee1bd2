// Shared checks for the bad-input corpus and the reliability suites (issue 6): what "a clear
// error, the documented exit code, no stack trace, nothing written or lost" means in code.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect } from 'vitest';
import { createTestCtx, runCli, type CliResult, type TestCtxOptions } from '../helpers/test-ctx.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(REPO, 'bin', 'chatid.js');
export const CORPUS = fileURLToPath(new URL('.', import.meta.url));

/** A line of a JS stack trace, or an uncaught error's constructor name leaking to the user. */
const STACK = /^\s+at\s+\S.*(:\d+:\d+\)?|<anonymous>\)?)$/m;
const RAW_ERROR = /^(?:Uncaught )?(?:TypeError|RangeError|SyntaxError|ReferenceError|Error)(?: \[\w+\])?: /m;

/** Fail, naming the case, when output holds a stack trace or a raw JS error line. */
export function expectNoStackTrace(name: string, ...outputs: string[]): void {
  for (const text of outputs) {
    expect(STACK.test(text), `${name}: stack trace in output:\n${text}`).toBe(false);
    expect(RAW_ERROR.test(text), `${name}: raw JS error in output:\n${text}`).toBe(false);
  }
}

/**
 * Check a failed --json run: the exit code, exactly one JSON document on stdout with
 * `error.code` (and a message and hint), nothing else there, no stack trace anywhere.
 */
export function expectJsonError(name: string, r: CliResult, exitCode: number, code: string | RegExp): void {
  const where = `${name}\n--- stdout:\n${r.stdout}\n--- stderr:\n${r.stderr}`;
  let doc: any;
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    throw new Error(`${name}: stdout is not one JSON document (exit ${r.exitCode})\n${where}`);
  }
  expect({ exitCode: r.exitCode, code: doc?.error?.code }, where).toEqual({
    exitCode,
    code: typeof code === 'string' ? code : expect.stringMatching(code),
  });
  expect(typeof doc.error.message, where).toBe('string');
  expect(doc.error.message.length, where).toBeGreaterThan(0);
  expectNoStackTrace(name, r.stdout, r.stderr);
}

/** Same for human mode: exit code, the code named on stderr, a hint, empty stdout, no trace. */
export function expectHumanError(name: string, r: CliResult, exitCode: number, code: string | RegExp): void {
  const where = `${name}\n--- stdout:\n${r.stdout}\n--- stderr:\n${r.stderr}`;
  expect(r.exitCode, where).toBe(exitCode);
  expect(r.stderr, where).toMatch(typeof code === 'string' ? new RegExp(`\\(${code}\\)`) : code);
  expect(r.stderr, where).toMatch(/^error: /m);
  expectNoStackTrace(name, r.stdout, r.stderr);
}

export interface FileFacts {
  sha256: string;
  mode: number;
  kind: 'file' | 'dir' | 'other';
}

/** Every entry under `dir` (recursively), with a hash of its bytes and its mode. */
export function snapshotDir(dir: string): Record<string, FileFacts> {
  const out: Record<string, FileFacts> = {};
  if (!existsSync(dir)) return out;
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      const rel = relative(dir, p);
      if (st.isDirectory()) {
        out[rel] = { sha256: '', mode: st.mode & 0o777, kind: 'dir' };
        walk(p);
      } else if (st.isFile()) {
        out[rel] = { sha256: createHash('sha256').update(readFileSync(p)).digest('hex'), mode: st.mode & 0o777, kind: 'file' };
      } else {
        out[rel] = { sha256: '', mode: st.mode & 0o777, kind: 'other' };
      }
    }
  };
  walk(dir);
  return out;
}

/** Run in-process with a fresh test context; a thin wrapper so tables stay short. */
export async function run(argv: string[], o: TestCtxOptions = {}): Promise<CliResult> {
  return runCli(argv, createTestCtx(o));
}

export interface SpawnResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number;
}

/** Run the built CLI (`node bin/chatid.js`) as a real process. */
export function spawnCli(
  argv: string[],
  o: { env?: Record<string, string | undefined>; stdin?: string | Buffer; cwd?: string; timeoutMs?: number; onSpawn?: (pid: number) => void } = {},
): Promise<SpawnResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ PATH: process.env.PATH, HOME: process.env.HOME, ...o.env })) if (v !== undefined) env[k] = v;
    const child = spawn(process.execPath, [BIN, ...argv], { cwd: o.cwd ?? REPO, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ exitCode, signal, stdout, stderr, pid: child.pid ?? -1 });
    });
    o.onSpawn?.(child.pid ?? -1);
    if (o.stdin !== undefined) child.stdin.end(o.stdin);
    else child.stdin.end();
  });
}

/** What bin/chatid.js imports: the bundle `npm run build` makes (npm test builds first). */
export const DIST_BIN = join(REPO, 'dist', 'bin.js');
const BUILT = existsSync(DIST_BIN);
const CI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
const NOT_BUILT = '(skipped: dist/ not built — run npm run build)';

/**
 * A suite that spawns the built CLI. Its one legitimate skip is a lone `vitest run` before any
 * build: then it is skipped with the reason in its title. Under CI (which builds first) a
 * missing dist/ fails the suite instead. Whatever is built runs in full, so a command missing
 * from the bundle fails its tests; it never skips them.
 */
export function describeBuilt(title: string, fn: () => void): void {
  if (BUILT) {
    describe(title, fn);
  } else if (CI) {
    describe(title, () => {
      beforeAll(() => {
        throw new Error(`${DIST_BIN} is missing: CI must run \`npm run build\` before vitest`);
      });
      fn();
    });
  } else {
    describe.skip(`${title} ${NOT_BUILT}`, fn);
  }
}
