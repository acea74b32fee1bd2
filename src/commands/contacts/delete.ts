import type { Command } from 'commander';
import { canPrompt, type Ctx } from '../../cli/context.js';
import { CancelledError, UsageError } from '../../cli/errors.js';
import { emit } from '../../cli/output.js';
import { addVendorOptions, type VendorFlags } from '../../vendors/flags.js';
import type { Contact } from '../../vendors/types.js';

export interface DeleteOptions extends VendorFlags {
  /** The id; `-`, or undefined with stdin a pipe, reads it from stdin (cli.md §4). */
  externalId: string | undefined;
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
    .argument('[externalId]', "the contact's external_id; read from stdin when \"-\" or omitted with piped input (then --yes is needed)")
    .option('-y, --yes', 'do not ask for confirmation (required without a terminal)', false);
  addVendorOptions(cmd).addHelpText('after', '\nExamples:\n  $ chatid contacts delete user_123\n  $ chatid contacts delete user_123 --yes --json\n  $ echo -n user_123 | chatid contacts delete --yes');
  cmd.action(async (externalId: string | undefined, flags: VendorFlags & { yes: boolean }) => {
    emit(ctx, await runF({ ...flags, externalId }, ctx), renderDelete);
  });
}

export async function runDelete(opts: DeleteOptions, ctx: Ctx): Promise<DeleteResult> {
  const { externalIdArgument, notFound } = await import('./get.js');
  const externalId = await externalIdArgument(opts.externalId, ctx, {
    command: 'contacts delete',
    severalHint: 'Delete one contact at a time, e.g. `xargs -n1 chatid contacts delete --yes`.',
  });
  const { openAgentApi, parseNetworkFlags, resolveVendorSettings } = await import('../../vendors/factory.js');
  const settings = await resolveVendorSettings(ctx, opts);
  const client = await openAgentApi(ctx, settings, 'contacts', parseNetworkFlags(opts));
  if (!opts.yes) {
    if (!canPrompt(ctx)) {
      throw new UsageError('ERR_CONFIRMATION_REQUIRED', `Deleting contact "${externalId}" needs confirmation, and prompting is off.`, { hint: 'Pass --yes to delete without asking.' });
    }
    const ok = await ctx.prompter.confirm(`Delete contact "${externalId}" from ${settings.provider?.value ?? 'the vendor'} agent ${client.agentId ?? '?'}? This cannot be undone`, { default: false });
    if (!ok) throw new CancelledError('Nothing deleted.');
  }
  try {
    const contact = await client.deleteContact(externalId);
    return { deleted: true, externalId, contact: contact ?? null };
  } catch (err) {
    throw notFound(err, externalId, client.agentId, 'delete');
  }
}

export function renderDelete(r: DeleteResult): string {
  return `Deleted contact ${r.externalId}.`;
}
