import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { emit } from '../../cli/output.js';
import { addVendorOptions, type VendorFlags } from '../../vendors/flags.js';
import type { CustomAttribute } from '../../vendors/types.js';

export type ListOptions = VendorFlags;

export interface ListResult {
  attributes: CustomAttribute[];
}

export function registerList(parent: Command, ctx: Ctx, runF = runList): void {
  const cmd = parent.command('list').alias('ls').description("List the agent's custom attributes (name, type, label, archived)");
  addVendorOptions(cmd).addHelpText('after', "\nExamples:\n  $ chatid attributes list\n  $ chatid attributes list --json | jq -r '.attributes[] | select(.archived | not) | .name'");
  cmd.action(async (flags: VendorFlags) => {
    emit(ctx, await runF(flags, ctx), renderList);
  });
}

export async function runList(opts: ListOptions, ctx: Ctx): Promise<ListResult> {
  const { openAgentApi, parseNetworkFlags, resolveVendorSettings } = await import('../../vendors/factory.js');
  const client = await openAgentApi(ctx, await resolveVendorSettings(ctx, opts), 'attributes', parseNetworkFlags(opts));
  return { attributes: await client.listAttributes() };
}

export function renderList(r: ListResult): string {
  if (r.attributes.length === 0) return 'No custom attributes. Add one with `chatid attributes create --name plan --type text`.';
  const rows = [['NAME', 'TYPE', 'LABEL', ''], ...r.attributes.map((a) => [a.name, a.type, a.label ?? a.name, a.archived ? 'archived' : ''])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}
