import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Chalk } from 'chalk';
import type { Dispatcher } from 'undici';
import { configDir, openConfStore } from '../store/conf-store.js';
import type { ProfileStore } from '../store/types.js';
import { canPrompt, type Ctx, defaultUi, type Io } from './context.js';
import { inquirerPrompter, type Prompter } from './prompter.js';

/**
 * The production context: the one place besides bin.ts that reads `process`. Expensive
 * pieces (the store, the HTTP agent, stdin) are created on first use.
 */
export function createRealCtx(): Ctx {
  const controller = new AbortController();
  const io: Io = {
    // A getter: touching process.stdin sets up a stream, which costs start-up time.
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
  };
  let store: ProfileStore | undefined;
  let agent: Dispatcher | undefined;
  // Made on the first question: the inquirer prompter reads io.stdin when it is created.
  let inquirer: Prompter | undefined;
  const ask = (): Prompter => (inquirer ??= inquirerPrompter(io, () => canPrompt(ctx)));
  const ctx: Ctx = {
    io,
    env: process.env,
    cwd: process.cwd(),
    clock: { now: () => new Date() },
    random: (size) => new Uint8Array(randomBytes(size)),
    sleep: async (ms, signal) => {
      await sleep(ms, undefined, signal ? { signal } : undefined);
    },
    color: new Chalk({ level: 0 }),
    errColor: new Chalk({ level: 0 }),
    prompter: {
      input: (message, o) => ask().input(message, o),
      password: (message, o) => ask().password(message, o),
      select: (message, choices, o) => ask().select(message, choices, o),
      confirm: (message, o) => ask().confirm(message, o),
    },
    ui: defaultUi(),
    store: async () => {
      store ??= openConfStore({ dir: configDir(process.env, process.platform, homedir()), now: () => ctx.clock.now() });
      return store;
    },
    http: async () => {
      if (!agent) {
        const { Agent } = await import('undici');
        agent = new Agent({ keepAliveTimeout: 10_000, connections: 32, pipelining: 1 });
      }
      return agent;
    },
    signal: controller.signal,
    platform: { os: process.platform, home: homedir() },
    close: async () => {
      const a = agent;
      agent = undefined;
      await a?.close();
    },
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    // Second Ctrl-C: stop now.
    if (controller.signal.aborted) process.exit(130);
    // First: let commands that watch ctx.signal finish their step (checkpoint, report),
    // and stop anyway shortly after for those that do not.
    controller.abort(new Error(`received ${sig}`));
    process.exitCode = 130;
    setTimeout(() => process.exit(130), 2_000).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // `chatid … | head` closes the pipe early: that is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  return ctx;
}
