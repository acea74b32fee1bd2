import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { chmod, type FileHandle, mkdtemp, open, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { VendorError } from '../cli/errors.js';
import type { ContactInput, ContactsApi } from '../vendors/types.js';
import { type ProcessProbe, realProbe } from '../store/process-lock.js';
import { type Checkpoint, CHECKPOINT_VERSION, type CheckpointLock, checkpointWriter, DoneSet, loadCheckpoint, lockCheckpoint, removeCheckpoint, writeFileAtomic } from './checkpoint.js';
import { coerceAttribute, schemaOf, toContact } from './coerce.js';
import { mapHeader, type ColumnMap } from './columns.js';
import { DuplicateIndex, HashCollector, idHash } from './dedupe.js';
import { deliverBatch } from './deliver.js';
import { csvField, csvLine, formulaSafe, openReport, reportLine, reportTargetProblem } from './report.js';
import { fnv1a32, parseShard, shardOf } from './shard.js';

const dirs: string[] = [];
async function tempDir(prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('shard', () => {
  it('hashes with FNV-1a 32 over UTF-8 (published vectors)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    expect(fnv1a32('é')).toBe(fnv1a32('\u00e9'));
  });
  it('parses 1-based i/n and refuses the rest', () => {
    expect(parseShard('1/3')).toEqual({ index: 0, count: 3 });
    expect(parseShard('3/3')).toEqual({ index: 2, count: 3 });
    for (const bad of ['0/3', '4/3', '1/0', 'a/b', '1', '1/2000', '-1/2', '']) expect(parseShard(bad)).toBeUndefined();
  });
  it('puts every id in exactly one shard, the same on every call', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 64 }), (id, n) => {
        const s = shardOf(id, n);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThan(n);
        expect(shardOf(id, n)).toBe(s);
      }),
    );
    expect(shardOf('user_123', 4)).toBe(fnv1a32('user_123') % 4);
  });
  it('spreads ids evenly', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 10_000; i++) counts[shardOf(`user_${i}`, 4)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(2_000);
  });
});

describe('mapHeader', () => {
  it('maps aliases, attributes and ignored columns', () => {
    const r = mapHeader(['User_ID', ' Email ', 'phone', 'attr.plan', 'custom_attributes.seats', 'company', 'stripe_id', 'stripe_label']);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.map.externalId).toBe(0);
    expect(r.map.fields).toEqual({ email: 1, phonenumber: 2, stripe_id: 6, stripe_label: 7 });
    expect(r.map.attributes.map((a) => [a.name, a.index])).toEqual([
      ['plan', 3],
      ['seats', 4],
    ]);
    expect(r.map.ignored).toEqual([{ header: 'company', index: 5 }]);
  });
  it('reads "External ID", "Phone Number" and "external-id" as the standard columns', () => {
    const r = mapHeader(['External ID', 'Phone Number', 'E-mail', 'Company']);
    expect(r.ok && [r.map.externalId, r.map.fields, r.map.ignored.map((c) => c.header)]).toEqual([0, { phonenumber: 1, email: 2 }, ['Company']]);
    const r2 = mapHeader(['external-id']);
    expect(r2.ok && r2.map.externalId).toBe(0);
  });
  it.each([
    [['name', 'email'], 'ERR_SYNC_NO_ID_COLUMN'],
    [['id', 'user_id'], 'ERR_SYNC_DUPLICATE_COLUMN'],
    [['id', 'email', 'EMAIL'], 'ERR_SYNC_DUPLICATE_COLUMN'],
    [['id', 'attr.plan', 'custom_attributes.plan'], 'ERR_SYNC_DUPLICATE_COLUMN'],
    [['id', '', 'email'], 'ERR_SYNC_EMPTY_HEADER'],
    [['id', 'attr.2fast'], 'ERR_SYNC_BAD_ATTRIBUTE_COLUMN'],
  ])('refuses %j with %s', (header, code) => {
    const r = mapHeader(header);
    expect(r.ok ? 'ok' : r.problem.code).toBe(code);
  });
});

