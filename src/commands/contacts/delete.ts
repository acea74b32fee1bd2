import type { Command } from 'commander';
import { canPrompt, type Ctx } from '../../cli/context.js';
import { CancelledError, UsageError } from '../../cli/errors.js';
import { emit } from '../../cli/output.js';
import { addVendorOptions, type VendorFlags } from '../../vendors/flags.js';
import type { Contact } from '../../vendors/types.js';

export interface DeleteOptions extends VendorFlags {
  externalId: string;
  yes: boolean;
}

export interface DeleteResult {
  deleted: true;
  externalId: string;
  /** The deleted record, when the vendor returns it (200); null after a 204. */
  contact: Contact | null;
}

export function registerDelete(parent: Command, ctx: Ctx, runF = runDelete): void {
  const cmd = parent
    .command('delete')
    .alias('rm')
    .description('Delete one contact by its external id (asks first on a terminal)')
    .argument('<externalId>', "the contact's external_id")
    .option('-y, --yes', 'do not ask for confirmation (required without a terminal)', false);
  addVendorOptions(cmd).addHelpText('after', '\nExamples:\n  $ chatid contacts delete user_123\n  $ chatid contacts delete user_123 --yes --json');
  cmd.action(async (externalId: string, flags: VendorFlags & { yes: boolean }) => {
    emit(ctx, await runF({ ...flags, externalId }, ctx), renderDelete);
  });
}

export async function runDelete(opts: DeleteOptions, ctx: Ctx): Promise<DeleteResult> {
  const { openAgentApi, parseNetworkFlags, resolveVendorSettings } = await import('../../vendors/factory.js');
  const settings = await resolveVendorSettings(ctx, opts);
  const client = await openAgentApi(ctx, settings, 'contacts', parseNetworkFlags(opts));
  if (!opts.yes) {
    if (!canPrompt(ctx)) {
      throw new UsageError('ERR_CONFIRMATION_REQUIRED', `Deleting contact "${opts.externalId}" needs confirmation, and prompting is off.`, { hint: 'Pass --yes to delete without asking.' });
    }
    const ok = await ctx.prompter.confirm(`Delete contact "${opts.externalId}" from ${settings.provider?.value ?? 'the vendor'} agent ${client.agentId ?? '?'}? This cannot be undone`, { default: false });
    if (!ok) throw new CancelledError('Nothing deleted.');
  }
  const { notFound } = await import('./get.js');
  try {
    const contact = await client.deleteContact(opts.externalId);
    return { deleted: true, externalId: opts.externalId, contact: contact ?? null };
  } catch (err) {
    throw notFound(err, opts.externalId, client.agentId);
  }
}

export function renderDelete(r: DeleteResult): string {
  return `Deleted contact ${r.externalId}.`;
}
