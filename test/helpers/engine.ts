// runEngine on an in-memory CSV against a vendor that stores what it is sent: the set-up the
// engine's tests share (src/sync/*.test.ts).
import { Readable } from 'node:stream';
import type { EngineOptions } from '../../src/sync/engine.js';
import type { ContactInput, ContactsApi } from '../../src/vendors/types.js';

/** A vendor that accepts every contact and keeps them in arrival order; `before` runs first on each upsert (a test's hook). */
export function recordingApi(before?: (cs: readonly ContactInput[]) => unknown): ContactsApi & { stored: ContactInput[] } {
  const stored: ContactInput[] = [];
  return {
    stats: { requests: 0, retries: 0, waitedMs: 0 },
    stored,
    async listAttributes() {
      return [];
    },
    async upsertContacts(cs: readonly ContactInput[]) {
      await before?.(cs);
      stored.push(...cs);
    },
  };
}

/** Options for a sync of `csv` (read afresh for each pass) into `api`, no files; `o` overrides any. */
export function engineOptions(csv: string, api: ContactsApi, o: Partial<EngineOptions> = {}): EngineOptions {
  return {
    openInput: () => Readable.from([Buffer.from(csv, 'utf8')]),
    inputName: 'in.csv',
    batchSize: 2,
    concurrency: 2,
    shard: undefined,
    dryRun: false,
    reportPath: undefined,
    checkpointPath: undefined,
    resume: false,
    target: { provider: 'chatbase', baseUrl: 'http://127.0.0.1:1', agentId: 'a' },
    connect: async () => api,
    signal: new AbortController().signal,
    now: () => new Date(0),
    warn: () => undefined,
    info: () => undefined,
    ...o,
  };
}
