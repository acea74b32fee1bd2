import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { registerList } from './list.js';
import { registerRotate } from './rotate.js';
import { registerSet } from './set.js';
import { registerShow } from './show.js';

/** `chatid secret set|rotate|show|list` (../shared/spec/cli.md §3–§4). */
export function registerSecret(program: Command, ctx: Ctx): void {
  const secret = program.command('secret').description('Store, rotate and inspect identity secrets (masked, with fingerprints)');
  for (const register of [registerSet, registerRotate, registerShow, registerList]) register(secret, ctx);
}
