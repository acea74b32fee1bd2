import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli } from '../../test/helpers/test-ctx.js';
import { buildProgram, COMMANDS, commandIn } from './program.js';

/** Help text of every command and subcommand, by path. */
function helpTree(argv?: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const program = buildProgram(createTestCtx(), argv);
  const walk = (cmd: typeof program, path: string): void => {
    out.set(path, cmd.helpInformation());
    for (const sub of cmd.commands) walk(sub, `${path} ${sub.name()}`.trim());
  };
  walk(program, '');
  return out;
}

describe('COMMANDS', () => {
  it('names each top-level command as its register function does, once each', () => {
    const all = buildProgram(createTestCtx()).commands.map((c) => c.name());
    // Placeholders (a command still being built) register nothing; the rest are listed in order.
    expect(all).toEqual(COMMANDS.map(([n]) => n).filter((n) => all.includes(n)));
    for (const [name] of COMMANDS) {
      expect(buildProgram(createTestCtx(), [name]).commands.map((c) => c.name())).toEqual(all.includes(name) ? [name] : []);
    }
  });

  it('a command registered alone has exactly the tree it has among all commands', () => {
    const full = helpTree();
    for (const [name] of COMMANDS) {
      const alone = helpTree([name, '--json']);
      for (const [path, text] of alone) {
        if (path === '') continue;
        expect(text, path).toBe(full.get(path));
      }
      expect([...alone.keys()].filter((p) => p !== '').length).toBe([...full.keys()].filter((p) => p === name || p.startsWith(`${name} `)).length);
    }
  });
});

describe('commandIn', () => {
  it('finds the command after root options, skipping the --profile value', () => {
    expect(commandIn(['token', 'sign'])).toBe('token');
    expect(commandIn(['--json', '--profile', 'token', 'hash', 'x'])).toBe('hash');
    expect(commandIn(['--profile=dev', '-q', '--no-color', 'contacts', 'sync', 'a.csv'])).toBe('contacts');
    expect(commandIn(['token', '--help'])).toBe('token');
  });

  it('gives up (whole tree) for root help, help, unknown commands, -- and short clusters', () => {
    expect(commandIn([])).toBeUndefined();
    expect(commandIn(['--help', 'token'])).toBeUndefined();
    expect(commandIn(['-h'])).toBeUndefined();
    expect(commandIn(['help', 'token'])).toBeUndefined();
    expect(commandIn(['tokn', 'sign'])).toBeUndefined();
    expect(commandIn(['--', 'token'])).toBeUndefined();
    expect(commandIn(['-qh', 'token'])).toBeUndefined();
    expect(commandIn(['--version'])).toBeUndefined();
  });
});

describe('main with a partial tree', () => {
  it('still suggests a near command name and lists every command in root help', async () => {
    const typo = await runCli(['tokn']);
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toContain('token');
    const help = await runCli(['--help', 'token']);
    expect(help.exitCode).toBe(0);
    for (const c of buildProgram(createTestCtx()).commands) expect(help.stdout).toMatch(new RegExp(`\\n  ${c.name()}\\b`));
  });
});

describe('command help', () => {
  it('lists the global options on every command, as the README says `<command> --help` shows every flag', () => {
    for (const [path, text] of helpTree()) {
      if (path === '') continue;
      if (text.includes('Commands:')) expect(text, path).toContain('help [command...]');
      for (const flag of ['--json', '--profile <name>', '--no-color', '--no-input', '-q, --quiet', '--verbose']) expect(text, `${path}: ${flag}`).toContain(`  ${flag} `);
    }
  });
});
