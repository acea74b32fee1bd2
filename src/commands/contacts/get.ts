import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { VendorError } from '../../cli/errors.js';
import { emit } from '../../cli/output.js';
import { addVendorOptions, type VendorFlags } from '../../vendors/flags.js';
import type { Contact } from '../../vendors/types.js';

export interface GetOptions extends VendorFlags {
  externalId: string;
}

export interface GetResult {
  contact: Contact;
}

export function registerGet(parent: Command, ctx: Ctx, runF = runGet): void {
  const cmd = parent
    .command('get')
    .description('Show one contact by its external id (the user id your app signs)')
    .argument('<externalId>', "the contact's external_id");
  addVendorOptions(cmd).addHelpText('after', '\nExamples:\n  $ chatid contacts get user_123\n  $ chatid contacts get user_123 --json | jq .contact.custom_attributes');
  cmd.action(async (externalId: string, flags: VendorFlags) => {
    emit(ctx, await runF({ ...flags, externalId }, ctx), renderGet);
  });
}

export async function runGet(opts: GetOptions, ctx: Ctx): Promise<GetResult> {
  const { openAgentApi, parseNetworkFlags, resolveVendorSettings } = await import('../../vendors/factory.js');
  const client = await openAgentApi(ctx, await resolveVendorSettings(ctx, opts), 'contacts', parseNetworkFlags(opts));
  try {
    return { contact: await client.getContact(opts.externalId) };
  } catch (err) {
    throw notFound(err, opts.externalId, client.agentId);
  }
}

/** A vendor 404 on a contact path becomes ERR_CONTACT_NOT_FOUND (exit 1) naming the id. */
export function notFound(err: unknown, externalId: string, agentId: string | undefined): unknown {
  if (err instanceof VendorError && (err.details as { status?: number } | undefined)?.status === 404) {
    return new VendorError('ERR_CONTACT_NOT_FOUND', `No contact with external id "${externalId}" on agent ${agentId ?? '?'} (${(err.details as { vendorMessage?: string }).vendorMessage ?? '404'}).`, {
      details: err.details,
      cause: err,
      hint: 'External ids are case-sensitive. List them with `chatid contacts list`, or check --agent-id.',
    });
  }
  return err;
}

export function renderGet(r: GetResult): string {
  const c = r.contact;
  const lines: Array<[string, string]> = [
    ['external_id', c.external_id],
    ['id', c.id],
    ['name', c.name ?? '-'],
    ['email', c.email ?? '-'],
    ['phonenumber', c.phonenumber ?? '-'],
  ];
  for (const [k, v] of Object.entries(c.custom_attributes ?? {})) lines.push([`attr.${k}`, v === null ? 'null' : typeof v === 'string' ? v : JSON.stringify(v)]);
  for (const s of c.stripe_accounts ?? []) lines.push(['stripe', `${s.label} ${s.stripe_id}`]);
  if (c.created_at) lines.push(['created_at', c.created_at]);
  if (c.updated_at) lines.push(['updated_at', c.updated_at]);
  const w = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
