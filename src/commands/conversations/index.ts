import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { registerList } from './list.js';

export function registerConversations(program: Command, ctx: Ctx): void {
  const conversations = program.command('conversations').description("A user's conversations with the agent (Chatbase/Bookbag v2)");
  for (const register of [registerList]) register(conversations, ctx);
}
