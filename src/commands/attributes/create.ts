import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { UsageError } from '../../cli/errors.js';
import { emit } from '../../cli/output.js';
import { addVendorOptions, type VendorFlags } from '../../vendors/flags.js';
import type { AttributeType, CustomAttribute } from '../../vendors/types.js';

export interface CreateOptions extends VendorFlags {
  name: string;
  type: string;
  label?: string;
  description?: string;
}

export interface CreateResult {
  attribute: CustomAttribute;
}

const TYPES: readonly AttributeType[] = ['text', 'number', 'boolean', 'date'];

export function registerCreate(parent: Command, ctx: Ctx, runF = runCreate): void {
  const cmd = parent
    .command('create')
    .description('Create a custom attribute (name and type cannot be changed later; attributes are never deleted, only archived)')
    .requiredOption('--name <name>', 'a letter, then letters, digits, _ or -')
    .requiredOption('--type <type>', 'text, number, boolean or date')
    .option('--label <label>', 'display label (default: the name)')
    .option('--description <text>', 'what the attribute means');
  addVendorOptions(cmd).addHelpText('after', '\nExamples:\n  $ chatid attributes create --name plan --type text --label "Plan"\n  $ chatid attributes create --name seats --type number --json');
  cmd.action(async (flags: CreateOptions) => {
    emit(ctx, await runF(flags, ctx), renderCreate);
  });
}

export async function runCreate(opts: CreateOptions, ctx: Ctx): Promise<CreateResult> {
  if (!/^[a-zA-Z][a-zA-Z0-9_-]*$/.test(opts.name)) {
    throw new UsageError('ERR_ATTRIBUTE_NAME', `Attribute name "${opts.name}" is not allowed.`, { hint: 'Start with a letter, then use letters, digits, _ or - (e.g. plan, signup_date).' });
  }
  if (!(TYPES as readonly string[]).includes(opts.type)) {
    throw new UsageError('ERR_ATTRIBUTE_TYPE', `Attribute type "${opts.type}" is not one of ${TYPES.join(', ')}.`, { hint: 'Pass --type text, number, boolean or date.' });
  }
  if (opts.label !== undefined && opts.label.trim() === '') {
    throw new UsageError('ERR_ATTRIBUTE_LABEL', `--label is ${opts.label === '' ? 'empty' : 'blank'}: the attribute would have no visible name.`, { hint: `Drop --label to use the name (${opts.name}), or pass a label such as --label "Plan".` });
  }
  const attr: CustomAttribute = { name: opts.name, type: opts.type as AttributeType, label: opts.label ?? opts.name };
  if (opts.description !== undefined) attr.description = opts.description;
  const { openAgentApi, parseNetworkFlags, resolveVendorSettings } = await import('../../vendors/factory.js');
  const client = await openAgentApi(ctx, await resolveVendorSettings(ctx, opts), 'attributes', parseNetworkFlags(opts));
  return { attribute: await client.createAttribute(attr) };
}

export function renderCreate(r: CreateResult): string {
  return `Created attribute ${r.attribute.name} (${r.attribute.type}).`;
}
