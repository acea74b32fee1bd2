// Bad CSV input for `contacts sync` (issue 6), against a real sandbox on loopback. For each
// file: the exit code and error code of the contract, no stack trace, every row accounted
// for (read = synced + rejected + duplicates, each rejected or duplicate row in the report
// with its code), exactly the expected contacts at the vendor, the input file untouched,
// and no report or checkpoint garbage after a fatal error.
import { closeSync, copyFileSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { createTestCtx, runCli } from '../helpers/test-ctx.js';
import { CORPUS, describeBuilt, expectHumanError, expectJsonError, expectNoStackTrace, snapshotDir, spawnCli } from './harness.js';

interface CsvCase {
  file: string;
  exit: 0 | 2 | 5;
  /** Fatal (exit 2): the error code; nothing may reach the vendor. */
  error?: string;
  /** Rows that must be at the vendor afterwards, by external id. */
  synced?: string[];
  /** Codes of rejected rows, in file order. */
  rejected?: string[];
  duplicates?: number;
  /** Extra checks on the vendor's stored contacts. */
  stored?: Record<string, { name?: string }>;
}

export const CSV_CASES: CsvCase[] = [
  { file: 'bom.csv', exit: 0, synced: ['u1', 'u2', 'u3'] },
  { file: 'crlf.csv', exit: 0, synced: ['u1', 'u2', 'u3'], stored: { u3: { name: 'Cy' } } },
  { file: 'cr-only.csv', exit: 0, synced: ['u1', 'u2'] },
  {
    file: 'quoted-newlines.csv',
    exit: 0,
    synced: ['u1', 'u2', 'u3', 'u4'],
    stored: { u1: { name: 'Ann\nSmith' }, u2: { name: 'Bob, Jr.' }, u3: { name: 'Cy "the" Guy' }, u4: { name: 'multi\r\nline\r\nname' } },
  },
  { file: 'semicolon.csv', exit: 2, error: 'ERR_SYNC_NO_ID_COLUMN' },
  { file: 'latin1.csv', exit: 2, error: 'ERR_SYNC_NOT_UTF8' },
  { file: 'nul-bytes.csv', exit: 5, synced: ['u2'], rejected: ['NUL_BYTE'] },
  { file: 'ragged.csv', exit: 5, synced: ['u1', 'u4'], rejected: ['ROW_RAGGED', 'ROW_RAGGED'] },
  { file: 'duplicate-header.csv', exit: 2, error: 'ERR_SYNC_DUPLICATE_COLUMN' },
  { file: 'duplicate-id-alias.csv', exit: 2, error: 'ERR_SYNC_DUPLICATE_COLUMN' },
  { file: 'missing-id-column.csv', exit: 2, error: 'ERR_SYNC_NO_ID_COLUMN' },
  { file: 'blank-header-cell.csv', exit: 2, error: 'ERR_SYNC_EMPTY_HEADER' },
  { file: 'bad-attribute-column.csv', exit: 2, error: 'ERR_SYNC_BAD_ATTRIBUTE_COLUMN' },
  { file: 'empty.csv', exit: 2, error: 'ERR_SYNC_EMPTY_FILE' },
  { file: 'bom-only.csv', exit: 2, error: 'ERR_SYNC_EMPTY_FILE' },
  { file: 'blank-lines.csv', exit: 2, error: 'ERR_SYNC_EMPTY_FILE' },
  { file: 'unclosed-quote.csv', exit: 2, error: 'ERR_SYNC_CSV_SYNTAX' },
  { file: 'header-only.csv', exit: 0, synced: [] },
  { file: 'duplicate-ids.csv', exit: 0, synced: ['u1', 'u2'], duplicates: 1, stored: { u1: { name: 'Ann Two' } } },
  { file: 'missing-ids.csv', exit: 5, synced: ['u2'], rejected: ['ID_MISSING', 'ID_WHITESPACE'] },
  { file: 'formula-injection.csv', exit: 5, synced: ['u3'], rejected: ['EMAIL_INVALID', 'EMAIL_INVALID'] },
  { file: 'formula-prefixes.csv', exit: 5, synced: ['u5'], rejected: ['EMAIL_INVALID', 'EMAIL_INVALID', 'EMAIL_INVALID', 'EMAIL_INVALID'] },
  { file: 'attribute-types.csv', exit: 5, synced: ['u1', 'u4'], rejected: ['ATTR_NUMBER_INVALID', 'ATTR_BOOLEAN_INVALID'] },
  { file: 'unknown-attribute.csv', exit: 0, synced: ['u1'] },
];

const ATTRIBUTES = [
  { name: 'seats', type: 'number' as const },
  { name: 'trial', type: 'boolean' as const },
  { name: 'plan', type: 'text' as const },
];

const tmpRoot = mkdtempSync(join(tmpdir(), 'chatid-csv-corpus-'));
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));

