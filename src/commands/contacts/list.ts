import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { CancelledError, CliError, UsageError } from '../../cli/errors.js';
import { emit, fieldText } from '../../cli/output.js';
import type { Contact } from '../../vendors/types.js';
import { addVendorOptions, type VendorFlags } from '../../vendors/flags.js';

export interface ListOptions extends VendorFlags {
  page: number;
  perPage: number;
  all: boolean;
}

export interface ListResult {
  contacts: Contact[];
  page: number;
  perPage: number;
  total: number | null;
  totalPages: number | null;
}

/** With --all: how many pages and contacts were streamed. */
export interface ListAllResult {
  all: true;
  count: number;
  pages: number;
}

export function registerList(parent: Command, ctx: Ctx, runF = runList): void {
  const cmd = parent
    .command('list')
    .alias('ls')
    .description("List the vendor's contacts, one page at a time or --all")
    .option('--page <n>', 'page number, from 1', '1')
    .option('--per-page <n>', 'contacts per page, 10-1000', '100')
    .option('--all', 'every page, printed as it arrives (with --json: NDJSON, one contact per line)', false);
  addVendorOptions(cmd).addHelpText(
    'after',
    `
Examples:
  $ chatid contacts list
  $ chatid contacts list --page 2 --per-page 500 --json | jq '.contacts[].external_id'
  $ chatid contacts list --all --json > contacts.ndjson     # streams; constant memory`,
  );
  cmd.action(async (flags: VendorFlags & { page: string; perPage: string; all: boolean }) => {
    // --all --json streams NDJSON: a failure part-way must be one line as well.
    ctx.ui.ndjson = ctx.ui.json && flags.all;
    const opts: ListOptions = { ...flags, page: parseIntFlag('--page', flags.page, 1, 1e9), perPage: parseIntFlag('--per-page', flags.perPage, 10, 1000), all: flags.all };
    const r = await runF(opts, ctx);
    if ('all' in r) {
      if (!ctx.ui.json) ctx.io.stderr.write(`${r.count} contact(s) on ${r.pages} page(s).\n`);
      return;
    }
    emit(ctx, r, renderList);
  });
}

/** An integer flag within bounds, or exit 2. */
export function parseIntFlag(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError('ERR_USAGE_BAD_VALUE', `${name} must be a whole number from ${min} to ${max}, not "${value}".`, { hint: `For example ${name} ${min}.` });
  }
  return Number(value);
}

export async function runList(opts: ListOptions, ctx: Ctx): Promise<ListResult | ListAllResult> {
  const { openAgentApi, parseNetworkFlags, resolveVendorSettings } = await import('../../vendors/factory.js');
  const tuning = parseNetworkFlags(opts);
  const client = await openAgentApi(ctx, await resolveVendorSettings(ctx, opts), 'contacts', tuning);
  if (!opts.all) {
    const p = await client.listContacts({ page: opts.page, perPage: opts.perPage });
    return { contacts: p.contacts, page: p.page, perPage: p.perPage, total: p.total ?? null, totalPages: p.totalPages ?? null };
  }
  // Stream page by page so a million contacts never sit in memory.
  let count = 0;
  let pages = 0;
  for (let page = opts.page; ; page++) {
    let p: Awaited<ReturnType<typeof client.listContacts>>;
    try {
      p = await client.listContacts({ page, perPage: opts.perPage });
    } catch (err) {
      // Pages already printed are kept (stdout is likely a file): say where to pick up, so a
      // failure at page 40 of 50 does not mean listing all 50 again.
      if (pages === 0 || !(err instanceof CliError) || err instanceof CancelledError) throw err;
      const done = `${count} contact(s) on pages ${opts.page}-${page - 1} were printed before page ${page} failed; continue with --all --page ${page} --per-page ${opts.perPage}.`;
      throw Object.assign(err, { hint: err.hint ? `${err.hint} ${done}` : done, details: { ...err.details, printed: { contacts: count, pages, nextPage: page } } });
    }
    pages++;
    count += p.contacts.length;
    const out = ctx.ui.json ? p.contacts.map((c) => `${JSON.stringify(c)}\n`).join('') : p.contacts.map((c) => `${contactLine(c)}\n`).join('');
    if (out) ctx.io.stdout.write(out);
    const last = p.totalPages !== undefined ? page >= p.totalPages : p.contacts.length < p.perPage;
    if (last || p.contacts.length === 0) break;
  }
  return { all: true, count, pages };
}

/** The cells a human listing shows for a contact. */
function contactCells(c: Contact): string[] {
  return [fieldText(c.external_id), fieldText(c.name), fieldText(c.email), fieldText(c.phonenumber)];
}

function contactLine(c: Contact): string {
  return contactCells(c).join('\t');
}

export function renderList(r: ListResult): string {
  if (r.contacts.length === 0) return r.page > 1 ? `No contacts on page ${r.page}.` : 'No contacts yet. Add some with `chatid contacts sync <file.csv>`.';
  const rows = [['EXTERNAL ID', 'NAME', 'EMAIL', 'PHONE'], ...r.contacts.map(contactCells)];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const table = rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
  const foot = `page ${r.page}${r.totalPages !== null ? ` of ${r.totalPages}` : ''}${r.total !== null ? `, ${r.total} contact(s) in all` : ''}`;
  return `${table}\n${foot}`;
}
