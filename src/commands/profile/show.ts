import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { emit } from '../../cli/output.js';
import { relativeTime } from '../../core/relative-time.js';
import { profileView, type ProfileView, refuseProfileFlag, renderProfileView, targetProfile } from './shared.js';

export interface ShowOptions {
  /** Default: --profile, CHATID_PROFILE, then the active profile. */
  name?: string;
  reveal?: boolean;
}

export type ShowResult = ProfileView;

export function registerShow(parent: Command, ctx: Ctx, runF = runShow): void {
  parent
    .command('show')
    .description('Show a profile with its API key and secret masked (fingerprints to compare them)')
    .argument('[name]', 'profile name (default: the active profile)')
    .option('--reveal', 'print the API key and secrets in clear')
    .addHelpText('after', '\nExamples:\n  $ chatid profile show\n  $ chatid profile show prod --json\n  $ chatid profile show prod --reveal   # prints the secret: mind who is watching')
    .action(async (name: string | undefined, flags: { reveal?: boolean }) => {
      emit(ctx, await runF({ name, reveal: flags.reveal }, ctx), renderShow);
    });
}

export async function runShow(o: ShowOptions, ctx: Ctx): Promise<ShowResult> {
  if (o.name !== undefined) refuseProfileFlag(ctx, 'profile show', o.name, `chatid profile show ${ctx.ui.profile ?? ''}`);
  const data = await (await ctx.store()).read();
  const { name, profile } = targetProfile(ctx, data, o.name);
  return profileView(name, profile, data.activeProfile === name, Boolean(o.reveal));
}

export function renderShow(r: ShowResult, ctx: Ctx): string {
  return renderProfileView(r, ctx.clock.now(), relativeTime);
}
