/**
 * One CSV row → one ContactInput, coerced to the vendor's attribute schema and validated
 * locally, or a rejection with a stable code. Pure: the schema and the row come in, a
 * result goes out (../shared/spec/cli.md §8).
 *
 * Cell rules: an empty cell leaves the field unchanged (the key is omitted); a cell holding
 * exactly `null` deletes the field (null is sent). Other values are sent as written, except
 * attribute values, which take the schema's type.
 */
import type { AttributeType, ContactInput, CustomAttribute, StripeAccount } from '../vendors/types.js';
import type { ColumnMap } from './columns.js';

/** Row-level rejection codes (stable: scripts read them from the report). */
export const RowCode = {
  ragged: 'ROW_RAGGED',
  nulByte: 'NUL_BYTE',
  idMissing: 'ID_MISSING',
  idTooLong: 'ID_TOO_LONG',
  idWhitespace: 'ID_WHITESPACE',
  idInvalid: 'ID_INVALID',
  emailInvalid: 'EMAIL_INVALID',
  phoneInvalid: 'PHONE_INVALID',
  stripeLabelWithoutId: 'STRIPE_ID_MISSING',
  fieldTooLong: 'FIELD_TOO_LONG',
  numberInvalid: 'ATTR_NUMBER_INVALID',
  booleanInvalid: 'ATTR_BOOLEAN_INVALID',
  dateInvalid: 'ATTR_DATE_INVALID',
  attributeArchived: 'ATTR_ARCHIVED',
  vendorRejected: 'VENDOR_REJECTED',
  vendorConflict: 'VENDOR_CONFLICT',
  duplicate: 'DUPLICATE',
} as const;
export type RowCodeValue = (typeof RowCode)[keyof typeof RowCode];

export interface RowRejection {
  code: RowCodeValue;
  message: string;
}

export type CoerceResult = { ok: true; contact: ContactInput } | ({ ok: false } & RowRejection);

/** Longest external id accepted (Bookbag's v2 userId limit is 128; ids far beyond that are a mistake). */
export const MAX_ID_LENGTH = 256;
/** Longest text cell accepted (a guard against a broken quote swallowing the rest of the file). */
export const MAX_FIELD_LENGTH = 10_000;

const EMAIL_RE = /^[^\s@"(),:;<>[\\\]]+@[^\s@"(),:;<>[\\\]]+\.[^\s@"(),:;<>[\\\].]{2,}$/;
const PHONE_RE = /^\+?[0-9][0-9 ().\-/]{2,31}$/;
const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
// Control characters, TAB included, are never part of a real id (and break identity tokens);
// the same set as --batch ids refuse (src/cli/batch.ts, ERR_BATCH_ID_CONTROL).
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f]/;

/** The schema as a lookup: attribute name → its declaration. */
export type Schema = ReadonlyMap<string, CustomAttribute>;

export function schemaOf(attributes: readonly CustomAttribute[]): Schema {
  return new Map(attributes.map((a) => [a.name, a]));
}

function reject(code: RowCodeValue, message: string): CoerceResult {
  return { ok: false, code, message };
}

/**
 * Coerce a raw cell to an attribute type. Returns the value to send, or a rejection.
 * @example coerceAttribute('42', 'number') // { ok: true, value: 42 }
 */
