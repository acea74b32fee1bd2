import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { emit } from '../../cli/output.js';
import type { StoreData } from '../../store/types.js';
import { getProfile, profileNotFound, refuseProfileFlag, warnProfileEnvOverride } from './shared.js';

export interface UseOptions {
  name: string;
}

export interface UseResult {
  active: string;
  /** The profile that was active before, if any. */
  previous: string | null;
}

export function registerUse(parent: Command, ctx: Ctx, runF = runUse): void {
  parent
    .command('use')
    .description('Make a profile the active one')
    .argument('<name>', 'profile name')
    .addHelpText('after', '\nExamples:\n  $ chatid profile use prod\n  $ CHATID_PROFILE=staging chatid whoami   # one command only, without changing the active profile')
    .action(async (name: string) => {
      emit(ctx, await runF({ name }, ctx), renderUse);
    });
}

export async function runUse(o: UseOptions, ctx: Ctx): Promise<UseResult> {
  refuseProfileFlag(ctx, 'profile use', o.name, `chatid profile use ${ctx.ui.profile ?? ''}`);
  const store = await ctx.store();
  // Already active: nothing to write, so a read-only store (a config mounted in CI) is fine.
  const now = await store.read();
  if (!getProfile(now, o.name)) throw profileNotFound(o.name, now);
  if (now.activeProfile === o.name) {
    warnProfileEnvOverride(ctx, now);
    return { active: o.name, previous: o.name };
  }
  let written: StoreData | undefined;
  const result = await store.update((data) => {
    if (!getProfile(data, o.name)) throw profileNotFound(o.name, data);
    const previous = data.activeProfile ?? null;
    data.activeProfile = o.name;
    written = data;
    return { active: o.name, previous };
  });
  warnProfileEnvOverride(ctx, written!);
  return result;
}

export function renderUse(r: UseResult): string {
  return r.previous === r.active ? `Profile "${r.active}" was already active.` : `Active profile: ${r.active}`;
}
