import type { Command } from 'commander';
import { canPrompt, type Ctx, promptsOffBecause } from '../../cli/context.js';
import { CancelledError, UsageError } from '../../cli/errors.js';
import { emit } from '../../cli/output.js';
import { getProfile, profileNotFound, refuseProfileFlag } from './shared.js';

export interface RemoveOptions {
  name: string;
  /** Do not ask for confirmation. */
  yes?: boolean;
}

export interface RemoveResult {
  removed: string;
  /** It was the active profile; now none is active. */
  wasActive: boolean;
}

export function registerRemove(parent: Command, ctx: Ctx, runF = runRemove): void {
  parent
    .command('remove')
    .alias('rm')
    .description('Remove a profile with its stored API key and secrets (asks first at a terminal)')
    .argument('<name>', 'profile name')
    .option('-y, --yes', 'do not ask for confirmation (needed with --no-input, CI=true or without a terminal)')
    .addHelpText('after', '\nExamples:\n  $ chatid profile remove old-staging\n  $ chatid profile remove old-staging --yes --json')
    .action(async (name: string, flags: { yes?: boolean }) => {
      emit(ctx, await runF({ name, yes: flags.yes }, ctx), renderRemove);
    });
}

export async function runRemove(o: RemoveOptions, ctx: Ctx): Promise<RemoveResult> {
  refuseProfileFlag(ctx, 'profile remove', o.name, '');
  const store = await ctx.store();
  const data = await store.read();
  if (!getProfile(data, o.name)) throw profileNotFound(o.name, data);
  if (!o.yes) {
    if (!canPrompt(ctx)) {
      throw new UsageError('ERR_CONFIRMATION_REQUIRED', `Removing profile "${o.name}" needs confirmation, and chatid does not ask here because ${promptsOffBecause(ctx) ?? 'prompting is off'}.`, {
        hint: `Pass --yes to remove it without asking: \`chatid profile remove ${o.name} --yes\`.`,
      });
    }
    const ok = await ctx.prompter.confirm(`Remove profile "${o.name}" and its stored API key and secrets?`, { default: false });
    if (!ok) throw new CancelledError(); // prints "Cancelled.", exit 130; nothing removed
  }
  return store.update((d) => {
    if (!getProfile(d, o.name)) throw profileNotFound(o.name, d);
    delete d.profiles[o.name];
    const wasActive = d.activeProfile === o.name;
    if (wasActive) delete d.activeProfile;
    return { removed: o.name, wasActive };
  });
}

export function renderRemove(r: RemoveResult): string {
  return r.wasActive
    ? `Removed profile "${r.removed}". No profile is active now; choose one with \`chatid profile use <name>\`.`
    : `Removed profile "${r.removed}".`;
}