describe('coercion', () => {
  const map = (mapHeader(['id', 'name', 'email', 'phone', 'attr.seats', 'attr.trial', 'attr.since', 'attr.plan', 'attr.old', 'attr.unknown', 'stripe_id', 'stripe_label']) as { map: ColumnMap }).map;
  const schema = schemaOf([
    { name: 'seats', type: 'number' },
    { name: 'trial', type: 'boolean' },
    { name: 'since', type: 'date' },
    { name: 'plan', type: 'text' },
    { name: 'old', type: 'text', archived: true },
  ]);
  const row = (o: Partial<Record<'id' | 'name' | 'email' | 'phone' | 'seats' | 'trial' | 'since' | 'plan' | 'old' | 'unknown' | 'sid' | 'slabel', string>>): string[] => [
    o.id ?? 'u1',
    o.name ?? '',
    o.email ?? '',
    o.phone ?? '',
    o.seats ?? '',
    o.trial ?? '',
    o.since ?? '',
    o.plan ?? '',
    o.old ?? '',
    o.unknown ?? '',
    o.sid ?? '',
    o.slabel ?? '',
  ];
  it('omits empty cells, sends null for "null", coerces types, drops unknown attributes', () => {
    expect(toContact(row({ name: 'Ada', email: 'null', seats: ' 12 ', trial: 'TRUE', since: '2024-05-31', plan: 'pro', old: 'null', unknown: 'x' }), map, schema)).toEqual({
      ok: true,
      contact: {
        external_id: 'u1',
        name: 'Ada',
        email: null,
        custom_attributes: { seats: 12, trial: true, since: '2024-05-31T00:00:00.000Z', plan: 'pro', old: null },
      },
    });
    expect(toContact(row({}), map, schema)).toEqual({ ok: true, contact: { external_id: 'u1' } });
    expect(toContact(row({ sid: 'cus_1' }), map, schema)).toEqual({ ok: true, contact: { external_id: 'u1', stripe_accounts: [{ label: 'default', stripe_id: 'cus_1' }] } });
    expect(toContact(row({ sid: 'null' }), map, schema)).toEqual({ ok: true, contact: { external_id: 'u1', stripe_accounts: null } });
  });
  it.each([
    [{ id: '' }, 'ID_MISSING'],
    [{ id: ' u1' }, 'ID_WHITESPACE'],
    [{ id: 'null' }, 'ID_INVALID'],
    [{ id: 'a\nb' }, 'ID_INVALID'],
    // TAB too, as --batch ids refuse it: a TSV cell pasted into the id column.
    [{ id: 'a\tb' }, 'ID_INVALID'],
    // A dot segment: contacts get/delete (and the vendor's /contacts/{id}) could never reach it.
    [{ id: '.' }, 'ID_INVALID'],
    [{ id: '..' }, 'ID_INVALID'],
    [{ id: 'x'.repeat(257) }, 'ID_TOO_LONG'],
    [{ email: 'bob@' }, 'EMAIL_INVALID'],
    [{ email: 'a b@c.de' }, 'EMAIL_INVALID'],
    [{ phone: 'call me' }, 'PHONE_INVALID'],
    [{ seats: '1,5' }, 'ATTR_NUMBER_INVALID'],
    [{ seats: 'five' }, 'ATTR_NUMBER_INVALID'],
    [{ trial: 'yes' }, 'ATTR_BOOLEAN_INVALID'],
    [{ since: 'someday' }, 'ATTR_DATE_INVALID'],
    [{ since: '1717113600' }, 'ATTR_DATE_INVALID'],
    [{ old: 'x' }, 'ATTR_ARCHIVED'],
    [{ slabel: 'main' }, 'STRIPE_ID_MISSING'],
    [{ name: 'a\u0000b' }, 'NUL_BYTE'],
  ])('rejects %j with %s', (o, code) => {
    const r = toContact(row(o), map, schema);
    expect(r.ok ? 'ok' : r.code).toBe(code);
  });
  it('coerces attribute values', () => {
    expect(coerceAttribute('-1.5e3', 'number')).toEqual({ ok: true, value: -1500 });
    expect(coerceAttribute('9007199254740991', 'number')).toEqual({ ok: true, value: 9007199254740991 });
    expect(coerceAttribute('99999999999999999999', 'number')).toMatchObject({ ok: false, code: 'ATTR_NUMBER_INVALID', message: expect.stringContaining('too large to keep exactly') });
    expect(coerceAttribute('1e20', 'number')).toEqual({ ok: true, value: 1e20 }); // written as a float: taken as one
    expect(coerceAttribute('2024-02-29', 'date')).toEqual({ ok: true, value: '2024-02-29T00:00:00.000Z' });
    expect(coerceAttribute('2024-12-31T23:59:59Z', 'date')).toEqual({ ok: true, value: '2024-12-31T23:59:59.000Z' });
    for (const bad of ['2024-02-30', '2023-02-29', '2024-04-31', '2024-04-31T10:00:00Z', '2000-13-01']) {
      expect(coerceAttribute(bad, 'date'), bad).toMatchObject({ ok: false, code: 'ATTR_DATE_INVALID' });
    }
    expect(coerceAttribute('2024-02-30', 'date')).toMatchObject({ message: '"2024-02-30" is not a day of the calendar (2024-02 has no day 30).' });
    // Other forms Date reads: ambiguous, in the machine's time zone, or made from garbage.
    for (const bad of ['2024/02/30', '2024/05/31', '05/31/2024', '30 Feb 2024', 'May 31 2024', 'Fri, 31 May 2024 12:00:00 GMT', '1 2 3', 'x 5', '2024', '2024-5-3', '2024-05-31T12', '-000000-01-01']) {
      expect(coerceAttribute(bad, 'date'), bad).toMatchObject({ ok: false, code: 'ATTR_DATE_INVALID', message: expect.stringContaining('is not an ISO 8601 date') });
    }
    for (const bad of ['2024-05-31T12:00', '2024-05-31 12:00:00', '2024-05-31T12:00:00.5']) {
      expect(coerceAttribute(bad, 'date'), bad).toMatchObject({ ok: false, code: 'ATTR_DATE_INVALID', message: expect.stringContaining('has a time but no time zone') });
    }
    for (const bad of ['2024-05-31T25:00Z', '2024-05-31T12:60Z', '2024-05-31T12:00+25:00']) {
      expect(coerceAttribute(bad, 'date'), bad).toMatchObject({ ok: false, code: 'ATTR_DATE_INVALID', message: expect.stringContaining('is not a date') });
    }
    expect(coerceAttribute('2024-05', 'date')).toEqual({ ok: true, value: '2024-05-01T00:00:00.000Z' });
    expect(coerceAttribute(' 2024-05-31 12:00:00.123456Z ', 'date')).toEqual({ ok: true, value: '2024-05-31T12:00:00.123Z' });
    expect(coerceAttribute('2024-05-31T12:00+0200', 'date')).toEqual({ ok: true, value: '2024-05-31T10:00:00.000Z' });
    expect(coerceAttribute('2024-05-31T24:00Z', 'date')).toEqual({ ok: true, value: '2024-06-01T00:00:00.000Z' });
    expect(coerceAttribute('+002024-05-31', 'date')).toEqual({ ok: true, value: '2024-05-31T00:00:00.000Z' });
    expect(coerceAttribute('0', 'boolean')).toEqual({ ok: true, value: false });
    expect(coerceAttribute('2024-01-02T03:04:05+02:00', 'date')).toEqual({ ok: true, value: '2024-01-02T01:04:05.000Z' });
    expect(coerceAttribute(' keep spaces ', 'text')).toEqual({ ok: true, value: ' keep spaces ' });
    expect(coerceAttribute('Infinity', 'number').ok).toBe(false);
    expect(coerceAttribute('0x10', 'number').ok).toBe(false);
  });
});

