// Bad `--batch` input (issue 6) for `token sign --batch` (and `hash`/`encrypt --batch` as
// they land): every bad row stops the run with ERR_BATCH_ROW naming the line (exit 2), no
// stack trace, and no id is ever altered on the way to a token.
import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli } from '../helpers/test-ctx.js';
import { expectHumanError, expectJsonError } from './harness.js';

const env = { CHATID_SECRET: 'batch-corpus-secret-0123456789abcdefgh', CHATID_PROVIDER: 'generic' };

interface BatchCase {
  name: string;
  input: Buffer | string;
  /** Expected ids, in order, for input that must work. */
  ids?: string[];
  /** Expected error: code and (for ERR_BATCH_ROW) the line and reason. */
  error?: { code: string; line?: number; reason?: string };
  bug?: string;
}

const CASES: BatchCase[] = [
  { name: 'LF', input: 'u1\nu2\n', ids: ['u1', 'u2'] },
  { name: 'CRLF with a BOM', input: '\ufeffu1\r\nu2\r\n', ids: ['u1', 'u2'] },
  { name: 'no final newline', input: 'u1\nu2', ids: ['u1', 'u2'] },
  { name: 'CSV with quoted newline in a cell', input: 'user_id,email\nu1,"a\nb"\n', ids: ['u1'] },
  { name: 'CSV, external_id column', input: 'name,external_id\nAnn,x1\n', ids: ['x1'] },
  { name: 'empty input', input: '', error: { code: 'ERR_BATCH_EMPTY' } },
  { name: 'an empty line', input: 'u1\n\nu3\n', error: { code: 'ERR_BATCH_ROW', line: 2, reason: 'ERR_BATCH_EMPTY_ID' } },
  { name: 'an id with a trailing space', input: 'u1\nu2 \n', error: { code: 'ERR_BATCH_ROW', line: 2, reason: 'ERR_BATCH_ID_WHITESPACE' } },
  { name: 'a 100 KB line', input: `u1\n${'x'.repeat(100_000)}\nu3\n`, error: { code: 'ERR_BATCH_ROW', line: 2, reason: 'ERR_BATCH_LINE_TOO_LONG' } },
  { name: 'CSV: empty id cell', input: 'id\n""\n', error: { code: 'ERR_BATCH_ROW', line: 2, reason: 'ERR_BATCH_EMPTY_ID' } },
  { name: 'CSV: a long row', input: 'user_id,email\nu1,a@b.c\nu2,a@b.c,extra\n', error: { code: 'ERR_BATCH_ROW', line: 3, reason: 'ERR_BATCH_CSV_ROW' } },
  {
    name: 'CSV: a short first data row',
    input: 'user_id,email\nu1\nu2,a@b.c\n',
    error: { code: 'ERR_BATCH_ROW', line: 2, reason: 'ERR_BATCH_CSV_ROW' },
  },
  {
    name: 'a Latin-1 byte in an id',
    input: Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a, 0x75, 0x32, 0x0a]),
    error: { code: 'ERR_BATCH_ROW', line: 1 },
  },
  {
    name: 'a NUL byte in an id',
    input: 'u\u00001\n',
    error: { code: 'ERR_BATCH_ROW', line: 1 },
  },
];

const COMMANDS: Array<{ words: string[]; argv: string[] }> = [
  { words: ['token', 'sign'], argv: ['token', 'sign', '--batch', '-'] },
  { words: ['hash'], argv: ['hash', '--batch', '-'] },
];

for (const cmd of COMMANDS) {
  describe(`batch corpus: ${cmd.words.join(' ')} --batch -`, () => {
    for (const c of CASES) {
      (c.bug ? it.fails : it)(`${c.name}${c.error ? ` → ${c.error.reason ?? c.error.code}` : ''}`, async () => {
        // it.fails cases: see `bug` in the table (reported to the lead).
        for (const json of [true, false]) {
          const r = await runCli([...(json ? ['--json'] : []), ...cmd.argv], createTestCtx({ env, stdin: c.input }));
          const name = `${cmd.words.join(' ')} --batch (${c.name}, ${json ? 'json' : 'human'})`;
          if (c.error) {
            if (json) {
              // NDJSON: rows before the bad one may have been printed; the last line is the error.
              const last = r.stdout.trimEnd().split('\n').filter(Boolean);
              const doc = JSON.parse(last.slice(last.findIndex((l) => l.startsWith('{') && !l.startsWith('{"userId"'))).join('\n'));
              expect(doc.error?.code, `${name}\n${r.stdout}`).toBe(c.error.code);
              if (c.error.line !== undefined) expect(doc.error.line, name).toBe(c.error.line);
              if (c.error.reason !== undefined) expect(doc.error.reason, name).toBe(c.error.reason);
              expect(r.exitCode, name).toBe(2);
              expectJsonError(name, { ...r, stdout: JSON.stringify(doc) }, 2, c.error.code);
            } else {
              expectHumanError(name, { ...r, stdout: '' }, 2, c.error.code);
            }
            continue;
          }
          expect(r.exitCode, `${name}\n${r.stdout}\n${r.stderr}`).toBe(0);
          if (json) {
            const rows = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { userId: string });
            expect(rows.map((x) => x.userId), name).toEqual(c.ids);
          } else {
            expect(r.stdout.trimEnd().split('\n'), name).toHaveLength(c.ids!.length);
          }
        }
      });
    }
  });
}
