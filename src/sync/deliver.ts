/**
 * Deliver one batch so that a row the vendor rejects never takes the others down: a 400 whose
 * `issues[]` point at rows (`users.3.email`) is retried without those rows; a 400 or 409 that
 * names no row, or a 413 (body too large), is bisected until the bad rows stand alone.
 * Retries of 429/5xx/connection failures happen inside the client; anything else it throws
 * (401/403, 404, retries exhausted) stops the sync.
 */
import { VendorError } from '../cli/errors.js';
import type { ContactInput, ContactsApi, VendorErrorDetails, VendorIssue } from '../vendors/types.js';
import { RowCode, type RowRejection } from './coerce.js';

export interface DeliverResult {
  /** Indexes (into the batch) the vendor stored. */
  stored: number[];
  /** Indexes the vendor refused, with why. */
  refused: Map<number, RowRejection>;
  /** Requests this batch took (1 when nothing was refused). */
  requests: number;
}

/** Single-row refusals in a row, with nothing stored, after which a batch stops the sync. */
export const REFUSAL_STREAK_LIMIT = 50;

const ROW_FIELD_RE = /^(?:users|contacts)\.(\d+)(?:\.|$|\[)/;

/** The row statuses that mean "this content is refused", as opposed to a broken request or target. */
function refusal(err: unknown): { status: number; message: string; issues: VendorIssue[] } | undefined {
  if (!(err instanceof VendorError) || err.code !== 'ERR_VENDOR_REJECTED') return undefined;
  const d = err.details as Partial<VendorErrorDetails> | undefined;
  const status = d?.status;
  // 413: the request is larger than the vendor takes (Vercel-hosted APIs stop near 4.5 MB, a
  // 1000-row batch of long cells can pass that); halving the group gets under the limit, and a
  // single row still too large is that row's refusal, not the end of the sync.
  if (status !== 400 && status !== 409 && status !== 413 && status !== 422) return undefined;
  return { status, message: d?.vendorMessage || err.message, issues: Array.isArray(d?.issues) ? d.issues : [] };
}

function describe(status: number, message: string, issues: readonly VendorIssue[]): RowRejection {
  // `users.3.email` names the row's place in one request, meaningless in the report: keep `email`.
  const field = (f: string): string => f.replace(/^(?:users|contacts)\.\d+\.?/, '');
  const text = issues.length ? issues.map((i) => (i.field && field(i.field) ? `${field(i.field)}: ${i.message}` : i.message)).join('; ') : message;
  return { code: status === 409 ? RowCode.vendorConflict : RowCode.vendorRejected, message: `${status} ${text}` };
}

/**
 * Upsert `contacts`, isolating refused rows. Bounded: each failed request either drops the
 * rows it names or halves the group, so a batch of n rows with k bad ones takes about
 * 2·k·log2(n) extra requests at worst.
 */
export async function deliverBatch(api: ContactsApi, contacts: readonly ContactInput[], signal?: AbortSignal): Promise<DeliverResult> {
  const stored: number[] = [];
  const refused = new Map<number, RowRejection>();
  let requests = 0;
  // Rows refused one by one since the last stored group: a vendor refusing everything
  // (contact quota reached) would otherwise cost two requests per row of the whole file.
  let streak = 0;
  const queue: number[][] = contacts.length ? [contacts.map((_, i) => i)] : [];
  while (queue.length) {
    const group = queue.pop()!;
    requests++;
    try {
      await api.upsertContacts(
        group.map((i) => contacts[i]!),
        signal ? { signal } : undefined,
      );
      stored.push(...group);
      streak = 0;
      continue;
    } catch (err) {
      const r = refusal(err);
      if (!r) throw err;
      if (group.length === 1) {
        refused.set(group[0]!, describe(r.status, r.message, r.issues));
        if (++streak >= REFUSAL_STREAK_LIMIT && stored.length === 0) {
          throw new VendorError('ERR_SYNC_VENDOR_REFUSES_ALL', `The vendor refused ${streak} rows in a row, one by one, and accepted none (last: ${r.status} ${r.message}).`, {
            hint: 'This looks like an account-level refusal (contact quota reached? an archived attribute?), not bad rows: fix it, then run the same command with --resume.',
          });
        }
        continue;
      }
      // Issues that name a row of this request: drop those rows and retry the rest.
      const named = new Map<number, VendorIssue[]>();
      for (const issue of r.issues) {
        const m = issue.field ? ROW_FIELD_RE.exec(issue.field) : null;
        const pos = m ? Number(m[1]) : NaN;
        if (Number.isInteger(pos) && pos >= 0 && pos < group.length) {
          const list = named.get(pos) ?? [];
          list.push(issue);
          named.set(pos, list);
        }
      }
      if (named.size > 0) {
        for (const [pos, issues] of named) refused.set(group[pos]!, describe(r.status, r.message, issues));
        const rest = group.filter((_, pos) => !named.has(pos));
        if (rest.length) queue.push(rest);
        continue;
      }
      // Nothing names a row (a 409, a 413, or an attribute-level issue): bisect.
      const mid = Math.ceil(group.length / 2);
      queue.push(group.slice(mid), group.slice(0, mid));
    }
  }
  return { stored: stored.sort((a, b) => a - b), refused, requests };
}