describe('report', () => {
  it('makes cells formula-safe and quotes per RFC 4180', () => {
    for (const c of ['=1+1', '+1 555', '-5', '@SUM(A1)', '\tx', '\rx']) expect(formulaSafe(c)).toBe(`'${c}`);
    expect(formulaSafe('a=b')).toBe('a=b');
    expect(csvField('a "b", c')).toBe('"a ""b"", c"');
    expect(csvLine(['=HYPERLINK("http://x")', 'ok'])).toBe('"\'=HYPERLINK(""http://x"")",ok\r\n');
    expect(reportLine({ row: 3, line: 4, status: 'rejected', code: 'EMAIL_INVALID', message: 'bad', cells: ['u1', 'a\nb'] })).toBe('3,4,rejected,EMAIL_INVALID,bad,u1,"a\nb"\r\n');
  });
  it('is 0600 and resumes by cutting back to the acknowledged length', async () => {
    const dir = await tempDir('chatid-report-');
    const path = join(dir, 'r.csv');
    const r = await openReport(path, ['id']);
    await r.append('1,1,rejected,X,m,a\r\n');
    const acknowledged = r.bytes;
    await r.append('2,2,rejected,X,m,b\r\n'); // written after the last checkpoint
    await r.close();
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const again = await openReport(path, ['id'], acknowledged);
    await again.append('2,2,rejected,X,m,b\r\n');
    await again.close();
    expect(await readFile(path, 'utf8')).toBe('row,line,status,code,message,id\r\n1,1,rejected,X,m,a\r\n2,2,rejected,X,m,b\r\n');
  });
  it('refuses a target that is no file of its own, before anything opens (or chmods) it', async () => {
    const dir = await tempDir('chatid-report-');
    expect(await reportTargetProblem(join(dir, 'new.csv'))).toBeUndefined();
    await writeFile(join(dir, 'old.csv'), 'x');
    expect(await reportTargetProblem(join(dir, 'old.csv'))).toBeUndefined();
    // A pipe or device (/dev/null, /dev/stdout at a terminal): chmod 0600 would change it for everyone.
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', ['-m', '644', fifo]);
    expect(await reportTargetProblem(fifo)).toMatch(/^it is not a regular file/);
    expect((await stat(fifo)).mode & 0o777).toBe(0o644);
    // The file this process's output goes to (/dev/stdout redirected to a file, or the same path).
    const out = await open(join(dir, 'out.txt'), 'w');
    try {
      expect(await reportTargetProblem(join(dir, 'out.txt'), [out.fd])).toMatch(/^it is the file this command's stdout goes to/);
    } finally {
      await out.close();
    }
  });
});

describe('checkpoint', () => {
  it('tracks done batches as a watermark plus out-of-order ones', () => {
    const d = new DoneSet();
    d.add(1);
    d.add(3);
    expect([d.below, d.list()]).toEqual([0, [1, 3]]);
    d.add(0);
    expect([d.below, d.list()]).toEqual([2, [3]]);
    d.add(2);
    expect([d.below, d.list(), d.has(3), d.has(4)]).toEqual([4, [], true, false]);
    expect(new DoneSet(2, [2, 5]).below).toBe(3);
  });
  it('writes atomically with 0600 and refuses a damaged file', async () => {
    const dir = await tempDir('chatid-cp-');
    const path = join(dir, 'cp.json');
    await writeFileAtomic(path, `{"version":${CHECKPOINT_VERSION}}`);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await expect(loadCheckpoint(path)).rejects.toMatchObject({ code: 'ERR_SYNC_CHECKPOINT_INVALID', exitCode: 2 });
    // A checkpoint of an older format numbers rows differently: refused, by name.
    await writeFileAtomic(path, '{"version":1,"doneAbove":[],"doneBelow":3,"counts":{}}');
    await expect(loadCheckpoint(path)).rejects.toMatchObject({ code: 'ERR_SYNC_CHECKPOINT_VERSION', exitCode: 2, message: expect.stringContaining('format 1') });
    expect(await loadCheckpoint(join(dir, 'none.json'))).toBeUndefined();
  });
  it('appends each state as a line and reads back the last whole one, a cut-short append ignored', async () => {
    const dir = await tempDir('chatid-cp-');
    const path = join(dir, 'cp.json');
    const state = (doneBelow: number): Checkpoint => ({
      version: CHECKPOINT_VERSION,
      input: { name: 'in.csv', bytes: 10, sha256: 'ab' },
      target: { provider: 'chatbase', baseUrl: 'http://x', agentId: 'a' },
      batchSize: 2,
      shard: null,
      doneBelow,
      doneAbove: [],
      counts: { read: 2 * doneBelow, synced: 2 * doneBelow, rejected: 0, duplicates: 0, batches: doneBelow, requests: doneBelow, retries: 0 },
      report: null,
      updatedAt: 'now',
    });
    const w = checkpointWriter(path, { compactEvery: 3 });
    for (let i = 1; i <= 3; i++) await w.save(state(i));
    expect((await readFile(path, 'utf8')).split('\n')).toHaveLength(4); // three lines and the end
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await loadCheckpoint(path)).toEqual(state(3));
    // A kill during an append leaves part of a line: the state before it stands.
    await writeFile(path, '{"version":2,"doneBel', { flag: 'a' });
    expect(await loadCheckpoint(path)).toMatchObject({ doneBelow: 3 });
    // The fourth state starts the file again from one line (compactEvery), the cut line gone.
    await w.save(state(4));
    expect(await readFile(path, 'utf8')).toBe(`${JSON.stringify(state(4))}\n`);
    // A file another run put at the path meanwhile is never appended to.
    await writeFileAtomic(path, 'THEIRS\n');
    await w.save(state(5));
    expect(await readFile(path, 'utf8')).toBe('THEIRS\n');
    await w.close();
    // A damaged line before the last is damage, not a cut-short append.
    await writeFile(path, `${JSON.stringify(state(1))}\n\n{oops\n${JSON.stringify(state(2))}\n`);
    await expect(loadCheckpoint(path)).rejects.toMatchObject({ code: 'ERR_SYNC_CHECKPOINT_INVALID', message: expect.stringContaining('line 3') });
    // One line without its newline (written by hand) is still read.
    await writeFile(path, JSON.stringify(state(7)));
    expect(await loadCheckpoint(path)).toMatchObject({ doneBelow: 7 });
  });
  it('after a failed append (a full disk), the next state starts a new file instead of following the cut line', async () => {
    const dir = await tempDir('chatid-cp-');
    const path = join(dir, 'cp.json');
    const w = checkpointWriter(path);
    const state = (doneBelow: number) => ({ version: CHECKPOINT_VERSION, doneBelow, doneAbove: [], counts: {} }) as unknown as Checkpoint;
    await w.save(state(1));
    const probe = await open(path, 'r');
    const proto = Object.getPrototypeOf(probe) as { writeFile(this: FileHandle, data: string): Promise<void> };
    await probe.close();
    const real = proto.writeFile;
    const spy = vi.spyOn(proto, 'writeFile').mockImplementationOnce(async function (this: FileHandle, data: string) {
      await real.call(this, data.slice(0, 10)); // part of the line reaches the disk
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });
    try {
      await expect(w.save(state(2))).rejects.toMatchObject({ code: 'ERR_SYNC_CHECKPOINT_WRITE', message: expect.stringContaining('no space left') });
      expect(await readFile(path, 'utf8')).toBe(`${JSON.stringify(state(1))}\n${JSON.stringify(state(2)).slice(0, 10)}`);
      await w.save(state(3));
      expect(await readFile(path, 'utf8')).toBe(`${JSON.stringify(state(3))}\n`);
    } finally {
      spy.mockRestore();
      await w.close();
    }
  });
  it('removing it also removes temp files a killed writer left', async () => {
    const dir = await tempDir('chatid-cp-');
    const path = join(dir, 'in.csv.chatid-checkpoint.json');
    await writeFileAtomic(path, '{}');
    await writeFile(`${path}.0123456789ab.tmp`, 'half');
    await writeFile(join(dir, 'keep.tmp'), 'other');
    await removeCheckpoint(path);
    expect((await readdir(dir)).sort()).toEqual(['keep.tmp']);
  });
});

