/**
 * Header → contact field mapping for contacts sync (../shared/spec/cli.md §8). Pure.
 */

export type StandardField = 'external_id' | 'name' | 'email' | 'phonenumber' | 'stripe_id' | 'stripe_label' | 'stripe_email';

/** Where each contact field lives in a row (cell index). */
export interface ColumnMap {
  /** Index of the external id column (always present once mapping succeeded). */
  externalId: number;
  fields: Partial<Record<Exclude<StandardField, 'external_id'>, number>>;
  /** Custom attributes: attribute name → cell index, in header order. */
  attributes: Array<{ name: string; index: number; header: string }>;
  /** Columns that map to nothing (warned about, never sent). */
  ignored: Array<{ header: string; index: number }>;
  /** The header as written (used as the report's columns). */
  header: string[];
}

export type HeaderProblem =
  | { code: 'ERR_SYNC_EMPTY_HEADER'; message: string }
  | { code: 'ERR_SYNC_DUPLICATE_COLUMN'; message: string }
  | { code: 'ERR_SYNC_NO_ID_COLUMN'; message: string }
  | { code: 'ERR_SYNC_BAD_ATTRIBUTE_COLUMN'; message: string };

const ALIASES: Readonly<Record<string, StandardField>> = {
  external_id: 'external_id',
  user_id: 'external_id',
  id: 'external_id',
  name: 'name',
  email: 'email',
  e_mail: 'email',
  phonenumber: 'phonenumber',
  phone: 'phonenumber',
  phone_number: 'phonenumber',
  stripe_id: 'stripe_id',
  stripe_label: 'stripe_label',
  stripe_email: 'stripe_email',
};

const ATTR_PREFIXES = ['attr.', 'custom_attributes.'] as const;
/** The OpenAPI rule for attribute names (vendors.md §2.3), which Bookbag shares. */
const ATTR_NAME_RE = /^[a-zA-Z][a-zA-Z0-9_-]*$/;

/**
 * Map a header row. Standard column names are matched case-insensitively after trimming,
 * with spaces and dashes read as `_` ("External ID" = external_id); attribute names keep
 * their case (vendors compare them exactly).
 * @example mapHeader(['id', 'Email', 'attr.plan']) // { ok: true, map: { externalId: 0, fields: { email: 1 }, … } }
 */
export function mapHeader(header: readonly string[]): { ok: true; map: ColumnMap } | { ok: false; problem: HeaderProblem } {
  const map: ColumnMap = { externalId: -1, fields: {}, attributes: [], ignored: [], header: [...header] };
  const seen = new Map<string, string>(); // target → header that claimed it
  for (let i = 0; i < header.length; i++) {
    const raw = header[i] ?? '';
    const h = raw.trim();
    if (h === '') {
      return { ok: false, problem: { code: 'ERR_SYNC_EMPTY_HEADER', message: `Column ${i + 1} of the header has no name.` } };
    }
    const lower = h.toLowerCase();
    const prefix = ATTR_PREFIXES.find((p) => lower.startsWith(p));
    let target: string;
    if (prefix) {
      const name = h.slice(prefix.length);
      if (!ATTR_NAME_RE.test(name)) {
        return {
          ok: false,
          problem: { code: 'ERR_SYNC_BAD_ATTRIBUTE_COLUMN', message: `Column "${raw}": "${name}" is not a valid attribute name (a letter, then letters, digits, _ or -).` },
        };
      }
      target = `attr:${name}`;
      map.attributes.push({ name, index: i, header: raw });
    } else {
      // "External ID", "external-id" and "external_id" are the same column.
      const field = ALIASES[lower.replace(/[\s-]+/g, '_')];
      if (!field) {
        map.ignored.push({ header: raw, index: i });
        continue;
      }
      target = field;
      if (field === 'external_id') map.externalId = i;
      else map.fields[field] = i;
    }
    const prev = seen.get(target);
    if (prev !== undefined) {
      return {
        ok: false,
        problem: { code: 'ERR_SYNC_DUPLICATE_COLUMN', message: `Columns "${prev}" and "${raw}" both set ${target.replace(/^attr:/, 'attribute ')}.` },
      };
    }
    seen.set(target, raw);
  }
  if (map.externalId < 0) {
    return { ok: false, problem: { code: 'ERR_SYNC_NO_ID_COLUMN', message: 'The header has no external id column (external_id, user_id or id).' } };
  }
  return { ok: true, map };
}