export function coerceAttribute(cell: string, type: AttributeType): { ok: true; value: string | number | boolean } | { ok: false; code: RowCodeValue; message: string } {
  switch (type) {
    case 'number': {
      const t = cell.trim();
      const n = Number(t);
      if (!NUMBER_RE.test(t) || !Number.isFinite(n)) return { ok: false, code: RowCode.numberInvalid, message: `"${cell}" is not a number (use a dot for decimals, no thousands separators).` };
      // A whole number past 2^53 would arrive changed (99999999999999999999 → 1e20).
      if (/^[+-]?\d+$/.test(t) && !Number.isSafeInteger(n)) {
        return { ok: false, code: RowCode.numberInvalid, message: `"${cell}" is too large to keep exactly as a number (more than 9007199254740991); use a text attribute for ids and codes.` };
      }
      return { ok: true, value: n };
    }
    case 'boolean': {
      const t = cell.trim().toLowerCase();
      if (t === 'true' || t === '1') return { ok: true, value: true };
      if (t === 'false' || t === '0') return { ok: true, value: false };
      return { ok: false, code: RowCode.booleanInvalid, message: `"${cell}" is not a boolean (use true, false, 1 or 0).` };
    }
    case 'date': {
      // ISO 8601 only: other forms that Date reads are ambiguous (05/06/2024), read in the
      // machine's time zone, or read from garbage ("x 5" is 2001-05-01).
      const t = cell.trim();
      const iso = ISO_DATE.exec(t);
      // -000000 is no year in ISO 8601 (year 0 is +000000), and Date reads it as 2001.
      if (!iso || iso[1] === '-000000') return { ok: false, code: RowCode.dateInvalid, message: `"${cell}" is not an ISO 8601 date (write it as 2024-05-31 or 2024-05-31T12:00:00Z; other forms are ambiguous or depend on the time zone).` };
      if (iso[4] !== undefined && iso[5] === undefined) {
        return { ok: false, code: RowCode.dateInvalid, message: `"${cell}" has a time but no time zone (add Z for UTC or an offset, e.g. ${t}Z or ${t}+02:00).` };
      }
      const d = new Date(t);
      if (Number.isNaN(d.getTime())) return { ok: false, code: RowCode.dateInvalid, message: `"${cell}" is not a date (hours 00-24, minutes and seconds 00-59, offsets up to ±23:59).` };
      // JavaScript rolls a day past the month's end over (2024-02-30 → March 1st): refuse it.
      if (!calendarDay(Number(iso[1]), Number(iso[2]), iso[3] === undefined ? 1 : Number(iso[3]))) {
        return { ok: false, code: RowCode.dateInvalid, message: `"${cell}" is not a day of the calendar (${iso[1]}-${iso[2]} has no day ${iso[3] ?? '01'}).` };
      }
      return { ok: true, value: d.toISOString() };
    }
    case 'text':
      return { ok: true, value: cell };
  }
}

/**
 * ISO 8601 as Date reads it exactly: a year (4 digits, or 6 with a sign), month and day, or a
 * year and month; a time after `T` or a space, then `Z` or an offset. Groups: year, month, day,
 * time, zone.
 */
const ISO_DATE = /^([+-]\d{6}|\d{4})-(\d{2})(?:-(\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?)?)?$/;

/** Whether month `m` (1-12) of year `y` has a day `d`. */
function calendarDay(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const last = new Date(0);
  last.setUTCFullYear(y, m, 0); // day 0 of the next month; setUTCFullYear keeps years 0-99 as they are
  return d <= last.getUTCDate();
}

/** `Object.entries(map.fields)`, worked out once per map rather than once per row. */
const fieldLists = new WeakMap<ColumnMap, ReadonlyArray<readonly [string, number]>>();
function fieldsOf(map: ColumnMap): ReadonlyArray<readonly [string, number]> {
  let list = fieldLists.get(map);
  if (!list) {
    list = Object.entries(map.fields).filter((e): e is [string, number] => e[1] !== undefined);
    fieldLists.set(map, list);
  }
  return list;
}

/**
 * Build the contact for one row. `cells` has exactly the header's length (ragged rows are
 * rejected before this). Attributes missing from `schema` are not sent (the caller warned
 * about them once, before any write); archived ones may only be set to null.
 * @example toContact(['u1', 'a@b.co'], map, schemaOf([])) // { ok: true, contact: { external_id: 'u1', email: 'a@b.co' } }
 */