/** A spreadsheet would run these as formulas (cli.md §8); the report must defuse them. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** Minimal RFC 4180 reader for the report (it is small and written by csv-stringify). */
function parseReport(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
      if (c === '\r') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length) rows.push([...row, cell]);
  return rows;
}

async function withSandbox<T>(fn: (sb: Sandbox, agent: Agent) => Promise<T>): Promise<T> {
  const sb = await startSandbox({ rateLimit: false, attributes: ATTRIBUTES });
  const agent = new Agent();
  try {
    return await fn(sb, agent);
  } finally {
    await agent.close();
    await sb.close();
  }
}

const envFor = (sb: Sandbox) => ({ CHATID_PROVIDER: 'chatbase', CHATID_AGENT_ID: sb.agentIds[0]!, CHATID_BASE_URL: sb.url, CHATID_API_KEY: sb.apiKeys[0]! });
const contactWrites = (sb: Sandbox) => sb.requests.filter((r) => r.method === 'POST' && r.path.includes('/contacts')).length;

describe('CSV corpus: contacts sync', () => {
  for (const c of CSV_CASES) {
    for (const json of [true, false]) {
      it(`${c.file} (${json ? 'json' : 'human'}): exit ${c.exit}${c.error ? ` ${c.error}` : ''}`, async () => {
        await withSandbox(async (sb, agent) => {
          const dir = mkdtempSync(join(tmpRoot, 'case-'));
          copyFileSync(join(CORPUS, 'csv', c.file), join(dir, c.file));
          const inputBefore = readFileSync(join(dir, c.file));
          const ctx = createTestCtx({ dispatcher: agent, cwd: dir, env: envFor(sb) });
          const argv = ['contacts', 'sync', c.file, '--report', 'report.csv', ...(json ? ['--json'] : [])];
          const r = await runCli(argv, ctx);
          const name = `csv ${c.file} (${json ? '--json' : 'human'})`;
          const where = `${name}\n--- stdout:\n${r.stdout}\n--- stderr:\n${r.stderr}`;
          expect(readFileSync(join(dir, c.file)), `${name}: the input file changed`).toEqual(inputBefore);
          // No checkpoint survives a finished run (exit 0/5) or a fatal error found before any write.
          expect(readdirSync(dir).filter((f) => f.includes('checkpoint')), `${name}: checkpoint left behind`).toEqual([]);
          if (c.error) {
            if (json) expectJsonError(name, r, c.exit, c.error);
            else expectHumanError(name, r, c.exit, c.error);
            expect(contactWrites(sb), `${name}: contacts were written before a fatal error`).toBe(0);
            expect(readdirSync(dir).sort(), `${name}: files written after a fatal error`).toEqual([c.file]);
            return;
          }
          expect(r.exitCode, where).toBe(c.exit);
          expectNoStackTrace(name, r.stdout, r.stderr);
          const ids = sb.state
            .contacts(sb.agentIds[0]!)
            .map((x) => x.external_id)
            .sort();
          expect(ids, `${name}: contacts at the vendor`).toEqual([...(c.synced ?? [])].sort());
          for (const [id, want] of Object.entries(c.stored ?? {})) {
            expect(sb.state.contact(sb.agentIds[0]!, id), `${name}: stored ${id}`).toMatchObject(want);
          }
          // The report: 0600, one line per rejected or duplicate row with its code, spreadsheet-safe.
          const reportPath = join(dir, 'report.csv');
          expect(statSync(reportPath).mode & 0o777, `${name}: report mode`).toBe(0o600);
          const rows = parseReport(readFileSync(reportPath, 'utf8'));
          const header = rows[0]!;
          const body = rows.slice(1);
          const codeAt = header.indexOf('code');
          const statusAt = header.indexOf('status');
          expect(body.filter((x) => x[statusAt] === 'rejected').map((x) => x[codeAt]), `${name}: rejected rows in the report`).toEqual(c.rejected ?? []);
          expect(body.filter((x) => x[statusAt] === 'duplicate').length, `${name}: duplicate rows in the report`).toBe(c.duplicates ?? 0);
          for (const row of body) for (const cell of row) expect(FORMULA_START.test(cell), `${name}: report cell ${JSON.stringify(cell)} would run as a formula`).toBe(false);
          if (json) {
            const s = r.json();
            expect({ read: s.read, synced: s.synced, rejected: s.rejected, duplicates: s.duplicates }, where).toEqual({
              read: (c.synced?.length ?? 0) + (c.rejected?.length ?? 0) + (c.duplicates ?? 0),
              synced: c.synced?.length ?? 0,
              rejected: c.rejected?.length ?? 0,
              duplicates: c.duplicates ?? 0,
            });
          }
        });
      });
    }
  }

  it('a 100 MB line is refused as a CSV syntax error, before any write, without reading it into memory', async () => {
    await withSandbox(async (sb, agent) => {
      const dir = mkdtempSync(join(tmpRoot, 'big-'));
      const file = join(dir, 'huge-line.csv');
      const fd = openSync(file, 'w');
      writeSync(fd, 'external_id,name,email\nu1,Ann,ann@example.com\nu2,');
      const chunk = Buffer.alloc(1 << 20, 'A');
      for (let i = 0; i < 100; i++) writeSync(fd, chunk);
      writeSync(fd, ',big@example.com\nu3,Cy,cy@example.com\n');
      closeSync(fd);
      const before = snapshotDir(dir);
      const heapBefore = process.memoryUsage().heapUsed;
      const r = await runCli(['contacts', 'sync', file, '--json', '--report', join(dir, 'report.csv')], createTestCtx({ dispatcher: agent, cwd: dir, env: envFor(sb) }));
      expectJsonError('100 MB line', r, 2, 'ERR_SYNC_CSV_SYNTAX');
      expect(process.memoryUsage().heapUsed - heapBefore, 'heap grew as if the line was buffered').toBeLessThan(50 * (1 << 20));
      expect(contactWrites(sb)).toBe(0);
      expect(snapshotDir(dir)).toEqual(before);
    });
  });
});

