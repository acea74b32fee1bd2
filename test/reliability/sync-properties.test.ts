// Property tests for the contacts sync parsers (issue 6): the streaming CSV reader (any
// RFC 4180 text round-trips, whatever the chunk boundaries), the header → column mapping,
// and --shard (every row lands in exactly one shard, the same one on every run).
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { Agent } from 'undici';
import { describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/index.js';
import { mapHeader } from '../../src/sync/columns.js';
import { readCsvRecords } from '../../src/sync/csv-reader.js';
import { fnv1a32, parseShard, shardOf } from '../../src/sync/shard.js';
import { createTestCtx, runCli } from '../helpers/test-ctx.js';
import { cutBytes } from '../helpers/cut-bytes.js';

// Deterministic by default (the same cases on every run); FC_SEED=<n> explores others.
fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261123) });

const cellChar = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a', 'Z', '0', ' ', '.', '@') },
  { weight: 3, arbitrary: fc.constantFrom(',', '"', '\n', '\r\n', '\r', ';', '\t') },
  { weight: 2, arbitrary: fc.constantFrom('é', 'ß', '€', '😀', '𝄞', '中', '\u00a0', '\u200b', '\u0000') },
);
const cell = fc.array(cellChar, { maxLength: 8 }).map((a) => a.join(''));