describe('checkpoint lock', () => {
  const now = () => new Date('2026-01-02T03:04:05Z');
  /** A probe of this host where only `live` pids run; `starts` gives their start stamps. */
  const probe = (pid: number, live: number[], starts: Record<number, string> = {}): ProcessProbe => ({
    pid,
    host: 'here',
    alive: (p) => live.includes(p),
    startOf: (p) => starts[p] ?? null,
  });
  // Locks the tests leave held (a run "killed" while holding one) keep a descriptor open in
  // this process: closed after each test, after their files are read.
  const held: CheckpointLock[] = [];
  const lockOf = async (...a: Parameters<typeof lockCheckpoint>): Promise<CheckpointLock> => {
    const l = await lockCheckpoint(...a);
    held.push(l);
    return l;
  };
  afterEach(async () => {
    for (const l of held.splice(0)) await l.release();
  });
  const setUp = async () => {
    const dir = await tempDir('chatid-lock-');
    return { dir, cp: join(dir, 'in.csv.chatid-checkpoint.json') };
  };

  it('one holder at a time: a live holder is named in a refusal (exit 2); released, the next run gets it', async () => {
    const { dir, cp } = await setUp();
    const a = await lockOf(cp, { input: 'in.csv', now, probe: probe(100, [100, 200]) });
    expect((await stat(a.path)).mode & 0o777).toBe(0o600);
    const err = await lockOf(cp, { input: 'in.csv', now, probe: probe(200, [100, 200]) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_SYNC_CHECKPOINT_LOCKED', exitCode: 2, details: { lock: `${cp}.lock`, holder: { pid: 100, host: 'here', input: 'in.csv' } } });
    expect((err as Error).message).toContain('pid 100, syncing in.csv since 2026-01-02T03:04:05.000Z');
    expect((err as { hint: string }).hint).not.toContain('delete'); // a dead holder here is detected: nothing to delete by hand
    await a.release();
    expect(await readdir(dir)).toEqual([]);
    const b = await lockOf(cp, { input: 'in.csv', now, probe: probe(200, [200]) });
    await b.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes over the lock of a dead process, or of a pid now used by another process', async () => {
    const { cp } = await setUp();
    await lockOf(cp, { input: 'in.csv', now, probe: probe(100, [100], { 100: 'boot+5' }) }); // never released: killed
    // Same pid, but started at another time: not the holder any more.
    const reused = await lockOf(cp, { input: 'in.csv', now, probe: probe(300, [100, 300], { 100: 'boot+9', 300: 'x' }) });
    expect(JSON.parse(await readFile(reused.path, 'utf8'))).toMatchObject({ pid: 300 });
    // Holder 300 dies.
    const next = await lockOf(cp, { input: 'in.csv', now, probe: probe(400, [400]) });
    expect(JSON.parse(await readFile(next.path, 'utf8'))).toMatchObject({ pid: 400 });
    // Releasing a lock that was taken over removes nothing of the new holder's.
    await reused.release();
    expect(JSON.parse(await readFile(next.path, 'utf8'))).toMatchObject({ pid: 400 });
  });

  it('never takes over a lock of another host, and says how to clear it', async () => {
    const { cp } = await setUp();
    await lockOf(cp, { input: 'in.csv', now, probe: { ...probe(100, []), host: 'ci-runner-7' } });
    const err = await lockOf(cp, { input: 'in.csv', now, probe: probe(200, [200]) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_SYNC_CHECKPOINT_LOCKED', details: { holder: { host: 'ci-runner-7' } } });
    expect((err as Error).message).toContain('pid 100 on ci-runner-7');
    expect((err as { hint: string }).hint).toContain('If it no longer runs on ci-runner-7 (a replaced container or CI pod has a new host name), run again with --break-lock (and --resume to continue it).');
  });

  it('--break-lock takes over a lock whose holder looks alive or ran elsewhere, once, saying whose', async () => {
    const { cp } = await setUp();
    await lockOf(cp, { input: 'in.csv', now, probe: { ...probe(100, [100]), host: 'ci-runner-7' } });
    const told: string[] = [];
    const l = await lockOf(cp, { input: 'in.csv', now, probe: probe(200, [200]), force: true, onForce: (h) => told.push(h) });
    expect(JSON.parse(await readFile(l.path, 'utf8'))).toMatchObject({ pid: 200 });
    expect(told).toEqual([expect.stringMatching(/^pid 100 on ci-runner-7, syncing in.csv since /)]);
    // The new holder is alive here: a second forced run breaks it too (the user said so) …
    const again = await lockOf(cp, { input: 'in.csv', now, probe: probe(300, [200, 300]), force: true });
    expect(JSON.parse(await readFile(again.path, 'utf8'))).toMatchObject({ pid: 300 });
    // … and the run it broke finds out at its next checkpoint write.
    await expect(l.check()).rejects.toMatchObject({ code: 'ERR_SYNC_CHECKPOINT_LOCK_LOST' });
    // Without it, a live holder is refused, and the hint names --break-lock for another host.
    await lockOf(`${cp}2`, { input: 'in.csv', now, probe: { ...probe(100, [100]), host: 'ci-runner-7' } });
    await expect(lockOf(`${cp}2`, { input: 'in.csv', now, probe: probe(200, [200]) })).rejects.toMatchObject({ code: 'ERR_SYNC_CHECKPOINT_LOCKED', hint: expect.stringContaining('run again with --break-lock (and --resume to continue it)') });
  });

  it('a lock file it cannot read is one being written while recent, debris once old', async () => {
    const { cp } = await setUp();
    await writeFile(`${cp}.lock`, '');
    await expect(lockOf(cp, { input: 'in.csv', now, probe: probe(200, [200]) })).rejects.toMatchObject({ code: 'ERR_SYNC_CHECKPOINT_LOCKED', hint: expect.stringContaining('run again with --break-lock') });
    await utimes(`${cp}.lock`, new Date(0), new Date(0));
    const l = await lockOf(cp, { input: 'in.csv', now, probe: probe(200, [200]) });
    expect(JSON.parse(await readFile(l.path, 'utf8'))).toMatchObject({ pid: 200 });
  });

  it('a dead lock taken over by another run between the look and the take-over is put back, and refused', async () => {
    const { dir, cp } = await setUp();
    await lockOf(cp, { input: 'in.csv', now, probe: probe(100, []) }); // holder 100 dies
    const rival = `${JSON.stringify({ pid: 300, host: 'here', start: null, input: 'in.csv', since: 'then', token: 'rival' })}\n`;
    const racing: ProcessProbe = {
      ...probe(200, [200, 300]),
      alive: (p) => {
        // Run 300 takes the dead lock over just after this run read it, before it moves it aside.
        if (p === 100) writeFileSync(`${cp}.lock`, rival);
        return p === 200 || p === 300;
      },
    };
    const err = await lockOf(cp, { input: 'in.csv', now, probe: racing }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_SYNC_CHECKPOINT_LOCKED', details: { holder: { pid: 300 } } });
    expect(await readFile(`${cp}.lock`, 'utf8')).toBe(rival);
    expect(await readdir(dir)).toEqual(['in.csv.chatid-checkpoint.json.lock']); // nothing moved aside left over
  });

  it('--break-lock breaks only the lock it saw first: a live run that takes the path meanwhile is refused as usual', async () => {
    const { cp } = await setUp();
    await lockOf(cp, { input: 'in.csv', now, probe: probe(100, [100, 300]) });
    const rival = `${JSON.stringify({ pid: 300, host: 'here', start: null, input: 'in.csv', since: 'then', token: 'rival' })}\n`;
    let calls = 0;
    const hooked = () => {
      if (++calls === 3) writeFileSync(`${cp}.lock`, rival); // run 300 takes the path just before this run breaks it
      return now();
    };
    const told: string[] = [];
    const err = await lockOf(cp, { input: 'in.csv', now: hooked, probe: probe(200, [100, 200, 300]), force: true, onForce: (h) => told.push(h) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_SYNC_CHECKPOINT_LOCKED', details: { holder: { pid: 300 } } });
    expect(told).toHaveLength(1); // pid 100's, the one the user meant
    expect(await readFile(`${cp}.lock`, 'utf8')).toBe(rival);
  });

  it('an unreadable dead lock replaced by a new run, empty for the instant it is being written, is not broken', async () => {
    const { dir, cp } = await setUp();
    await writeFile(`${cp}.lock`, ''); // debris of a run killed between creating and writing it
    await utimes(`${cp}.lock`, new Date(0), new Date(0));
    let calls = 0;
    const hooked = () => {
      // Between this run judging the lock dead and taking it over, another run took it over
      // and created its own, not yet written: the same text as the dead one, but a new file.
      if (++calls === 3) {
        rmSync(`${cp}.lock`);
        writeFileSync(`${cp}.lock`, '');
      }
      return now();
    };
    const err = await lockOf(cp, { input: 'in.csv', now: hooked, probe: probe(200, [200]) }).catch((e: unknown) => e);
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(err).toMatchObject({ code: 'ERR_SYNC_CHECKPOINT_LOCKED' });
    expect(await readFile(`${cp}.lock`, 'utf8')).toBe(''); // the other run's lock is still there
    expect(await readdir(dir)).toEqual(['in.csv.chatid-checkpoint.json.lock']);
  });

  it('a dead lock taken over by several runs at once gets exactly one holder, every time', async () => {
    // 200 rounds: the code before the takeover guard gave two holders in 2 of 60 rounds here.
    for (let round = 0; round < 200; round++) {
      const { dir, cp } = await setUp();
      await lockOf(cp, { input: 'in.csv', now, probe: probe(100, []) }); // holder 100 dies
      const pids = [201, 202, 203, 204];
      const tries = await Promise.allSettled(pids.map((pid) => lockOf(cp, { input: 'in.csv', now, probe: probe(pid, pids) })));
      const held = tries.filter((t) => t.status === 'fulfilled');
      expect(held.length, `round ${round}`).toBe(1);
      for (const t of tries) if (t.status === 'rejected') expect(t.reason).toMatchObject({ code: 'ERR_SYNC_CHECKPOINT_LOCKED' });
      // The holder's lock is on disk and its check passes; the guard is gone.
      const lock = (held[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof lockCheckpoint>>>).value;
      await expect(lock.check()).resolves.toBeUndefined();
      expect(await readdir(dir)).toEqual(['in.csv.chatid-checkpoint.json.lock']);
    }
  });

  it("a run whose lock another took over fails its check (and releases nothing of the other's)", async () => {
    const { cp } = await setUp();
    const other = `${JSON.stringify({ pid: 300, host: 'here', start: null, input: 'in.csv', since: 'then', token: 'other' })}\n`;
    // As a take-over does it: the lock removed and a new one created.
    const mine = await lockOf(cp, { input: 'in.csv', now, probe: probe(200, [200]) });
    await rm(`${cp}.lock`);
    await writeFile(`${cp}.lock`, other, { flag: 'wx' });
    await expect(mine.check()).rejects.toMatchObject({ code: 'ERR_SYNC_CHECKPOINT_LOCK_LOST', hint: expect.stringContaining('--resume') });
    await mine.release();
    expect(JSON.parse(await readFile(`${cp}.lock`, 'utf8'))).toMatchObject({ pid: 300 });
    await rm(`${cp}.lock`);
    // Rewritten in place (by hand): the same inode, so its text decides.
    const again = await lockOf(cp, { input: 'in.csv', now, probe: probe(200, [200]) });
    await writeFile(`${cp}.lock`, other);
    await expect(again.check()).rejects.toMatchObject({ code: 'ERR_SYNC_CHECKPOINT_LOCK_LOST' });
    await again.release();
    expect(JSON.parse(await readFile(`${cp}.lock`, 'utf8'))).toMatchObject({ pid: 300 });
  });

  it('a lock whose metadata changed (chmod, a backup tool) is still this run\'s', async () => {
    const { cp } = await setUp();
    const mine = await lockOf(cp, { input: 'in.csv', now, probe: probe(200, [200]) });
    try {
      await new Promise((r) => setTimeout(r, 15)); // past a coarse clock tick
      await chmod(`${cp}.lock`, 0o644);
      await utimes(`${cp}.lock`, new Date(0), new Date(0));
      await expect(mine.check()).resolves.toBeUndefined();
    } finally {
      await mine.release();
    }
    expect(existsSync(`${cp}.lock`)).toBe(false);
  });

  it('the real probe knows this process is alive and a finished one is not', () => {
    expect(realProbe.alive(realProbe.pid)).toBe(true);
    expect(realProbe.alive(2 ** 22 + 12345)).toBe(false); // above Linux's pid_max
  });

  it.runIf(existsSync('/proc/self/stat'))('the real probe counts a killed run nobody has reaped (a zombie) as gone', async () => {
    // `sleep 0` exits at once; its parent, exec'd into `sleep 5`, never waits for it.
    const sh = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = Number((await new Promise<string>((r) => sh.stdout.once('data', (d: Buffer) => r(String(d))))).trim());
      let state = '';
      for (let i = 0; i < 200 && state !== 'Z'; i++) {
        await new Promise((r) => setTimeout(r, 10));
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      }
      expect(state).toBe('Z');
      expect(realProbe.alive(pid)).toBe(false);
    } finally {
      sh.kill();
    }
  });

  it('a lock it cannot create is a usage error (exit 2) that names the path, before any contact is sent', async () => {
    const { dir } = await setUp();
    const cp = join(dir, 'missing', 'cp.json');
    await expect(lockOf(cp, { input: 'in.csv', now, probe: probe(200, [200]) })).rejects.toMatchObject({ code: 'ERR_SYNC_CHECKPOINT_WRITE', exitCode: 2, message: expect.stringContaining(`${cp}.lock`) });
  });
});

describe('duplicates', () => {
  it('finds repeated hashes and lets the last row win, exactly', () => {
    const ids = ['a', 'b', 'a', 'c', 'b', 'a'];
    const h = new HashCollector();
    for (const id of ids) h.push(idHash(id));
    const d = new DuplicateIndex(h.repeated());
    ids.forEach((id, i) => d.isCandidate(id) && d.see(id, i + 1));
    expect(ids.map((id, i) => d.supersededBy(id, i + 1) ?? null)).toEqual([6, 5, 6, null, null, null]);
  });
  it('does not confuse different ids', () => {
    const h = new HashCollector();
    for (let i = 0; i < 50_000; i++) h.push(idHash(`user_${i}`));
    expect(h.repeated().size).toBe(0);
  });
});

/** A vendor that refuses some contacts the way Chatbase does. */
function fakeApi(o: { badEmail?: Set<string>; conflict?: Set<string>; namedIssues?: boolean }): ContactsApi & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    stats: { requests: 0, retries: 0, waitedMs: 0 },
    calls,
    async listAttributes() {
      return [];
    },
    async upsertContacts(cs: readonly ContactInput[]) {
      calls.push(cs.map((c) => c.external_id));
      const bad = cs.flatMap((c, i) => (o.badEmail?.has(c.external_id) ? [{ field: o.namedIssues ? `users.${i}.email` : 'email', message: 'Invalid email' }] : []));
      if (bad.length) throw new VendorError('ERR_VENDOR_REJECTED', 'Invalid request body', { details: { status: 400, vendorMessage: 'Invalid request body', issues: bad } });
      if (cs.some((c) => o.conflict?.has(c.external_id))) throw new VendorError('ERR_VENDOR_REJECTED', 'conflict', { details: { status: 409, vendorMessage: 'Email already in use', issues: [] } });
    },
  };
}

describe('deliverBatch', () => {
  const batch = (n: number): ContactInput[] => Array.from({ length: n }, (_, i) => ({ external_id: `u${i}` }));
  it('drops rows named in issues[] and delivers the rest in one more request', async () => {
    const api = fakeApi({ badEmail: new Set(['u3', 'u7']), namedIssues: true });
    const r = await deliverBatch(api, batch(10));
    expect([...r.refused.keys()].sort()).toEqual([3, 7]);
    expect(r.refused.get(3)).toEqual({ code: 'VENDOR_REJECTED', message: '400 email: Invalid email' });
    expect(r.stored).toEqual([0, 1, 2, 4, 5, 6, 8, 9]);
    expect(api.calls.length).toBe(2);
  });
  it('bisects when nothing names a row (409 or an attribute-level issue)', async () => {
    const api = fakeApi({ conflict: new Set(['u5']) });
    const r = await deliverBatch(api, batch(16));
    expect([...r.refused.entries()]).toEqual([[5, { code: 'VENDOR_CONFLICT', message: '409 Email already in use' }]]);
    expect(r.stored.length).toBe(15);
    expect(api.calls.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(16)) + 1);
    const api2 = fakeApi({ badEmail: new Set(['u0', 'u9']) });
    const r2 = await deliverBatch(api2, batch(10));
    expect([...r2.refused.keys()].sort()).toEqual([0, 9]);
    expect(r2.stored.length).toBe(8);
  });
  it('a 413 (body too large) halves the batch until it fits; a single row still too large is refused alone', async () => {
    const sizes: number[] = [];
    const api: ContactsApi = {
      ...fakeApi({}),
      upsertContacts: async (cs) => {
        sizes.push(cs.length);
        // The vendor takes at most 300 rows' worth of body; row u7 is too large on its own.
        if (cs.length > 300 || cs.some((c) => c.external_id === 'u7')) {
          throw new VendorError('ERR_VENDOR_REJECTED', '413', { details: { status: 413, vendorMessage: 'Request body too large', issues: [] } });
        }
      },
    };
    const r = await deliverBatch(api, batch(1000));
    expect([...r.refused.entries()]).toEqual([[7, { code: 'VENDOR_REJECTED', message: '413 Request body too large' }]]);
    expect(r.stored.length).toBe(999);
    expect(sizes.slice(0, 3)).toEqual([1000, 500, 250]);
  });
  it('stops instead of trying every row when the vendor refuses everything (quota reached)', async () => {
    const calls: number[] = [];
    const api: ContactsApi = {
      ...fakeApi({}),
      upsertContacts: async (cs) => {
        calls.push(cs.length);
        throw new VendorError('ERR_VENDOR_REJECTED', 'quota', { details: { status: 400, vendorMessage: 'Contact quota reached', issues: [] } });
      },
    };
    await expect(deliverBatch(api, batch(1000))).rejects.toMatchObject({ code: 'ERR_SYNC_VENDOR_REFUSES_ALL', exitCode: 1 });
    expect(calls.length).toBeLessThan(110);
  });
  it('lets other errors through (they stop the sync)', async () => {
    const api: ContactsApi = { ...fakeApi({}), upsertContacts: async () => Promise.reject(new VendorError('ERR_VENDOR_SERVER', '500')) };
    await expect(deliverBatch(api, batch(3))).rejects.toMatchObject({ code: 'ERR_VENDOR_SERVER' });
  });
});
