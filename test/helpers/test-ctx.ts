import { Readable, Writable } from 'node:stream';
import { Chalk } from 'chalk';
import { MockAgent, type Dispatcher } from 'undici';
import { canPrompt, type Ctx, defaultUi, type Io } from '../../src/cli/context.js';
import type { CancelledError } from '../../src/cli/errors.js';
import { main } from '../../src/cli/main.js';
import { scriptedPrompter } from '../../src/cli/prompter.js';
import { memoryStore } from '../../src/store/memory-store.js';
import type { Profile, ProfileStore, StoreData } from '../../src/store/types.js';

/** A writable that keeps what was written, and claims to be a TTY when told to. */
export class Capture extends Writable {
  text = '';
  isTTY: boolean;
  columns = 80;
  constructor(isTTY = false) {
    super({ decodeStrings: false });
    this.isTTY = isTTY;
  }
  override _write(chunk: unknown, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    cb();
  }
}

export interface TestCtxOptions {
  env?: Record<string, string | undefined>;
  /** stdin content; omitted = an empty, non-TTY stdin. */
  stdin?: string | Buffer | Readable;
  stdinTTY?: boolean;
  stdoutTTY?: boolean;
  stderrTTY?: boolean;
  /** Fixed clock (default 2026-01-01T00:00:00Z). */
  now?: Date;
  /** Every random byte takes this value (default: a counter 0,1,2,…). */
  randomByte?: number;
  profiles?: Record<string, Profile>;
  activeProfile?: string;
  /** Use this store instead of an in-memory one (e.g. a real conf store in a temp dir). */
  store?: ProfileStore;
  /** Prompt answers, in order; a CancelledError simulates Ctrl-C. */
  answers?: Array<string | boolean | CancelledError>;
  /** Use this dispatcher instead of the MockAgent (e.g. a real Agent aimed at the sandbox). */
  dispatcher?: Dispatcher;
  cwd?: string;
}

export type TestCtx = Ctx & {
  stdout: Capture;
  stderr: Capture;
  mockAgent: MockAgent;
  memory: (ProfileStore & { data: StoreData }) | undefined;
  sleeps: number[];
  asked: string[];
};

export const TEST_NOW = new Date('2026-01-01T00:00:00.000Z');

/**
 * A context for in-process command tests: captured streams, a fixed clock, predictable
 * random bytes, instant sleeps (recorded), an in-memory store and a MockAgent that
 * refuses real connections.
 */
export function createTestCtx(o: TestCtxOptions = {}): TestCtx {
  const stdout = new Capture(o.stdoutTTY ?? false);
  const stderr = new Capture(o.stderrTTY ?? false);
  const stdin: Readable & { isTTY?: boolean } =
    o.stdin instanceof Readable ? o.stdin : Readable.from(o.stdin === undefined ? [] : [Buffer.from(o.stdin)]);
  stdin.isTTY = o.stdinTTY ?? false;
  const io: Io = { stdin, stdout, stderr };
  const now = o.now ?? TEST_NOW;
  const memory = o.store ? undefined : memoryStore({ profiles: o.profiles ?? {}, activeProfile: o.activeProfile }, () => now);
  const store = o.store ?? memory!;
  const mockAgent = new MockAgent();
  mockAgent.disableNetConnect();
  let counter = 0;
  const sleeps: number[] = [];
  const ctx = {} as TestCtx;
  const prompter = scriptedPrompter(o.answers ?? [], () => canPrompt(ctx));
  Object.assign(ctx, {
    io,
    env: { ...(o.env ?? {}) },
    cwd: o.cwd ?? process.cwd(),
    clock: { now: () => new Date(now.getTime()) },
    random: (size: number) => {
      const out = new Uint8Array(size);
      for (let i = 0; i < size; i++) out[i] = o.randomByte ?? counter++ & 0xff;
      return out;
    },
    sleep: async (ms: number, signal?: AbortSignal) => {
      signal?.throwIfAborted();
      sleeps.push(ms);
    },
    color: new Chalk({ level: 0 }),
    errColor: new Chalk({ level: 0 }),
    prompter,
    asked: prompter.asked,
    ui: defaultUi(),
    store: async () => store,
    http: async () => o.dispatcher ?? mockAgent,
    signal: new AbortController().signal,
    platform: { os: 'linux', home: '/home/test' },
    close: async () => undefined,
    stdout,
    stderr,
    mockAgent,
    memory,
    sleeps,
  } satisfies Partial<TestCtx>);
  return ctx;
}

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (throws with the text when it is not JSON). */
  json: () => any;
}

/** Run the whole CLI in-process, as `chatid …argv` would. */
export async function runCli(argv: string[], ctx: TestCtx = createTestCtx()): Promise<CliResult> {
  const exitCode = await main(argv, ctx);
  const stdout = ctx.stdout.text;
  return {
    exitCode,
    stdout,
    stderr: ctx.stderr.text,
    json: () => {
      try {
        return JSON.parse(stdout);
      } catch {
        throw new Error(`stdout is not one JSON document:\n${stdout}\n--- stderr:\n${ctx.stderr.text}`);
      }
    },
  };
}
