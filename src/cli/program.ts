import { Command, Option } from 'commander';
import { registerAttributes } from '../commands/attributes/index.js';
import { registerChat } from '../commands/chat/chat.js';
import { registerContacts } from '../commands/contacts/index.js';
import { registerConversations } from '../commands/conversations/index.js';
import { registerDecrypt } from '../commands/decrypt/decrypt.js';
import { registerEncrypt } from '../commands/encrypt/encrypt.js';
import { registerHash } from '../commands/hash/hash.js';
import { registerProfile } from '../commands/profile/index.js';
import { registerSandbox } from '../commands/sandbox/sandbox.js';
import { registerSecret } from '../commands/secret/index.js';
import { registerToken } from '../commands/token/index.js';
import { registerWhoami } from '../commands/whoami/whoami.js';
import { VERSION } from '../version.js';
import type { Ctx } from './context.js';

/** Options every command accepts (../shared/spec/cli.md §1). */
export interface GlobalFlags {
  profile?: string;
  json?: boolean;
  /** false with --no-color */
  color?: boolean;
  /** false with --no-input */
  input?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

type Register = (program: Command, ctx: Ctx) => void;

/** Every top-level command, by the name its register function gives it (program.test.ts checks). */
export const COMMANDS: ReadonlyArray<readonly [string, Register]> = [
  ['profile', registerProfile],
  ['secret', registerSecret],
  ['whoami', registerWhoami],
  ['token', registerToken],
  ['hash', registerHash],
  ['encrypt', registerEncrypt],
  ['decrypt', registerDecrypt],
  ['contacts', registerContacts],
  ['attributes', registerAttributes],
  ['chat', registerChat],
  ['conversations', registerConversations],
  ['sandbox', registerSandbox],
];

/**
 * The top-level command `argv` runs, when that is certain before parsing: the first operand,
 * after only root options that cannot show the root help. Otherwise undefined.
 */
export function commandIn(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--profile') {
      i++;
      continue;
    }
    // --help (root help lists every command), `--`, and short-flag clusters such as -qh.
    if (a === '--' || a === '-h' || a === '--help' || /^-[^-]./.test(a)) return undefined;
    if (a.startsWith('-')) continue;
    return COMMANDS.some(([name]) => name === a) ? a : undefined;
  }
  return undefined;
}

/**
 * The command tree. Registering is cheap: each command's heavy work (jose, undici, conf,
 * csv-parse, prompts) loads with import() when it runs. Given `argv`, only the command it
 * runs is registered when that is certain (commander's cost grows with every option
 * defined, and none of the others could match); root help, `help`, unknown commands and
 * suggestions get the whole tree.
 */
export function buildProgram(ctx: Ctx, argv?: readonly string[]): Command {
  const program = new Command('chatid')
    .description('Mint, verify and debug chat-widget identity tokens and hashes; sync contacts; run a local vendor sandbox.')
    .version(ctx.ui.json ? JSON.stringify({ version: VERSION }) : VERSION, '--version', 'print the version')
    .helpOption('-h, --help', 'show help')
    // main turns `help token sign` into `token sign --help` (helpArgs), so it takes a path.
    .helpCommand('help [command...]', 'show help for a command or subcommand')
    .option('--profile <name>', 'profile to use (default: CHATID_PROFILE, then the active profile)')
    .option('--json', 'print one JSON document on stdout')
    .option('--no-color', 'no colors (also NO_COLOR)')
    .option('--no-input', 'never prompt; fail when input is missing (also CI=true)')
    .addOption(new Option('-q, --quiet', 'print only results and errors'))
    .option('--verbose', 'explain what is happening, on stderr')
    .exitOverride()
    .showSuggestionAfterError(true)
    // `chatid hash --help` lists --json, -q, --profile… too: they work on every command.
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
      // Errors are rendered by main (JSON or human), not by commander.
      outputError: () => undefined,
    })
    .addHelpText('after', `
Examples:
  $ chatid profile add prod                    # interactive set-up
  $ chatid token sign --user-id user_123       # a JWT for the active profile
  $ chatid hash user_123 --expect 3f1c…        # why does the widget reject my hash?
  $ chatid contacts sync customers.csv --sandbox

Environment: CHATID_PROFILE, CHATID_CONFIG_DIR, CHATID_PROVIDER, CHATID_AGENT_ID,
CHATID_BASE_URL, CHATID_API_KEY, CHATID_SECRET, NO_COLOR, FORCE_COLOR, CI.
Exit codes: 0 ok, 1 failure, 2 usage, 3 verification failed, 4 credentials, 5 partial, 130 cancelled.`);

  const only = argv === undefined ? undefined : commandIn(argv);
  for (const [name, register] of COMMANDS) {
    if (only === undefined || name === only) register(program, ctx);
  }
  return program;
}
