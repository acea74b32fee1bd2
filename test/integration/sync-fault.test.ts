// The FAULT test (issue 4): 10 000 rows into a sandbox that fails ~20% of requests in every
// way it can, including a connection reset after the batch was stored. The end state must be
// exact: every valid row stored once with its final values, every invalid row in the report,
// and the summary equal to the server's count.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { expect, it } from 'vitest';
import { SANDBOX_DEMO_ATTRIBUTES } from '../../src/commands/contacts/sync.js';
import { FAULT_KINDS, SANDBOX_API_KEY, startSandbox } from '../../src/sandbox/index.js';
import { createTestCtx, runCli } from '../helpers/test-ctx.js';
import { expectedOutcome, faultRows, toCsv } from '../fixtures/sync/rows.js';

it('10 000 rows through ~20% faults of every kind end exactly right', async () => {
  const sb = await startSandbox({ port: 0, rateLimit: false, faultRate: 0.2, faults: [...FAULT_KINDS], seed: 42, attributes: SANDBOX_DEMO_ATTRIBUTES });
  const agent = new Agent({ connections: 8 });
  const dir = await mkdtemp(join(tmpdir(), 'chatid-fault-'));
  try {
    const rows = faultRows(10_000);
    await writeFile(join(dir, 'big.csv'), toCsv(rows));
    const ctx = createTestCtx({
      env: { CHATID_PROVIDER: 'chatbase', CHATID_BASE_URL: sb.url, CHATID_API_KEY: SANDBOX_API_KEY, CHATID_AGENT_ID: sb.agentIds[0]! },
      dispatcher: agent,
      cwd: dir,
    });
    const r = await runCli(['contacts', 'sync', 'big.csv', '--batch-size', '100', '--concurrency', '4', '--max-retries', '40', '--report', 'rejected.csv', '--json'], ctx);
    const j = r.json();

    // What the file says the end state must be.
    const want = expectedOutcome(rows);
    const last = want.last;
    const expectSynced = want.synced;
    const expectRejected = want.rejected.length;
    const expectDuplicates = want.duplicates;
    expect(want.conflicts).toBeGreaterThan(10);

    expect(r.exitCode).toBe(5);
    expect(j.read).toBe(10_000);
    expect({ synced: j.synced, rejected: j.rejected, duplicates: j.duplicates }).toEqual({ synced: expectSynced.length, rejected: expectRejected, duplicates: expectDuplicates });
    expect(j.read).toBe(j.synced + j.rejected + j.duplicates);
    // The faults really happened, and the client retried through them.
    const faults = sb.requests.filter((q) => q.fault);
    expect(new Set(faults.map((f) => f.fault))).toEqual(new Set(FAULT_KINDS));
    expect(faults.length / sb.requests.length).toBeGreaterThan(0.1);
    // A batch stored and then its connection reset: the retry re-sends it, upserts keep it single.
    expect(faults.some((f) => f.method === 'POST' && f.fault === 'reset-after')).toBe(true);
    console.log(`fault test: ${sb.requests.length} requests, ${faults.length} faults, ${j.retries} retries, ${j.synced} synced`);
    expect(j.retries).toBeGreaterThanOrEqual(faults.length);

    // The server's state: every valid row once, with its final values; summary = server count.
    const stored = sb.state.contacts(sb.agentIds[0]!);
    expect(stored.length).toBe(j.synced);
    const byId = new Map(stored.map((c) => [c.external_id, c]));
    for (const w of expectSynced) {
      const c = byId.get(w.id);
      expect(c?.email, w.id).toBe(w.email);
      expect(c?.custom_attributes).toEqual({ seats: Number(w.seats) });
    }
    for (const w of want.rejected) expect(byId.has(w.id)).toBe(false);

    // The report: every invalid and every duplicate row, once.
    const lines = (await readFile(join(dir, 'rejected.csv'), 'utf8')).split('\r\n').filter(Boolean).slice(1);
    expect(lines.length).toBe(expectRejected + expectDuplicates);
    const reportedRows = new Set(lines.map((l) => Number(l.split(',')[0])));
    expect(reportedRows.size).toBe(lines.length);
    rows.forEach((row, i) => {
      const superseded = last.get(row.id) !== i;
      if (superseded || !row.valid || row.conflict) expect(reportedRows.has(i + 1), `row ${i + 1}`).toBe(true);
    });
    // Refused by the vendor, isolated from their batches, reported with the vendor's reason.
    const vendorCodes = lines.filter((l) => l.split(',')[3] === 'VENDOR_CONFLICT').length;
    expect(vendorCodes).toBe(want.conflicts);
  } finally {
    await sb.close();
    await agent.close();
    await rm(dir, { recursive: true, force: true });
  }
});