export function toContact(cells: readonly string[], map: ColumnMap, schema: Schema): CoerceResult {
  for (const c of cells) {
    if (c.includes('\u0000')) return reject(RowCode.nulByte, 'The row holds a NUL byte (is the file UTF-16 or binary?).');
  }
  const id = cells[map.externalId] ?? '';
  if (id === '') return reject(RowCode.idMissing, 'The external id is empty.');
  if (id === 'null') return reject(RowCode.idInvalid, 'The external id cannot be null (null deletes a field; a contact needs its id).');
  // A dot segment cannot be a URL path segment: the contact would be created, then no
  // GET/PATCH/DELETE /contacts/{id} (nor `contacts get` or `delete`) could reach it.
  if (id === '.' || id === '..') return reject(RowCode.idInvalid, `The external id "${id}" cannot name a contact in the vendor's URLs (/contacts/${id}), so it could never be read, updated or deleted.`);
  if (id.trim() !== id) return reject(RowCode.idWhitespace, `The external id "${id}" has leading or trailing whitespace; the widget signs the id byte for byte, so fix it in the source.`);
  if (id.length > MAX_ID_LENGTH) return reject(RowCode.idTooLong, `The external id is ${id.length} characters long (at most ${MAX_ID_LENGTH}).`);
  if (CONTROL_RE.test(id)) return reject(RowCode.idInvalid, id.includes('\t') ? 'The external id holds a TAB (cells copied from a spreadsheet or a TSV file?); ids never hold one.' : 'The external id holds a control character (a newline?).');

  const contact: ContactInput = { external_id: id };
  const cell = (i: number | undefined): string | undefined => (i === undefined ? undefined : cells[i]);
  for (const [field, i] of fieldsOf(map)) {
    const v = cells[i];
    if (v !== undefined && v.length > MAX_FIELD_LENGTH) return reject(RowCode.fieldTooLong, `The ${field} cell is ${v.length} characters long (at most ${MAX_FIELD_LENGTH}).`);
  }

  const name = cell(map.fields.name);
  if (name !== undefined && name !== '') contact.name = name === 'null' ? null : name;

  const email = cell(map.fields.email);
  if (email !== undefined && email !== '') {
    if (email === 'null') contact.email = null;
    else if (!EMAIL_RE.test(email)) return reject(RowCode.emailInvalid, `"${email}" is not a valid email address.`);
    else contact.email = email;
  }

  const phone = cell(map.fields.phonenumber);
  if (phone !== undefined && phone !== '') {
    if (phone === 'null') contact.phonenumber = null;
    else if (!PHONE_RE.test(phone.trim())) return reject(RowCode.phoneInvalid, `"${phone}" is not a phone number (digits, an optional leading +, spaces, dots, dashes or parentheses).`);
    else contact.phonenumber = phone.trim();
  }

  const stripeId = cell(map.fields.stripe_id);
  const stripeLabel = cell(map.fields.stripe_label);
  const stripeEmail = cell(map.fields.stripe_email);
  if (stripeId === 'null') {
    contact.stripe_accounts = null;
  } else if (stripeId !== undefined && stripeId !== '') {
    const account: StripeAccount = { label: stripeLabel && stripeLabel !== 'null' ? stripeLabel : 'default', stripe_id: stripeId };
    if (stripeEmail && stripeEmail !== 'null') {
      if (!EMAIL_RE.test(stripeEmail)) return reject(RowCode.emailInvalid, `"${stripeEmail}" (stripe_email) is not a valid email address.`);
      account.stripe_email = stripeEmail;
    }
    contact.stripe_accounts = [account];
  } else if ((stripeLabel !== undefined && stripeLabel !== '') || (stripeEmail !== undefined && stripeEmail !== '')) {
    return reject(RowCode.stripeLabelWithoutId, 'stripe_label or stripe_email is set but stripe_id is empty (a Stripe account needs its id).');
  }

  let attrs: Record<string, string | number | boolean | null> | undefined;
  for (const a of map.attributes) {
    const v = cells[a.index] ?? '';
    if (v === '') continue;
    const decl = schema.get(a.name);
    if (!decl) continue; // unknown attribute: warned once, not sent
    attrs ??= {};
    if (v === 'null') {
      attrs[a.name] = null;
      continue;
    }
    if (decl.archived) return reject(RowCode.attributeArchived, `Attribute "${a.name}" is archived: it can only be cleared (null).`);
    const r = coerceAttribute(v, decl.type);
    if (!r.ok) return reject(r.code, `Attribute "${a.name}" (${decl.type}): ${r.message}`);
    attrs[a.name] = r.value;
  }
  if (attrs) contact.custom_attributes = attrs;
  return { ok: true, contact };
}
