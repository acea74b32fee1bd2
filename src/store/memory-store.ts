import { pruneExpired } from './validate.js';
import type { ProfileStore, StoreData } from './types.js';

/** An in-memory store for tests: same contract as the file store, no disk. */
export function memoryStore(initial: StoreData = { profiles: {} }, now: () => Date = () => new Date(0)): ProfileStore & { data: StoreData } {
  const self = {
    path: ':memory:',
    data: structuredClone(initial),
    async read(): Promise<StoreData> {
      return pruneExpired(structuredClone(self.data), now());
    },
    async update<T>(fn: (data: StoreData) => T): Promise<T> {
      const draft = pruneExpired(structuredClone(self.data), now());
      const result = fn(draft);
      self.data = structuredClone(pruneExpired(draft, now()));
      return result;
    },
    async fileMode(): Promise<number | undefined> {
      return undefined;
    },
    async dirMode(): Promise<number | undefined> {
      return undefined;
    },
  };
  return self;
}
