import type { ProfileStore, StoreData } from '../../src/store/types.js';

/**
 * A store that another chatid changes right after each read: `read()` returns the data as it
 * was, then `change` is applied and stored. A command that read before a prompt finds the
 * newer data when it writes under the lock, which is what `secret set`/`rotate` must judge by.
 * @example const racing = changedAfterRead(mem, (d) => void (d.profiles.dev = { provider: 'teamweb' }));
 */
export function changedAfterRead(store: ProfileStore, change: (data: StoreData) => void): ProfileStore {
  return {
    ...store,
    async read() {
      const before = await store.read();
      await store.update(change);
      return before;
    },
  };
}
