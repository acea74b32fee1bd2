import type { Command, Option } from 'commander';
import { UsageError } from './errors.js';

/**
 * Refuse an option that takes one value given twice with different values, and a flag given
 * with its `--no-` form: commander keeps the last one without a word, so `token sign --user-id
 * a … --user-id b` signed a token for b. Repeatable options (their own parser, such as
 * --claim) and one value given twice are fine. `action` is the command that runs; its
 * ancestors' options (--profile) count too. Values are not repeated in the message (--secret).
 * @example refuseRepeatedOptions(['sign', '--exp', '1h', '--exp', 'none'], sign) // throws ERR_USAGE_OPTION_TWICE
 */
export function refuseRepeatedOptions(argv: readonly string[], action: Command): void {
  const byFlag = new Map<string, Option>();
  for (let c: Command | null = action; c; c = c.parent) {
    for (const o of c.options) {
      // The nearest command's option wins, as in commander.
      for (const f of [o.long, o.short]) if (f && !byFlag.has(f)) byFlag.set(f, o);
    }
  }
  const values = new Map<Option, string | undefined>();
  const switches = new Map<string, Option>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (!a.startsWith('-') || a === '-') continue;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const o = byFlag.get(eq > 0 ? a.slice(0, eq) : a);
    if (!o) continue;
    if (!o.required && !o.optional) {
      const other = switches.get(o.attributeName());
      if (other && other.negate !== o.negate) {
        throw new UsageError('ERR_USAGE_OPTION_TWICE', `${other.long} and ${o.long} contradict each other.`, { hint: `Keep one of them; chatid would use only the last one.` });
      }
      switches.set(o.attributeName(), o);
      continue;
    }
    let value: string | undefined;
    if (eq > 0) value = a.slice(eq + 1);
    else if (o.required || (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('-'))) value = argv[++i];
    if (o.parseArg || o.variadic) continue;
    if (values.has(o) && values.get(o) !== value) {
      throw new UsageError('ERR_USAGE_OPTION_TWICE', `${o.long ?? o.short} is given twice, with different values.`, { hint: `Give ${o.long ?? o.short} once; chatid would use only the last one.` });
    }
    values.set(o, value);
  }
}