/** RFC 4180: quote a cell holding a delimiter, quote or line break; double inner quotes. */
function quote(c: string): string {
  return /[",\r\n]/.test(c) || c === '' ? `"${c.replace(/"/g, '""')}"` : c;
}

describe('readCsvRecords (streaming, strict UTF-8)', () => {
  it('round-trips any table, any line ending, with or without BOM, split at any byte', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }).chain((cols) => fc.array(fc.array(cell, { minLength: cols, maxLength: cols }), { minLength: 1, maxLength: 6 })),
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.boolean(),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (rows, eol, bom, finalEol, cuts) => {
          // A one-column row holding only `""` is a row with one empty cell (quote() writes "").
          let text = '';
          const lines: number[] = [];
          let line = 1;
          for (const [i, row] of rows.entries()) {
            lines.push(line);
            const rendered = row.map(quote).join(',');
            text += rendered;
            line += (rendered.match(/\r\n|\r|\n/g) ?? []).length;
            if (i < rows.length - 1 || finalEol) {
              text += eol;
              line++;
            }
          }
          const bytes = Buffer.concat([bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), Buffer.from(text, 'utf8')]);
          // Cut into chunks at arbitrary byte offsets, splitting multi-byte characters.
          const chunks = cutBytes(bytes, cuts);
          const got: Array<{ cells: string[]; line: number }> = [];
          for await (const r of readCsvRecords(Readable.from(chunks))) got.push(r);
          const label = JSON.stringify({ text, eol, bom, chunks: chunks.map((c) => c.length) });
          expect(
            got.map((r) => r.cells),
            label,
          ).toEqual(rows);
          expect(
            got.map((r) => r.line),
            label,
          ).toEqual(lines);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses any invalid UTF-8 byte sequence with ERR_SYNC_NOT_UTF8 (exit 2), never U+FFFD', async () => {
    const invalid = fc.constantFrom([0xe9], [0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80]);
    await fc.assert(
      fc.asyncProperty(fc.array(cell, { minLength: 1, maxLength: 3 }), invalid, fc.nat(), async (row, bad, at) => {
        const good = Buffer.from(`external_id,name\n${row.map(quote).join(',')}\n`, 'utf8');
        const pos = 17 + (at % (good.length - 17)); // after the header
        const bytes = Buffer.concat([good.subarray(0, pos), Buffer.from(bad), good.subarray(pos)]);
        let thrown: unknown;
        try {
          for await (const _ of readCsvRecords(Readable.from([bytes]))) void _;
        } catch (err) {
          thrown = err;
        }
        expect((thrown as { code?: string } | undefined)?.code, JSON.stringify([...bytes])).toBe('ERR_SYNC_NOT_UTF8');
        expect((thrown as { exitCode?: number }).exitCode).toBe(2);
      }),
      { numRuns: 200 },
    );
  });
});

describe('mapHeader (CSV column mapping)', () => {
  const ALIASES: Record<string, string> = { external_id: 'external_id', user_id: 'external_id', id: 'external_id', name: 'name', email: 'email', phonenumber: 'phonenumber', phone: 'phonenumber', stripe_id: 'stripe_id', stripe_label: 'stripe_label', stripe_email: 'stripe_email' };
  const randomCase = (s: string) => fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }).map((u) => [...s].map((c, i) => (u[i] ? c.toUpperCase() : c)).join(''));
  const pad = fc.constantFrom('', ' ', '  ', '\t');
  const attrName = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_-]{0,6}$/);
  const column = fc.oneof(
    fc.tuple(pad, fc.constantFrom(...Object.keys(ALIASES)).chain(randomCase), pad).map(([a, b, c]) => a + b + c),
    fc.tuple(fc.constantFrom('attr.', 'custom_attributes.', 'ATTR.'), attrName).map(([p, n]) => p + n),
    fc.tuple(fc.constantFrom('attr.', 'custom_attributes.'), fc.constantFrom('', '1x', '_a', 'a b', 'é', 'a.b')).map(([p, n]) => p + n),
    fc.constantFrom('notes', 'Company', 'created', 'x-y', 'email2', 'ids'),
    fc.constantFrom('', ' ', '\t'),
  );

  function targetOf(raw: string): { kind: 'blank' } | { kind: 'attr'; name: string; valid: boolean } | { kind: 'std'; field: string } | { kind: 'ignored' } {
    const h = raw.trim();
    if (h === '') return { kind: 'blank' };
    const lower = h.toLowerCase();
    for (const p of ['attr.', 'custom_attributes.']) {
      if (lower.startsWith(p)) {
        const name = h.slice(p.length);
        return { kind: 'attr', name, valid: /^[a-zA-Z][a-zA-Z0-9_-]*$/.test(name) };
      }
    }
    const field = ALIASES[lower];
    return field ? { kind: 'std', field } : { kind: 'ignored' };
  }

  it('maps a header iff it has no blank name, no bad attribute name, no two columns for one field, and one id column', () => {
    fc.assert(
      fc.property(fc.array(column, { minLength: 1, maxLength: 8 }), (header) => {
        const r = mapHeader(header);
        const t = header.map(targetOf);
        const keys = t.flatMap((x) => (x.kind === 'std' ? [x.field] : x.kind === 'attr' ? [`attr:${x.name}`] : []));
        const dup = keys.length !== new Set(keys).size;
        const blank = t.some((x) => x.kind === 'blank');
        const badAttr = t.some((x) => x.kind === 'attr' && !x.valid);
        const ids = t.filter((x) => x.kind === 'std' && x.field === 'external_id').length;
        const label = JSON.stringify(header);
        expect(r.ok, label).toBe(!blank && !badAttr && !dup && ids === 1);
        if (!r.ok) {
          const justified = {
            ERR_SYNC_EMPTY_HEADER: blank,
            ERR_SYNC_BAD_ATTRIBUTE_COLUMN: badAttr,
            ERR_SYNC_DUPLICATE_COLUMN: dup,
            ERR_SYNC_NO_ID_COLUMN: ids === 0,
          }[r.problem.code];
          expect(justified, `${r.problem.code} for ${label}`).toBe(true);
          return;
        }
        // Every column is used exactly once: the id, a standard field, an attribute, or ignored.
        const used = [r.map.externalId, ...Object.values(r.map.fields), ...r.map.attributes.map((a) => a.index), ...r.map.ignored.map((x) => x.index)].sort((a, b) => a - b);
        expect(used, label).toEqual(header.map((_, i) => i));
        expect(t[r.map.externalId], label).toEqual({ kind: 'std', field: 'external_id' });
        for (const [field, i] of Object.entries(r.map.fields)) expect(t[i], label).toEqual({ kind: 'std', field });
        for (const a of r.map.attributes) expect(t[a.index], label).toEqual({ kind: 'attr', name: a.name, valid: true });
        for (const x of r.map.ignored) expect(t[x.index]!.kind, label).toBe('ignored');
      }),
      { numRuns: 1000 },
    );
  });
});

describe('--shard i/n', () => {
  it('FNV-1a 32 is the published function (so other tools can reproduce the split)', () => {
    // Vectors from the FNV reference (http://www.isthe.com/chongo/tech/comp/fnv/).
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('parses exactly 1 ≤ i ≤ n ≤ 1024 and refuses everything else', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1024 }), fc.integer({ min: 0, max: 2000 }), (n, i) => {
        const r = parseShard(`${i}/${n}`);
        if (i >= 1 && i <= n) expect(r).toEqual({ index: i - 1, count: n });
        else expect(r, `${i}/${n}`).toBeUndefined();
      }),
      { numRuns: 500 },
    );
    for (const bad of ['0/4', '5/4', '1/0', '1/1025', '-1/4', '1 /4', '1/4/2', '1.5/4', 'a/b', '', '/', '1/', '/4', '１/４']) {
      expect(parseShard(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });

  it('puts every id in exactly one shard, the same one every time, for every n', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.integer({ min: 1, max: 1024 }), (id, n) => {
        const s = shardOf(id, n);
        expect(Number.isInteger(s) && s >= 0 && s < n).toBe(true);
        expect(shardOf(id, n)).toBe(s);
        const takers = Array.from({ length: n }, (_, i) => i).filter((i) => shardOf(id, n) === i);
        expect(takers).toHaveLength(1);
      }),
      { numRuns: 300 },
    );
  });

  it('n jobs of `contacts sync --shard i/n` together sync every row exactly once, and agree on a re-run', async () => {
    const ids = Array.from({ length: 150 }, (_, i) => `user_${i}_${(i * 7919) % 1000}`);
    const csv = `external_id,name\n${ids.map((id) => `${id},N ${id}`).join('\n')}\n`;
    for (const n of [1, 2, 3, 7]) {
      const sb = await startSandbox({ rateLimit: false });
      const agent = new Agent();
      try {
        const env = { CHATID_PROVIDER: 'chatbase', CHATID_AGENT_ID: sb.agentIds[0]!, CHATID_BASE_URL: sb.url, CHATID_API_KEY: sb.apiKeys[0]! };
        const perShard: string[][] = [];
        for (let i = 1; i <= n; i++) {
          const before = new Set(sb.state.contacts(sb.agentIds[0]!).map((c) => c.external_id));
          const r = await runCli(['contacts', 'sync', '-', '--shard', `${i}/${n}`, '--json'], createTestCtx({ stdin: csv, dispatcher: agent, env }));
          expect(r.exitCode, r.stdout + r.stderr).toBe(0);
          const s = r.json();
          const added = sb.state.contacts(sb.agentIds[0]!).map((c) => c.external_id).filter((id) => !before.has(id));
          expect(s.synced, `shard ${i}/${n}`).toBe(added.length);
          expect(s.synced + s.otherShards, `shard ${i}/${n}: read ${s.read}`).toBe(ids.length);
          expect(added.sort()).toEqual(ids.filter((id) => shardOf(id, n) === i - 1).sort());
          perShard.push(added);
        }
        const all = perShard.flat();
        expect(all.length, `n=${n}: a row went to two shards`).toBe(new Set(all).size);
        expect(all.sort(), `n=${n}: a row went to no shard`).toEqual([...ids].sort());
        // Same split on a re-run (dry run: nothing new is written).
        for (let i = 1; i <= n; i++) {
          const r = await runCli(['contacts', 'sync', '-', '--shard', `${i}/${n}`, '--dry-run', '--json'], createTestCtx({ stdin: csv, dispatcher: agent, env }));
          expect(r.json().synced, `re-run of shard ${i}/${n}`).toBe(perShard[i - 1]!.length);
        }
      } finally {
        await agent.close();
        await sb.close();
      }
    }
  });
});
