import type { ChalkInstance } from 'chalk';
import type { Dispatcher } from 'undici';
import type { ProfileStore } from '../store/types.js';
import type { Prompter } from './prompter.js';

/** The process streams, with the TTY flags the UI decisions depend on. */
export interface Io {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

/** Global flags, set by main before any command runs (../shared/spec/cli.md §1). */
export interface Ui {
  json: boolean;
  /**
   * `--json` with `--batch`: stdout is NDJSON, one result per line, so an error document
   * must be one line too (a reader of the stream parses it like any other line).
   */
  ndjson: boolean;
  quiet: boolean;
  verbose: boolean;
  /** `--no-input`, or `CI=true`: never prompt. */
  noInput: boolean;
  /** `--profile <name>` */
  profile: string | undefined;
}

/**
 * Everything a command may touch outside its arguments: one object, injected, so tests
 * swap it whole (../shared/STYLE.md §3). Only src/bin.ts and createRealCtx read `process`.
 */
export interface Ctx {
  io: Io;
  env: Readonly<Record<string, string | undefined>>;
  /** Working directory that relative paths resolve against. */
  cwd: string;
  /**
   * `now`: the wall clock (dates, HTTP-date headers). `monotonic`: milliseconds that never go
   * back, for spacing requests (a wall clock stepped back must not stall a sync); tests leave
   * it out and get `now`'s.
   */
  clock: { now(): Date; monotonic?(): number };
  /** Cryptographically secure random bytes (fixed in tests). */
  random(size: number): Uint8Array;
  /** Wait `ms` (retries, back-off); tests make it instant. Rejects if `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Colors for stdout; level 0 unless stdout is a TTY and color is not turned off. */
  color: ChalkInstance;
  /** Colors for stderr (its own TTY check). */
  errColor: ChalkInstance;
  prompter: Prompter;
  ui: Ui;
  /** Lazily opened: commands that need no profile never touch the disk. */
  store(): Promise<ProfileStore>;
  /** undici Dispatcher: a pooled keep-alive Agent, or a MockAgent in tests. */
  http(): Promise<Dispatcher>;
  /** Aborted on SIGINT/SIGTERM so long commands can stop cleanly. */
  signal: AbortSignal;
  /** Platform facts for the few places that need them (`process.platform`, home dir). */
  platform: { os: string; home: string };
  /** Release what the context opened (HTTP connections); main calls it once at the end. */
  close(): Promise<void>;
}

export function defaultUi(): Ui {
  return { json: false, ndjson: false, quiet: false, verbose: false, noInput: false, profile: undefined };
}

/**
 * Whether prompting is allowed: stdin and stdout TTYs (cli.md §1: with stdout piped or
 * redirected, a script is running), and stderr too, where the questions go (also under
 * --json); no --no-input, CI not true.
 */
export function canPrompt(ctx: Pick<Ctx, 'io' | 'env' | 'ui'>): boolean {
  return Boolean(ctx.io.stdin.isTTY && ctx.io.stdout.isTTY && ctx.io.stderr.isTTY) && !ctx.ui.noInput && !isCi(ctx.env);
}

/**
 * Why canPrompt says no, for a hint (undefined when it says yes): the fix differs between CI
 * set at a terminal, --no-input, and no terminal at all.
 * @example promptsOffBecause(ctxInCi) // 'CI is set (CI=true)'
 */
export function promptsOffBecause(ctx: Pick<Ctx, 'io' | 'env' | 'ui'>): string | undefined {
  if (ctx.ui.noInput) return '--no-input was given';
  if (isCi(ctx.env)) return `CI is set (CI=${ctx.env.CI})`;
  // Only some of them: at a terminal, "this is not a terminal" read as false.
  const { stdin, stdout, stderr } = ctx.io;
  if (!stdin.isTTY && !stdout.isTTY && !stderr.isTTY) return 'this is not a terminal';
  if (!stdin.isTTY) return 'stdin is not a terminal (it is a pipe or a file)';
  if (!stdout.isTTY) return 'stdout is not a terminal (it is piped or redirected, as in a script)';
  if (!stderr.isTTY) return 'stderr, where questions go, is not a terminal';
  return undefined;
}

export function isCi(env: Readonly<Record<string, string | undefined>>): boolean {
  const v = env.CI?.toLowerCase();
  return v !== undefined && v !== '' && v !== '0' && v !== 'false';
}

/**
 * Color level for a stream: `--no-color` and NO_COLOR turn it off, FORCE_COLOR (1-3, or
 * any other non-0 value) turns it on, otherwise on only at a TTY.
 */
export function colorLevel(o: { isTTY: boolean | undefined; noColorFlag: boolean; env: Readonly<Record<string, string | undefined>> }): 0 | 1 | 2 | 3 {
  if (o.noColorFlag) return 0;
  if (o.env.NO_COLOR !== undefined && o.env.NO_COLOR !== '') return 0;
  const force = o.env.FORCE_COLOR;
  if (force !== undefined) {
    if (force === '0' || force === 'false') return 0;
    if (force === '2') return 2;
    if (force === '3') return 3;
    return 1;
  }
  if (!o.isTTY) return 0;
  if (o.env.TERM === 'dumb') return 0;
  return o.env.COLORTERM === 'truecolor' || o.env.COLORTERM === '24bit' ? 3 : 2;
}
