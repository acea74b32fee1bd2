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
  /** ISO 8601 instant after which `previousSecret` is dropped. */
  previousSecretExpiresAt?: string;
}

export interface StoreData {
  activeProfile?: string;
  profiles: Record<string, Profile>;
}

/**
 * The local store, whatever holds it (a conf file, or memory in tests). Reads return a
 * validated snapshot with expired previous secrets already left out; `update` is an atomic,
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