describeBuilt('CSV corpus: the real process', () => {
  it('a 100 MB file with no line break fails cleanly (exit 2) in a process capped at a 64 MB heap', async () => {
    await withSandbox(async (sb) => {
      const dir = mkdtempSync(join(tmpRoot, 'noline-'));
      const file = join(dir, 'one-line.csv');
      const fd = openSync(file, 'w');
      const chunk = Buffer.alloc(1 << 20, 'x');
      for (let i = 0; i < 100; i++) writeSync(fd, chunk);
      closeSync(fd);
      const r = await spawnCli(['contacts', 'sync', file, '--json'], { env: { ...envFor(sb), NODE_OPTIONS: '--max-old-space-size=64', CHATID_CONFIG_DIR: join(dir, 'cfg') } });
      expectJsonError('100 MB without a line break (spawned)', { ...r, exitCode: r.exitCode ?? -1, json: () => JSON.parse(r.stdout) }, 2, 'ERR_SYNC_CSV_SYNTAX');
      expect(contactWrites(sb)).toBe(0);
      expect(readdirSync(dir)).toEqual(['one-line.csv']);
    });
  });

  it('answers every fatal corpus file with its code and no stack trace', async () => {
    await withSandbox(async (sb) => {
      await Promise.all(
        CSV_CASES.filter((x) => x.error).map(async (c) => {
          const dir = mkdtempSync(join(tmpRoot, 'spawn-'));
          copyFileSync(join(CORPUS, 'csv', c.file), join(dir, c.file));
          const r = await spawnCli(['contacts', 'sync', c.file, '--json'], { cwd: dir, env: { ...envFor(sb), CHATID_CONFIG_DIR: join(dir, 'cfg') } });
          expectJsonError(`csv ${c.file} (spawned)`, { ...r, exitCode: r.exitCode ?? -1, json: () => JSON.parse(r.stdout) }, c.exit, c.error!);
          expect(readdirSync(dir), c.file).toEqual([c.file]);
        }),
      );
      expect(contactWrites(sb)).toBe(0);
    });
  });
});

// Keep this file's temp writes honest: nothing may be left in the corpus directory itself.
afterAll(() => {
  expect(readdirSync(join(CORPUS, 'csv')).filter((f) => !f.endsWith('.csv'))).toEqual([]);
});
