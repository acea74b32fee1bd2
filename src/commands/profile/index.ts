import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { registerAdd } from './add.js';
import { registerList } from './list.js';
import { registerRemove } from './remove.js';
import { registerShow } from './show.js';
import { registerUse } from './use.js';

/** `chatid profile add|list|use|show|remove` (../shared/spec/cli.md §3–§4). */
export function registerProfile(program: Command, ctx: Ctx): void {
  const profile = program.command('profile').description('Manage profiles: a vendor, agent, base URL, API key and identity secret under one name');
  for (const register of [registerAdd, registerList, registerUse, registerShow, registerRemove]) register(profile, ctx);
}
