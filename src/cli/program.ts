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

/**
 * The command tree. Registering is cheap: each command's heavy work (jose, undici, conf,
 * csv-parse, prompts) loads with import() when it runs.
 */
export function buildProgram(ctx: Ctx): Command {
  const program = new Command('chatid')
    .description('Mint, verify and debug chat-widget identity tokens and hashes; sync contacts; run a local vendor sandbox.')
    .version(VERSION, '--version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--profile <name>', 'profile to use (default: CHATID_PROFILE, then the active profile)')
    .option('--json', 'print one JSON document on stdout')
    .option('--no-color', 'no colors (also NO_COLOR)')
    .option('--no-input', 'never prompt; fail when input is missing (also CI=true)')
    .addOption(new Option('-q, --quiet', 'print only results and errors'))
    .option('--verbose', 'explain what is happening, on stderr')
    .exitOverride()
    .showSuggestionAfterError(true)
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

  for (const register of [
    registerProfile,
    registerSecret,
    registerWhoami,
    registerToken,
    registerHash,
    registerEncrypt,
    registerDecrypt,
    registerContacts,
    registerAttributes,
    registerChat,
    registerConversations,
    registerSandbox,
  ]) {
    register(program, ctx);
  }
  return program;
}
