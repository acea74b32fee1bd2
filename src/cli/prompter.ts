import type { Io } from './context.js';
import { CancelledError, UsageError } from './errors.js';

export interface Choice<T extends string> {
  value: T;
  name?: string;
  description?: string;
}

/** Interactive questions; every method fails with exit 2 when prompting is off. */
export interface Prompter {
  input(message: string, o?: { default?: string; validate?: (v: string) => true | string }): Promise<string>;
  password(message: string, o?: { validate?: (v: string) => true | string }): Promise<string>;
  select<T extends string>(message: string, choices: readonly Choice<T>[], o?: { default?: T }): Promise<T>;
  confirm(message: string, o?: { default?: boolean }): Promise<boolean>;
}

function inputRequired(message: string): UsageError {
  return new UsageError('ERR_INPUT_REQUIRED', `${message.replace(/[:?]\s*$/, '')}: input is required but prompting is off.`, {
    hint: 'Pass the value with a flag, stdin or an environment variable (see --help); prompts need a terminal without --no-input and CI=true.',
  });
}

function asCancelled(err: unknown): never {
  const name = (err as { name?: string } | null)?.name;
  if (name === 'ExitPromptError' || name === 'AbortPromptError' || name === 'CancelPromptError') throw new CancelledError('Cancelled', { cause: err });
  throw err;
}

const same = (t: string): string => t;

/**
 * The inquirer theme without colors. Inquirer colors by NO_COLOR/FORCE_COLOR alone, so
 * `--no-color` (and FORCE_COLOR=0 where its library would still color) needs this; the
 * shapes are inquirer's own defaults without the color.
 */
export const PLAIN_PROMPT_THEME = {
  prefix: { idle: '?', done: '\u2714' },
  style: {
    answer: same,
    message: same,
    error: (t: string) => `> ${t}`,
    defaultAnswer: (t: string) => `(${t})`,
    help: same,
    highlight: same,
    key: (t: string) => `<${t}>`,
    disabled: (t: string) => `- ${t}`,
    description: same,
    keysHelpTip: (keys: [string, string][]) => keys.map(([key, action]) => `${key} ${action}`).join(' \u2022 '),
  },
};

/**
 * Prompts through @inquirer/prompts on stdin/stderr (stdout stays clean for results).
 * The library is loaded only when a question is actually asked. `colored` says whether
 * stderr gets colors (ctx.errColor's level, set from --no-color, NO_COLOR, FORCE_COLOR).
 */
export function inquirerPrompter(io: Io, canPrompt: () => boolean, colored: () => boolean = () => true): Prompter {
  const streams = { input: io.stdin, output: io.stderr } as const;
  const theme = (): { theme?: typeof PLAIN_PROMPT_THEME } => (colored() ? {} : { theme: PLAIN_PROMPT_THEME });
  return {
    async input(message, o = {}) {
      if (!canPrompt()) throw inputRequired(message);
      const { input } = await import('@inquirer/prompts');
      return input({ message, default: o.default, validate: o.validate, ...theme() }, streams).catch(asCancelled);
    },
    async password(message, o = {}) {
      if (!canPrompt()) throw inputRequired(message);
      const { password } = await import('@inquirer/prompts');
      return password({ message, mask: true, validate: o.validate, ...theme() }, streams).catch(asCancelled);
    },
    async select(message, choices, o = {}) {
      if (!canPrompt()) throw inputRequired(message);
      const { select } = await import('@inquirer/prompts');
      return select({ message, choices: [...choices], default: o.default, ...theme() }, streams).catch(asCancelled);
    },
    async confirm(message, o = {}) {
      if (!canPrompt()) throw inputRequired(message);
      const { confirm } = await import('@inquirer/prompts');
      return confirm({ message, default: o.default, ...theme() }, streams).catch(asCancelled);
    },
  };
}

/**
 * A scripted prompter for tests: answers are taken in order; a question with no answer
 * left fails the test loudly. An answer of `CancelledError` simulates Ctrl-C.
 */
export function scriptedPrompter(answers: Array<string | boolean | CancelledError>, canPrompt: () => boolean = () => true): Prompter & { asked: string[] } {
  const asked: string[] = [];
  const next = (message: string): string | boolean => {
    if (!canPrompt()) throw inputRequired(message);
    asked.push(message);
    if (answers.length === 0) throw new Error(`Unexpected prompt: ${message}`);
    const a = answers.shift()!;
    if (a instanceof CancelledError) throw a;
    return a;
  };
  return {
    asked,
    async input(message, o = {}) {
      const v = String(next(message));
      const ok = o.validate?.(v) ?? true;
      if (ok !== true) throw new Error(`Scripted answer ${JSON.stringify(v)} to "${message}" failed validation: ${ok}`);
      return v === '' && o.default !== undefined ? o.default : v;
    },
    async password(message, o = {}) {
      const v = String(next(message));
      const ok = o.validate?.(v) ?? true;
      if (ok !== true) throw new Error(`Scripted answer to "${message}" failed validation: ${ok}`);
      return v;
    },
    async select(message, choices) {
      const v = String(next(message));
      const hit = choices.find((c) => c.value === v);
      if (!hit) throw new Error(`Scripted answer ${v} is not a choice of "${message}"`);
      return hit.value;
    },
    async confirm(message) {
      return Boolean(next(message));
    },
  };
}
