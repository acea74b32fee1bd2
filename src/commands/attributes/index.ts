import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { registerCreate } from './create.js';
import { registerList } from './list.js';

export function registerAttributes(program: Command, ctx: Ctx): void {
  const attributes = program.command('attributes').description("The vendor's custom-attribute schema (what contacts sync coerces to)");
  for (const register of [registerList, registerCreate]) register(attributes, ctx);
}
