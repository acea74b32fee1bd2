import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { registerDelete } from './delete.js';
import { registerGet } from './get.js';
import { registerList } from './list.js';
import { registerSync } from './sync.js';

export function registerContacts(program: Command, ctx: Ctx): void {
  const contacts = program.command('contacts').description("Sync, list, read and delete the vendor's contacts");
  for (const register of [registerSync, registerList, registerGet, registerDelete]) register(contacts, ctx);
}
