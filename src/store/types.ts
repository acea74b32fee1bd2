import type { Provider } from '../core/providers.js';

/** One named set of settings for a vendor and environment (../shared/spec/cli.md §3). */
export interface Profile {
  provider: Provider;
  agentId?: string;
  baseUrl?: string;
  apiKey?: string;
  secret?: string;
  /** After `secret rotate`: the old secret, still accepted until `previousSecretExpiresAt`. */
  previousSecret?: string;
  /** ISO 8601 instant at which `previousSecret` stops being accepted (it then becomes `retiredSecret`). */
  previousSecretExpiresAt?: string;
  /**
   * A previous secret whose grace period has ended: never accepted again, kept only so the
   * doctors can prove that a signer still uses it (SIGNED_WITH_PREVIOUS_SECRET). The next
   * `secret rotate` replaces or removes it.
   */
  retiredSecret?: string;
  /** When `retiredSecret`'s grace period ended (ISO 8601); absent when the store did not say. */
  retiredSecretExpiredAt?: string;
}

export interface StoreData {
  activeProfile?: string;
  profiles: Record<string, Profile>;
}

/**
 * The local store, whatever holds it (a conf file, or memory in tests). Reads return a
 * validated snapshot in which a previous secret whose grace period has ended is already
 * moved to `retiredSecret` (so `previousSecret` is always one still accepted); `update` is an atomic,
 * locked read-modify-write, so concurrent chatid processes never lose each other's changes.
 */
export interface ProfileStore {
  /** The file path, or `:memory:`. */
  readonly path: string;
  read(): Promise<StoreData>;
  /** Apply `fn` to the newest data and write the result; `fn`'s return value is passed through. */
  update<T>(fn: (data: StoreData) => T): Promise<T>;
  /** The file's permission bits (e.g. 0o600), or undefined when there is no file yet. */
  fileMode(): Promise<number | undefined>;
  /** The directory's permission bits (e.g. 0o700), or undefined when it does not exist (or in memory). Optional for test fakes. */
  dirMode?(): Promise<number | undefined>;
}
