import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { UsageError, VendorError } from '../../cli/errors.js';
import { CHAT_USER_ID_HINT, chatUserIdProblem } from '../../core/providers.js';
import { emit, fieldText } from '../../cli/output.js';
import { addVendorOptions, type VendorFlags } from '../../vendors/flags.js';

export interface ListOptions extends VendorFlags {
  userId: string;
  cursor: string | undefined;
  limit: number;
  all: boolean;
}

export interface ListResult {
  userId: string;
  conversations: Array<Record<string, unknown>>;
  /** Pass to --cursor for the next page; null on the last one. */
  nextCursor: string | null;
  hasMore: boolean;
  total: number | null;
}

export function registerList(parent: Command, ctx: Ctx, runF = runList): void {
  const cmd = parent
    .command('list')
    .alias('ls')
    .description("List one user's conversations, newest first")
    .requiredOption('--user-id <id>', "the user (the contact's external id)")
    .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)')
    .option('--limit <n>', 'conversations per page, 1-100', '20')
    .option('--all', 'follow the cursor to the last page', false);
  addVendorOptions(cmd).addHelpText('after', "\nExamples:\n  $ chatid conversations list --user-id user_123\n  $ chatid conversations list --user-id user_123 --all --json | jq '.conversations | length'");
  cmd.action(async (flags: VendorFlags & { userId: string; cursor?: string; limit: string; all: boolean }) => {
    if (!/^\d+$/.test(flags.limit) || Number(flags.limit) < 1 || Number(flags.limit) > 100) {
      throw new UsageError('ERR_USAGE_BAD_VALUE', `--limit must be a whole number from 1 to 100, not "${flags.limit}".`, { hint: 'For example --limit 50.' });
    }
    emit(ctx, await runF({ ...flags, cursor: flags.cursor, limit: Number(flags.limit) }, ctx), renderList);
  });
}

export async function runList(opts: ListOptions, ctx: Ctx): Promise<ListResult> {
  const userIdProblem = chatUserIdProblem(opts.userId);
  if (userIdProblem) throw new UsageError('ERR_CONVERSATIONS_USER_ID', `--user-id ${userIdProblem}.`, { hint: CHAT_USER_ID_HINT });
  const { openAgentApi, parseNetworkFlags, resolveVendorSettings } = await import('../../vendors/factory.js');
  const client = await openAgentApi(ctx, await resolveVendorSettings(ctx, opts), 'conversations', parseNetworkFlags(opts));
  const result: ListResult = { userId: opts.userId, conversations: [], nextCursor: null, hasMore: false, total: null };
  let cursor = opts.cursor;
  for (let pages = 0; ; pages++) {
    const p = await client.listConversations({ userId: opts.userId, cursor, limit: opts.limit }).catch((err: unknown) => {
      throw pages === 0 && cursor !== undefined ? badCursor(err, cursor, opts.userId) : err;
    });
    result.conversations.push(...p.conversations);
    result.nextCursor = p.hasMore ? p.cursor : null;
    result.hasMore = p.hasMore;
    result.total = p.total ?? result.total;
    // A server that says hasMore without a new cursor would loop forever; stop there.
    if (!opts.all || !p.hasMore || p.cursor === null || p.cursor === cursor || pages > 100_000) break;
    cursor = p.cursor;
  }
  return result;
}

/** A 400 that blames the cursor the user passed: a bad --cursor (exit 2), not a vendor failure. */
function badCursor(err: unknown, cursor: string, userId: string): unknown {
  const d = err instanceof VendorError ? (err.details as { status?: number; issues?: Array<{ field?: string }> } | undefined) : undefined;
  if (d?.status !== 400 || !(d.issues ?? []).some((i) => i.field === 'cursor')) return err;
  return new UsageError('ERR_CONVERSATIONS_CURSOR', `The vendor refused --cursor ${JSON.stringify(cursor)}: ${(err as Error).message}`, {
    cause: err,
    details: d as Record<string, unknown>,
    hint: `Pass the nextCursor of a page of this user's conversations (\`chatid conversations list --user-id ${userId} --json | jq -r .nextCursor\`), or drop --cursor to start at the first page.`,
  });
}

export function renderList(r: ListResult): string {
  if (r.conversations.length === 0) return `No conversations for ${r.userId}.`;
  const str = fieldText;
  const rows = [['ID', 'TITLE', 'UPDATED'], ...r.conversations.map((c) => [str(c.id), str(c.title ?? c.name), str(c.updatedAt ?? c.updated_at ?? c.createdAt ?? c.created_at)])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const table = rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
  return r.nextCursor ? `${table}\nmore: --cursor ${r.nextCursor}` : table;
}
