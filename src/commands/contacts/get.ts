import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { UsageError, VendorError } from '../../cli/errors.js';
import { emit, escapeControls, fieldText, readUserIdFromStdin } from '../../cli/output.js';
import { addVendorOptions, type VendorFlags } from '../../vendors/flags.js';
import type { Contact } from '../../vendors/types.js';

export interface GetOptions extends VendorFlags {
  /** The id; `-`, or undefined with stdin a pipe, reads it from stdin (cli.md §4). */
  externalId: string | undefined;
}

export interface GetResult {
  contact: Contact;
}

export function registerGet(parent: Command, ctx: Ctx, runF = runGet): void {
  const cmd = parent
    .command('get')
    .description('Show one contact by its external id (the user id your app signs)')
    .argument('[externalId]', "the contact's external_id; read from stdin when \"-\" or omitted with piped input");
  addVendorOptions(cmd).addHelpText(
    'after',
    '\nExamples:\n  $ chatid contacts get user_123\n  $ chatid contacts get user_123 --json | jq .contact.custom_attributes\n  $ echo -n user_123 | chatid contacts get',
  );
  cmd.action(async (externalId: string | undefined, flags: VendorFlags) => {
    emit(ctx, await runF({ ...flags, externalId }, ctx), renderGet);
  });
}

export async function runGet(opts: GetOptions, ctx: Ctx): Promise<GetResult> {
  const externalId = await externalIdArgument(opts.externalId, ctx, {
    command: 'contacts get',
    severalHint: 'Look contacts up one at a time (e.g. `xargs -n1 chatid contacts get`), or list them with `chatid contacts list --all --json`.',
  });
  const { openAgentApi, parseNetworkFlags, resolveVendorSettings } = await import('../../vendors/factory.js');
  const client = await openAgentApi(ctx, await resolveVendorSettings(ctx, opts), 'contacts', parseNetworkFlags(opts));
  try {
    return { contact: await client.getContact(externalId) };
  } catch (err) {
    throw notFound(err, externalId, client.agentId);
  }
}

/**
 * The external id argument of `contacts get` / `delete`: as given, or read from stdin when it
 * is `-` or left out with stdin a pipe (cli.md §4), by the reader `hash` and `token sign` use.
 * Left out at a terminal, it is exit 2 (ERR_CONTACTS_USER_ID_REQUIRED) with an example.
 */
export async function externalIdArgument(arg: string | undefined, ctx: Ctx, o: { command: string; severalHint: string }): Promise<string> {
  if (arg === '-' || (arg === undefined && !ctx.io.stdin.isTTY)) return readUserIdFromStdin(ctx, { command: o.command, code: 'ERR_CONTACTS', severalHint: o.severalHint });
  if (arg === undefined) {
    throw new UsageError('ERR_CONTACTS_USER_ID_REQUIRED', "No external id: say which contact (the user id your app signs).", {
      hint: `Pass it: \`chatid ${o.command} user_123\`, or \`echo -n user_123 | chatid ${o.command}\`.`,
    });
  }
  return arg;
}

/**
 * A vendor 404 on a contact path becomes ERR_CONTACT_NOT_FOUND (exit 1) naming the id, unless
 * the vendor said the agent itself is missing (Chatbase's "Chatbot not found", vendors.md §2.3):
 * that error stays as it is, since its hint already points at --agent-id and no contact was
 * looked at. Bookbag's "Resource not found" names neither, so it reads as the contact.
 */
export function notFound(err: unknown, externalId: string, agentId: string | undefined, command: 'get' | 'delete' = 'get'): unknown {
  if (err instanceof VendorError && (err.details as { status?: number } | undefined)?.status === 404) {
    if (/\b(chatbot|agent) not found\b/i.test((err.details as { vendorMessage?: string }).vendorMessage ?? '')) return err;
    const trimmed = externalId.trim();
    // A pasted id often brings a space or tab along; contacts sync refuses such ids, so none exists.
    const hint = trimmed !== externalId && trimmed !== ''
      ? `The id has whitespace around it, which external ids (and contacts sync) do not: try \`chatid contacts ${command} ${trimmed}\`.`
      : 'External ids are case-sensitive. List them with `chatid contacts list`, or check --agent-id.';
    return new VendorError('ERR_CONTACT_NOT_FOUND', `No contact with external id ${JSON.stringify(externalId)} on agent ${agentId ?? '?'} (${(err.details as { vendorMessage?: string }).vendorMessage ?? '404'}).`, {
      details: err.details,
      cause: err,
      hint,
    });
  }
  return err;
}

export function renderGet(r: GetResult): string {
  const c = r.contact;
  const lines: Array<[string, string]> = [
    ['external_id', fieldText(c.external_id)],
    ['id', fieldText(c.id)],
    ['name', fieldText(c.name)],
    ['email', fieldText(c.email)],
    ['phonenumber', fieldText(c.phonenumber)],
  ];
  for (const [k, v] of Object.entries(c.custom_attributes ?? {})) lines.push([`attr.${escapeControls(k)}`, v === null ? 'null' : fieldText(v)]);
  for (const s of c.stripe_accounts ?? []) lines.push(['stripe', `${fieldText(s.label)} ${fieldText(s.stripe_id)}`]);
  if (c.created_at) lines.push(['created_at', fieldText(c.created_at)]);
  if (c.updated_at) lines.push(['updated_at', fieldText(c.updated_at)]);
  const w = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
