import { type Command, CommanderError } from 'commander';
import { colorLevel, type Ctx } from './context.js';
import { ExitCode, ExitWithCode, toCliError, UsageError } from './errors.js';
import { renderError } from './output.js';
import { buildProgram, type GlobalFlags } from './program.js';
import { refuseRepeatedOptions } from './repeated-options.js';

/**
 * Run chatid with `argv` (without node and script) against `ctx`; returns the exit code.
 * Never calls process.exit: bin.ts sets the status, tests read the return value.
 */
export async function main(argv: string[], ctx: Ctx): Promise<number> {
  // Output flags are needed even when parsing fails (an unknown flag under --json must
  // still answer in JSON), so read them from argv before commander does.
  applyGlobals(ctx, scanGlobals(argv));
  const program = buildProgram(ctx, argv);
  program.hook('preAction', (_root, action) => {
    applyGlobals(ctx, action.optsWithGlobals<OutputFlags>());
    refuseRepeatedOptions(argv, action);
    // `--profile "$P"` with P unset would otherwise fall through to CHATID_PROFILE or the
    // active profile (prod, perhaps): an explicit flag with no value is a usage error.
    if (ctx.ui.profile !== undefined && ctx.ui.profile.trim() === '') {
      throw new UsageError('ERR_PROFILE_NAME_INVALID', '--profile was given an empty name.', {
        hint: 'Give a profile name (`chatid profile list` shows them), or leave --profile out to use CHATID_PROFILE or the active profile.',
      });
    }
    // `--profile --json hash u1`: commander takes the next word as the value, whatever it is.
    // No profile name starts with "-" (checkProfileName), so the value was meant as a flag.
    if (ctx.ui.profile?.startsWith('-')) {
      const taken = ctx.ui.profile;
      // Answer in the mode the command line asked for: that --json was swallowed too.
      applyGlobals(ctx, { ...scanGlobals(argv), profile: taken });
      throw new UsageError('ERR_PROFILE_NAME_INVALID', `--profile took "${taken}" as the profile name; profile names do not start with "-".`, {
        hint: 'Put the profile name right after --profile (`--profile prod --json`), or leave --profile out to use CHATID_PROFILE or the active profile.',
      });
    }
  });
  const args = helpArgs(program, argv);
  try {
    await program.parseAsync(args, { from: 'user' });
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof ExitWithCode) return err.exitCode;
    if (err instanceof CommanderError) return commanderExit(err, ctx, commandPath(program, args));
    return renderError(toCliError(err), ctx);
  } finally {
    await ctx.close().catch(() => undefined);
  }
}

function commanderExit(err: CommanderError, ctx: Ctx, path: string): number {
  // --help and --version print and exit 0; a group called without a verb prints help.
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return ExitCode.ok;
  if (err.code === 'commander.help') {
    if (err.exitCode === 0) return ExitCode.ok;
    // A group called without a verb: commander printed its help on stderr; --json still gets
    // its one document.
    if (ctx.ui.json) return renderError(new UsageError('ERR_USAGE_COMMAND_REQUIRED', `\`${path}\` needs a command.`, { hint: `Run \`${path} --help\` for the list of commands.` }), ctx);
    return ExitCode.usage;
  }
  // commander puts its suggestion on a second line: "(Did you mean token?)".
  const [first = '', ...rest] = err.message.replace(/^error:\s*/, '').split('\n');
  const suggestion = /\(Did you mean (.+)\?\)/.exec(rest.join(' '))?.[1];
  const message = suggestion === undefined ? first : `${first} (did you mean ${suggestion}?)`;
  const code = `ERR_USAGE_${err.code.replace(/^commander\./, '').replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`;
  const hint = err.code === 'commander.unknownCommand' ? `Run \`${path} --help\` for the list of commands.` : `Run \`${path} --help\` for its usage.`;
  return renderError(new UsageError(code, message, { hint }), ctx);
}

/**
 * argv with `help <command…>` turned into `<command…> --help`, so that `chatid help token sign`
 * shows the help of `token sign` (commander's own `help` command took one name and showed
 * `token`'s), and a name that does not exist (`chatid help tokn`, `chatid token help sgn`) is
 * answered as `chatid tokn` is: the unknown name, its suggestion, exit 2. Commander printed
 * the parent's help on stderr and exited 2 without a word of what was wrong (under --json:
 * "needs a command"). `help` alone, or followed by options only, is left to commander.
 */
export function helpArgs(program: Command, argv: string[]): string[] {
  let cmd = program;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '--profile') i++;
    if (a.startsWith('-')) continue;
    const sub = findSub(cmd, a);
    if (sub !== undefined) {
      cmd = sub;
      continue;
    }
    if (a !== 'help' || cmd.commands.length === 0) break;
    const rest = argv.slice(i + 1);
    const names = rest.filter((w) => !w.startsWith('-'));
    if (names.length === 0 || names[0] === 'help') return argv;
    // Every name known: their help. Otherwise drop `help`, and commander names the unknown one.
    let target: Command | undefined = cmd;
    for (const n of names) target = target === undefined ? undefined : findSub(target, n);
    return [...argv.slice(0, i), ...rest, ...(target === undefined ? [] : ['--help'])];
  }
  return argv;
}

function findSub(cmd: Command, name: string): Command | undefined {
  return cmd.commands.find((c) => c.name() === name || c.aliases().includes(name));
}

/** The words of argv that name a command ("chatid token sign"), for hints. */
function commandPath(program: Command, argv: string[]): string {
  const words = ['chatid'];
  let cmd = program;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '--profile') i++; // the global option that takes a value: skip the value too
    if (a.startsWith('-')) continue;
    const sub = cmd.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (sub === undefined) break;
    words.push(sub.name());
    cmd = sub;
  }
  return words.join(' ');
}

/** The global flags, plus `--batch` (token sign, hash, encrypt), which makes --json output NDJSON. */
type OutputFlags = GlobalFlags & { batch?: unknown };

function scanGlobals(argv: string[]): OutputFlags {
  const g: OutputFlags = {};
  for (const a of argv) {
    if (a === '--') break;
    if (a === '--json') g.json = true;
    else if (a === '--batch' || a.startsWith('--batch=')) g.batch = true;
    else if (a === '-q' || a === '--quiet') g.quiet = true;
    else if (a === '--verbose') g.verbose = true;
    else if (a === '--no-color') g.color = false;
    else if (a === '--no-input') g.input = false;
  }
  return g;
}

function applyGlobals(ctx: Ctx, g: OutputFlags): void {
  ctx.ui.json = Boolean(g.json);
  ctx.ui.ndjson = ctx.ui.json && g.batch !== undefined && g.batch !== false;
  ctx.ui.quiet = Boolean(g.quiet);
  ctx.ui.verbose = Boolean(g.verbose);
  ctx.ui.noInput = g.input === false;
  ctx.ui.profile = g.profile;
  const noColorFlag = g.color === false;
  ctx.color.level = ctx.ui.json ? 0 : colorLevel({ isTTY: ctx.io.stdout.isTTY, noColorFlag, env: ctx.env });
  ctx.errColor.level = colorLevel({ isTTY: ctx.io.stderr.isTTY, noColorFlag, env: ctx.env });
}
