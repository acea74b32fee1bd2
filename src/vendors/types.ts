/**
 * The contract between the vendor clients (src/vendors/*.ts) and the commands that use
 * them, contacts sync above all. Field names follow Chatbase v1 (vendors.md §2.3), which
 * Bookbag copies.
 */

export type AttributeType = 'text' | 'number' | 'boolean' | 'date';

export interface CustomAttribute {
  name: string;
  type: AttributeType;
  label?: string;
  description?: string;
  archived?: boolean;
}

export interface StripeAccount {
  label: string;
  stripe_id: string;
  stripe_email?: string;
}

/** One contact as sent to `POST /chatbots/{id}/contacts`; absent = unchanged, null = delete. */
export interface ContactInput {
  external_id: string;
  name?: string | null;
  email?: string | null;
  phonenumber?: string | null;
  stripe_accounts?: StripeAccount[] | null;
  custom_attributes?: Record<string, string | number | boolean | null>;
}

export interface Contact extends Omit<ContactInput, 'custom_attributes'> {
  id: string;
  custom_attributes?: Record<string, unknown>;
  created_at?: string;
  updated_at?: string;
}

/** A field-level complaint from a vendor 400 (`issues[]`). */
export interface VendorIssue {
  field?: string;
  message: string;
}

/** Counters a client keeps so commands can report what the network did. */
export interface ClientStats {
  requests: number;
  retries: number;
  /** Milliseconds spent waiting for rate limits and Retry-After. */
  waitedMs: number;
}

/** What contacts sync needs from a vendor (Chatbase and Bookbag implement it). */
export interface ContactsApi {
  readonly stats: ClientStats;
  /**
   * Create or update up to 1000 contacts; resolves once the vendor acknowledged all of them
   * (its echo of the stored records is not read), or throws a typed error.
   */
  upsertContacts(contacts: readonly ContactInput[], o?: { signal?: AbortSignal }): Promise<void>;
  listAttributes(o?: { signal?: AbortSignal }): Promise<CustomAttribute[]>;
}

/**
 * Errors the clients throw (all from src/cli/errors.ts), so callers branch on class + code:
 * - `AuthError` `ERR_VENDOR_AUTH` (exit 4): 401/403.
 * - `VendorError` `ERR_VENDOR_REJECTED` (exit 1): 400/404/409/422, with
 *   `details: { status: number; vendorMessage: string; issues: VendorIssue[] }`.
 * - `VendorError` `ERR_VENDOR_SERVER` / `ERR_VENDOR_RATE_LIMIT`: 5xx / 429 after retries ran out.
 * - `NetworkError` `ERR_NETWORK`: connection failures after retries ran out.
 * - `VendorError` `ERR_VENDOR_BAD_RESPONSE`: a 2xx whose body is not the documented shape.
 * - `VendorError` `ERR_VENDOR_STREAM`: an `error` frame inside a chat stream.
 * - `CancelledError` (exit 130): the AbortSignal fired (Ctrl-C).
 * A 429 that asks for a wait longer than the cap (default 60 s, `--max-wait`) stops at once
 * with `ERR_VENDOR_RATE_LIMIT` instead of sleeping or retrying early (src/vendors/http.ts).
 */
export type VendorErrorDetails = {
  status: number;
  vendorMessage: string;
  issues: VendorIssue[];
  /** The vendor's name as shown to users (e.g. "Chatbase"). */
  vendor?: string;
  /** The vendor's machine code when it sends one (`AGENT_NOT_FOUND`, `invalid_api_key`, …). */
  vendorCode?: string;
};
