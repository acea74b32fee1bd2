import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { emit } from '../../cli/output.js';
import { profileView, type ProfileView, refuseProfileFlag, warnProfileEnvOverride } from './shared.js';

export type ListResult = ProfileView[];

export function registerList(parent: Command, ctx: Ctx, runF = runList): void {
  parent
    .command('list')
    .alias('ls')
    .description('List profiles; the active one is marked with *')
    .addHelpText('after', '\nExamples:\n  $ chatid profile list\n  $ chatid profile list --json | jq -r \'.[] | select(.active) | .name\'')
    .action(async () => {
      emit(ctx, await runF(ctx), renderList);
    });
}

/** Every profile, sorted by name, secrets masked. */
export async function runList(ctx: Ctx): Promise<ListResult> {
  refuseProfileFlag(ctx, 'profile list', undefined, `chatid profile show ${ctx.ui.profile ?? ''}`);
  const data = await (await ctx.store()).read();
  warnProfileEnvOverride(ctx, data);
  return Object.keys(data.profiles)
    .sort()
    .map((name) => profileView(name, data.profiles[name]!, data.activeProfile === name, false));
}

export function renderList(r: ListResult): string {
  if (r.length === 0) return 'No profiles yet. Add one with `chatid profile add <name>`.';
  const rows = r.map((v) => [
    `${v.active ? '*' : ' '} ${v.name}`,
    v.provider,
    v.agentId ? `agent ${v.agentId}` : '-',
    v.baseUrl ?? '-',
    v.secret ? `secret ${v.secret.fingerprint}` : 'no secret',
  ]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}
