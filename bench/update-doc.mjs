// Copies a saved `npm run bench` output into docs/performance.md between the bench markers:
//   npm run bench | tee bench/results/latest.md && node bench/update-doc.mjs bench/results/latest.md "note"
import { readFileSync, writeFileSync } from 'node:fs';

const [file, note] = process.argv.slice(2);
if (!file) throw new Error('usage: node bench/update-doc.mjs <bench output file> [note on the machine load]');
const doc = new URL('../docs/performance.md', import.meta.url);
const text = readFileSync(doc, 'utf8');
const start = '<!-- bench:start -->';
const end = '<!-- bench:end -->';
const a = text.indexOf(start);
const b = text.indexOf(end);
if (a < 0 || b < a) throw new Error(`docs/performance.md has no ${start} … ${end} block`);
const raw = readFileSync(file, 'utf8');
// Drop npm's own "> chatid@… bench" lines and the build's output before the report.
const from = raw.indexOf('chatid benchmark');
const body = (from >= 0 ? raw.slice(from) : raw).trim();
const block = `${start}\n${note ? `${note}\n\n` : ''}${body}\n${end}`;
writeFileSync(doc, text.slice(0, a) + block + text.slice(b + end.length));
