// contacts sync, whole CLI in-process (createTestCtx + runCli) against the real sandbox on
// loopback with a real undici Agent (cli.md §8).
import { copyFile, link, mkdir, mkdtemp, readdir, rm, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Agent } from 'undici';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SANDBOX_DEMO_ATTRIBUTES } from '../../src/commands/contacts/sync.js';
import { type Sandbox, SANDBOX_API_KEY, type SandboxOptions, startSandbox } from '../../src/sandbox/index.js';
import { loadCheckpoint } from '../../src/sync/checkpoint.js';
import { createTestCtx, runCli, type TestCtx } from '../helpers/test-ctx.js';

const EXAMPLE_SOURCE = new URL('../../examples/contacts.csv', import.meta.url).pathname;
/** A copy in each test's directory: a sync writes its checkpoint next to the file. */
const EXAMPLE = 'contacts.csv';

let sb: Sandbox;
let agent: Agent;
let dir: string;

async function start(o: SandboxOptions = {}): Promise<void> {
  sb = await startSandbox({ port: 0, rateLimit: false, attributes: SANDBOX_DEMO_ATTRIBUTES, ...o });
}

/**
 * in.csv (500 rows) synced in batches of 20 until "Ctrl-C" comes as the third write arrives at
 * the server (synchronously, whatever the load).
 */
async function interruptedSync(concurrency: number): Promise<Awaited<ReturnType<typeof runCli>>> {
  const ac = new AbortController();
  let seen = 0;
  await start({ latencyMs: 5, log: (line) => void (/POST/.test(line) && ++seen === 3 && ac.abort(new Error('received SIGINT'))) });
  await writeFile(join(dir, 'in.csv'), `id\n${Array.from({ length: 500 }, (_, i) => `u${i}`).join('\n')}\n`);
  const ctx = ctxFor();
  ctx.signal = ac.signal;
  return runCli(['contacts', 'sync', 'in.csv', '--batch-size', '20', '--concurrency', String(concurrency), '--json'], ctx);
}

function ctxFor(o: { env?: Record<string, string>; stdin?: string | Buffer; stderrTTY?: boolean } = {}): TestCtx {
  return createTestCtx({
    env: { CHATID_PROVIDER: 'chatbase', CHATID_BASE_URL: sb.url, CHATID_API_KEY: SANDBOX_API_KEY, CHATID_AGENT_ID: sb.agentIds[0]!, ...o.env },
    dispatcher: agent,
    cwd: dir,
    ...(o.stdin !== undefined ? { stdin: o.stdin } : {}),
    ...(o.stderrTTY ? { stderrTTY: true } : {}),
  });
}

const writes = (): number => sb.requests.filter((r) => r.method === 'POST').length;
const stored = (id: string) => sb.state.contact(sb.agentIds[0]!, id);

beforeEach(async () => {
  agent = new Agent({ connections: 16 });
  dir = await mkdtemp(join(tmpdir(), 'chatid-sync-'));
  await copyFile(EXAMPLE_SOURCE, join(dir, EXAMPLE));
});
afterEach(async () => {
  await sb?.close();
  await agent.close();
  await rm(dir, { recursive: true, force: true });
});

describe('contacts sync: the example file', () => {
  it('syncs the good rows, reports the bad ones and the duplicate, exits 5 with one JSON document', async () => {
    await start();
    const r = await runCli(['contacts', 'sync', EXAMPLE, '--report', 'rejected.csv', '--json'], ctxFor());
    expect(r.exitCode).toBe(5);
    const j = r.json();
    expect({ read: j.read, synced: j.synced, rejected: j.rejected, duplicates: j.duplicates, batches: j.batches, retries: j.retries }).toEqual({
      read: 9,
      synced: 6,
      rejected: 2,
      duplicates: 1,
      batches: 1,
      retries: 0,
    });
    expect(typeof j.elapsedMs).toBe('number');
    expect(j.rejections.map((x: { row: number; code: string }) => [x.row, x.code])).toEqual([
      [4, 'EMAIL_INVALID'],
      [5, 'ATTR_NUMBER_INVALID'],
    ]);
    expect(sb.state.contacts(sb.agentIds[0]!).length).toBe(6);
    // The later row of user_1003 won; the quoted newline and types survived.
    expect(stored('user_1003')).toMatchObject({ email: 'alan.turing@example.com', custom_attributes: { plan: 'enterprise', seats: 30, trial: false } });
    expect(stored('user_1006'), JSON.stringify(stored('user_1006'))).toMatchObject({ custom_attributes: { plan: 'team\r\n(annual)', seats: 40 }, stripe_accounts: [{ label: 'billing', stripe_id: 'cus_Z9y8X7w6V5' }] });
    expect(stored('user_1002')?.name).toBe('Grace Hopper, RADM');
    expect(stored('user_1005')).toBeUndefined();
    const report = await readFile(join(dir, 'rejected.csv'), 'utf8');
    expect(report.split('\r\n').filter(Boolean).map((l) => l.split(',').slice(0, 4).join(','))).toEqual([
      'row,line,status,code',
      '3,4,duplicate,DUPLICATE',
      '4,5,rejected,EMAIL_INVALID',
      '5,6,rejected,ATTR_NUMBER_INVALID',
    ]);
    expect(report).toContain(",'+1 555 0104,"); // formula-safe
    expect((await stat(join(dir, 'rejected.csv'))).mode & 0o777).toBe(0o600);
  });

  it('--sandbox needs no settings at all and says where the data went', async () => {
    await start(); // unused: the command starts its own
    const ctx = createTestCtx({ dispatcher: agent, cwd: dir });
    const r = await runCli(['contacts', 'sync', EXAMPLE, '--sandbox'], ctx);
    expect(r.exitCode).toBe(5);
    expect(r.stdout).toContain('Synced 6 of 9 rows');
    expect(r.stdout).toMatch(/local sandbox http:\/\/127\.0\.0\.1:\d+/);
    expect(r.stdout).toContain('The sandbox now holds 6 contacts');
    expect(r.stdout).toContain('To sync into a sandbox you can inspect, run `chatid sandbox`');
    expect(r.stderr).toContain('ERR_SYNC_PARTIAL');
    // -q: the results stay, the advice goes.
    const q = await runCli(['contacts', 'sync', EXAMPLE, '--sandbox', '-q'], createTestCtx({ dispatcher: agent, cwd: dir }));
    expect(q.exitCode).toBe(5);
    expect(q.stdout).toContain('The sandbox now holds 6 contacts');
    expect(q.stdout).not.toContain('To sync into a sandbox you can inspect');
    const j = await runCli(['contacts', 'sync', EXAMPLE, '--sandbox', '--json'], createTestCtx({ dispatcher: agent, cwd: dir }));
    expect(j.json().sandbox).toMatchObject({ contacts: 6, agentId: 'sandbox-chatbot' });
  });

  it('--dry-run validates and counts without a single write', async () => {
    await start();
    const r = await runCli(['contacts', 'sync', EXAMPLE, '--dry-run', '--json'], ctxFor());
    expect(r.exitCode).toBe(5);
    expect(r.json()).toMatchObject({ dryRun: true, read: 9, synced: 6, rejected: 2, duplicates: 1, batches: 1 });
    expect(writes()).toBe(0);
    expect(sb.state.contacts(sb.agentIds[0]!).length).toBe(0);
  });

  it('reads stdin (-)', async () => {
    await start();
    const r = await runCli(['contacts', 'sync', '-', '--json'], ctxFor({ stdin: await readFile(EXAMPLE_SOURCE) }));
    expect([r.exitCode, r.json().synced, r.json().file]).toEqual([5, 6, 'stdin']);
  });
});

describe('contacts sync: file-level problems stop before any write (exit 2)', () => {
  const cases: Array<[string, string | Buffer, string]> = [
    ['an empty file', '', 'ERR_SYNC_EMPTY_FILE'],
    ['a lone BOM', '\ufeff', 'ERR_SYNC_EMPTY_FILE'],
    ['no id column', 'name,email\nAda,ada@example.com\n', 'ERR_SYNC_NO_ID_COLUMN'],
    ['a duplicate column', 'id,email,user_id\n1,a@b.co,1\n', 'ERR_SYNC_DUPLICATE_COLUMN'],
    ['an unnamed column', 'id,,email\n1,x,a@b.co\n', 'ERR_SYNC_EMPTY_HEADER'],
    ['invalid UTF-8 late in the file', Buffer.concat([Buffer.from('id,name\n'), Buffer.from('u1,a\n'.repeat(3000)), Buffer.from([0x75, 0x39, 0x2c, 0xe9, 0x0a])]), 'ERR_SYNC_NOT_UTF8'],
    ['an unclosed quote at the end', `id,name\n${'u1,a\n'.repeat(3000)}u2,"never closed\n`, 'ERR_SYNC_CSV_SYNTAX'],
  ];
  it.each(cases)('%s', async (_name, content, code) => {
    await start();
    await writeFile(join(dir, 'in.csv'), content);
    const r = await runCli(['contacts', 'sync', 'in.csv', '--json'], ctxFor());
    expect([r.exitCode, r.json().error.code]).toEqual([2, code]);
    expect(writes()).toBe(0);
    expect(sb.requests.length).toBe(0);
  });
  it('a missing file, bad flags', async () => {
    await start();
    for (const [argv, code] of [
      [['nope.csv'], 'ERR_SYNC_FILE_NOT_FOUND'],
      [[EXAMPLE, '--batch-size', '1001'], 'ERR_USAGE_BAD_VALUE'],
      [[EXAMPLE, '--concurrency', '0'], 'ERR_USAGE_BAD_VALUE'],
      [[EXAMPLE, '--shard', '0/3'], 'ERR_USAGE_BAD_VALUE'],
      [[EXAMPLE, '--sandbox', '--resume'], 'ERR_USAGE_BAD_VALUE'],
    ] as const) {
      const r = await runCli(['contacts', 'sync', ...argv, '--json'], ctxFor());
      expect([r.exitCode, r.json().error.code]).toEqual([2, code]);
    }
    expect(sb.requests.length).toBe(0);
  });
  it('a header-only file syncs nothing and exits 0', async () => {
    await start();
    await writeFile(join(dir, 'in.csv'), 'external_id,email\r\n');
    const r = await runCli(['contacts', 'sync', 'in.csv', '--json'], ctxFor());
    expect([r.exitCode, r.json().read, r.json().synced]).toEqual([0, 0, 0]);
  });
});

describe('contacts sync: rows', () => {
  it('rejects ragged rows and NUL bytes row by row; warns about unknown attributes and columns before writing', async () => {
    await start();
    await writeFile(join(dir, 'in.csv'), 'id,email,attr.plan,attr.color,company\nu1,a@x.io,pro,red,ACME\nu2,b@x.io\nu3,c@x.io,pro,blue,ACME,extra\nu4,d\u0000@x.io,pro,,\nu5,,,,\nu6,f@x.io,,,,,,\n');
    const r = await runCli(['contacts', 'sync', 'in.csv', '--report', 'r.csv', '--json'], ctxFor());
    expect(r.exitCode).toBe(5);
    expect(r.json()).toMatchObject({ read: 6, synced: 3, rejected: 3, duplicates: 0, unknownAttributes: ['color'], ignoredColumns: ['company'] });
    expect(r.json().rejections.map((x: { code: string }) => x.code)).toEqual(['ROW_RAGGED', 'ROW_RAGGED', 'NUL_BYTE']);
    expect(r.stderr).toMatch(/warning: Attribute "color" is not in the vendor's schema/);
    expect(r.stderr).toMatch(/warning: Column "company" is not a contact field/);
    expect(stored('u1')?.custom_attributes).toEqual({ plan: 'pro' });
  });

  it('isolates rows the vendor refuses (409 email in use) and delivers the rest of the batch', async () => {
    await start();
    const rows = Array.from({ length: 40 }, (_, i) => `u${i},${i === 17 ? 'u3' : `u${i}`}@x.io`);
    await writeFile(join(dir, 'in.csv'), `id,email\n${rows.join('\n')}\n`);
    const r = await runCli(['contacts', 'sync', 'in.csv', '--report', 'r.csv', '--json'], ctxFor());
    expect(r.exitCode).toBe(5);
    expect(r.json()).toMatchObject({ read: 40, synced: 39, rejected: 1, batches: 1 });
    expect(r.json().rejections).toEqual([expect.objectContaining({ row: 18, externalId: 'u17', code: 'VENDOR_CONFLICT' })]);
    expect(sb.state.contacts(sb.agentIds[0]!).length).toBe(39);
  });

  it('exits 4 when the key is rejected, with nothing written', async () => {
    await start();
    const r = await runCli(['contacts', 'sync', EXAMPLE, '--json'], ctxFor({ env: { CHATID_API_KEY: 'sk_wrong' } }));
    expect([r.exitCode, r.json().error.code]).toEqual([4, 'ERR_VENDOR_AUTH']);
    await expect(stat(join(dir, `${EXAMPLE}.chatid-checkpoint.json`))).rejects.toThrow(); // nothing done: no checkpoint left
    expect(sb.state.contacts(sb.agentIds[0]!).length).toBe(0);
  });

  it('--shard i/n splits the rows so every row lands in exactly one shard', async () => {
    let posts = 0;
    let failAfter = Infinity;
    await start({ log: (line) => void (line.startsWith('POST') && ++posts >= failAfter && sb.setFaults({ faultRate: 1, faults: ['500'] })) });
    const rows = Array.from({ length: 300 }, (_, i) => `user_${i},u${i}@x.io`);
    await writeFile(join(dir, 'in.csv'), `id,email\n${rows.join('\n')}\n`);
    const parts = [];
    for (const s of ['1/3', '2/3', '3/3']) {
      const r = await runCli(['contacts', 'sync', 'in.csv', '--shard', s, '--batch-size', '50', '--json'], ctxFor());
      expect(r.exitCode).toBe(0);
      parts.push(r.json());
    }
    expect(parts.reduce((n, p) => n + p.read, 0)).toBe(300);
    for (const p of parts) {
      expect(p.read + p.otherShards).toBe(300);
      expect(p.read).toBeGreaterThan(60);
    }
    expect(sb.state.contacts(sb.agentIds[0]!).length).toBe(300);
    // Each shard keeps its own checkpoint, so parallel jobs never share one.
    failAfter = posts + 2; // two batches go through, then the server fails
    const failed = await runCli(['contacts', 'sync', 'in.csv', '--shard', '2/3', '--batch-size', '10', '--concurrency', '1', '--max-retries', '0', '--json'], ctxFor());
    expect(failed.exitCode).toBe(1);
    expect((await loadCheckpoint(join(dir, 'in.csv.shard-2-of-3.chatid-checkpoint.json')))!).toMatchObject({ shard: '2/3', doneBelow: 2 });
    failAfter = Infinity;
    sb.setFaults({ faultRate: 0 });
    // Stable: the same shard again takes the same rows.
    const again = await runCli(['contacts', 'sync', 'in.csv', '--shard', '2/3', '--json'], ctxFor());
    expect(again.json().read).toBe(parts[1].read);
  });

  it('stops on a failure that outlasts the retries, keeps the checkpoint, and --resume finishes with nothing lost or reported twice', async () => {
    await start({ faultRate: 0.35, faults: ['500'], seed: 3 });
    const rows = Array.from({ length: 1000 }, (_, i) => (i % 97 === 5 ? `u${i},bad-email` : `u${i},u${i}@x.io`));
    await writeFile(join(dir, 'in.csv'), `id,email\n${rows.join('\n')}\n`);
    const argv = ['contacts', 'sync', 'in.csv', '--batch-size', '50', '--concurrency', '3', '--max-retries', '0', '--report', 'r.csv', '--json'];
    const first = await runCli(argv, ctxFor());
    expect([first.exitCode, first.json().error.code]).toEqual([1, 'ERR_VENDOR_SERVER']);
    expect(first.json().error.hint).toContain('--resume');
    expect(first.json().error.progress).toMatchObject({ total: 1000 });
    const cp = (await loadCheckpoint(join(dir, 'in.csv.chatid-checkpoint.json')))!;
    expect((await stat(join(dir, 'in.csv.chatid-checkpoint.json'))).mode & 0o777).toBe(0o600);
    sb.setFaults({ faultRate: 0 });
    const second = await runCli([...argv, '--resume'], ctxFor());
    expect(second.exitCode).toBe(5);
    const j = second.json();
    expect(j).toMatchObject({ read: 1000, synced: 989, rejected: 11, duplicates: 0, resumed: true });
    expect(j.skippedBatches).toBe(cp.doneBelow + cp.doneAbove.length);
    expect(sb.state.contacts(sb.agentIds[0]!).length).toBe(989);
    const lines = (await readFile(join(dir, 'r.csv'), 'utf8')).split('\r\n').filter(Boolean);
    expect(lines.length).toBe(1 + 11);
    expect(new Set(lines).size).toBe(lines.length);
    await expect(stat(join(dir, 'in.csv.chatid-checkpoint.json'))).rejects.toThrow(); // removed once complete
  });

  it('--resume refuses a changed file', async () => {
    await start({ faultRate: 0.5, faults: ['500'], seed: 3 });
    await writeFile(join(dir, 'in.csv'), `id\n${Array.from({ length: 40 }, (_, i) => `u${i}`).join('\n')}\n`);
    const first = await runCli(['contacts', 'sync', 'in.csv', '--max-retries', '0', '--batch-size', '2', '--concurrency', '1', '--json'], ctxFor());
    expect(first.exitCode).toBe(1);
    expect((await loadCheckpoint(join(dir, 'in.csv.chatid-checkpoint.json')))!.doneBelow).toBeGreaterThan(0);
    await writeFile(join(dir, 'in.csv'), 'id\nother\n');
    const r = await runCli(['contacts', 'sync', 'in.csv', '--resume', '--json'], ctxFor());
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_SYNC_RESUME_MISMATCH']);
    expect(r.json().error.message).toContain('the input file changed');
  });

  it('--resume from stdin refuses other data, saying it is stdin that differs', async () => {
    await start({ faultRate: 0.5, faults: ['500'], seed: 3 });
    const csv = `id\n${Array.from({ length: 40 }, (_, i) => `u${i}`).join('\n')}\n`;
    const first = await runCli(['contacts', 'sync', '-', '--max-retries', '0', '--batch-size', '2', '--concurrency', '1', '--json'], ctxFor({ stdin: csv }));
    expect(first.exitCode).toBe(1);
    const r = await runCli(['contacts', 'sync', '-', '--resume', '--json'], ctxFor({ stdin: 'id\nother\n' }));
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_SYNC_RESUME_MISMATCH']);
    expect(r.json().error.message).toContain(`the CSV on stdin is not the one that run read (${Buffer.byteLength('id\nother\n')} bytes now, ${Buffer.byteLength(csv)} then)`);
  });
});

describe('contacts sync: terminal and interruption', () => {
  it('draws a progress bar on stderr only when it is a TTY; stdout stays the one JSON document', async () => {
    await start();
    const rows = Array.from({ length: 300 }, (_, i) => `u${i}`);
    await writeFile(join(dir, 'in.csv'), `id\n${rows.join('\n')}\n`);
    const tty = await runCli(['contacts', 'sync', 'in.csv', '--batch-size', '50', '--json'], ctxFor({ stderrTTY: true }));
    expect(tty.exitCode).toBe(0);
    expect(tty.stderr).toMatch(/\d+\/300 rows/);
    expect(tty.json().synced).toBe(300);
    const pipe = await runCli(['contacts', 'sync', 'in.csv', '--batch-size', '50', '--json'], ctxFor());
    expect(pipe.stderr).not.toMatch(/rows/);
  });

  it('--verbose at a TTY: no progress bar, whose redraws the per-request lines would be glued to', async () => {
    await start();
    const rows = Array.from({ length: 300 }, (_, i) => `u${i}`);
    await writeFile(join(dir, 'in.csv'), `id\n${rows.join('\n')}\n`);
    const r = await runCli(['contacts', 'sync', 'in.csv', '--batch-size', '50', '--verbose'], ctxFor({ stderrTTY: true, env: { NO_COLOR: '1' } }));
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/^\[verbose\] POST \S+ → 200$/m);
    expect(r.stderr).not.toMatch(/\d+\/300 rows/);
    // Every verbose line starts a line of its own.
    expect(r.stderr).not.toMatch(/[^\n]\[verbose\]/);
  });

  it('Ctrl-C while the CSV still arrives on stdin: exit 130 at once, and no spooled copy of it left in TMPDIR', async () => {
    await start();
    const spool = join(dir, 'tmp');
    await mkdir(spool);
    vi.stubEnv('TMPDIR', spool);
    try {
      const stdin = new PassThrough();
      stdin.write('id,email\nu1,u1@x.io\n');
      const ac = new AbortController();
      const ctx = createTestCtx({ env: { CHATID_PROVIDER: 'chatbase', CHATID_BASE_URL: sb.url, CHATID_API_KEY: SANDBOX_API_KEY, CHATID_AGENT_ID: sb.agentIds[0]! }, dispatcher: agent, cwd: dir, stdin });
      ctx.signal = ac.signal;
      const running = runCli(['contacts', 'sync', '-', '--json'], ctx);
      // The spool file exists once the first rows have been written to it.
      while ((await readdir(spool)).length === 0) await new Promise((r) => setTimeout(r, 5));
      ac.abort(new Error('received SIGINT'));
      const r = await running;
      expect([r.exitCode, r.json().error.code]).toEqual([130, 'ERR_CANCELLED']);
      expect(await readdir(spool)).toEqual([]);
      expect(writes()).toBe(0);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('--resume at a TTY: the bar starts at the rows done before, not at 0 (its speed and time left came from that jump)', async () => {
    const first = await interruptedSync(1);
    expect(first.exitCode).toBe(130);
    const done = (await loadCheckpoint(join(dir, 'in.csv.chatid-checkpoint.json')))!.counts.read;
    expect(done).toBeGreaterThan(0);
    const again = await runCli(['contacts', 'sync', 'in.csv', '--batch-size', '20', '--concurrency', '1', '--resume', '--json'], ctxFor({ stderrTTY: true, env: { NO_COLOR: '1' } }));
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toContain(`| ${done}/500 rows`);
    expect(again.stderr).not.toContain('| 0/500 rows');
  });

  it('Ctrl-C stops cleanly (exit 130), keeps the checkpoint, and --resume completes', async () => {
    const r = await interruptedSync(2);
    expect([r.exitCode, r.json().error.code]).toEqual([130, 'ERR_CANCELLED']);
    expect(r.json().error.hint).toContain('--resume');
    const cp = (await loadCheckpoint(join(dir, 'in.csv.chatid-checkpoint.json')))!;
    expect(cp.counts.synced).toBeGreaterThan(0);
    expect(cp.counts.synced).toBeLessThan(500);
    const again = await runCli(['contacts', 'sync', 'in.csv', '--batch-size', '20', '--concurrency', '2', '--resume', '--json'], ctxFor());
    expect([again.exitCode, again.json().read, again.json().synced]).toEqual([0, 500, 500]);
    expect(sb.state.contacts(sb.agentIds[0]!).length).toBe(500);
  });

  it('works the same against the Bookbag flavour (409 without issues is bisected)', async () => {
    sb = await startSandbox({ port: 0, rateLimit: false, provider: 'bookbag', attributes: SANDBOX_DEMO_ATTRIBUTES });
    const rows = Array.from({ length: 30 }, (_, i) => `u${i},${i === 21 ? 'u2' : `u${i}`}@x.io,${i}`);
    await writeFile(join(dir, 'in.csv'), `id,email,attr.seats\n${rows.join('\n')}\n`);
    const r = await runCli(['contacts', 'sync', 'in.csv', '--json'], ctxFor({ env: { CHATID_PROVIDER: 'bookbag' } }));
    expect(r.exitCode).toBe(5);
    expect(r.json()).toMatchObject({ read: 30, synced: 29, rejected: 1 });
    expect(r.json().rejections[0]).toMatchObject({ externalId: 'u21', code: 'VENDOR_CONFLICT' });
    expect(sb.state.contact(sb.agentIds[0]!, 'u5')?.custom_attributes).toEqual({ seats: 5 });
  });
});

describe('contacts sync: guards', () => {
  it('a dry run of a file without attribute columns needs no credentials at all', async () => {
    await start();
    await writeFile(join(dir, 'in.csv'), 'id,email\nu1,a@x.io\nu2,bad\n');
    const r = await runCli(['contacts', 'sync', 'in.csv', '--dry-run', '--json'], createTestCtx({ cwd: dir }));
    expect([r.exitCode, r.json().synced, r.json().rejected]).toEqual([5, 1, 1]);
  });
  it('takes the target from --provider/--agent-id/--base-url like the other vendor commands', async () => {
    await start({ provider: 'bookbag' });
    await writeFile(join(dir, 'in.csv'), 'id,email\nu1,a@x.io\n');
    const ctx = createTestCtx({ env: { CHATID_API_KEY: SANDBOX_API_KEY }, dispatcher: agent, cwd: dir });
    const r = await runCli(['contacts', 'sync', 'in.csv', '--provider', 'bookbag', '--agent-id', sb.agentIds[0]!, '--base-url', sb.url, '--json'], ctx);
    expect([r.exitCode, r.json().synced, r.json().target.provider]).toEqual([0, 1, 'bookbag']);
  });
  it('refuses a --report or --checkpoint that would overwrite the input', async () => {
    await start();
    await writeFile(join(dir, 'in.csv'), 'id\nu1\n');
    for (const flag of ['--report', '--checkpoint']) {
      const r = await runCli(['contacts', 'sync', 'in.csv', flag, 'in.csv', '--json'], ctxFor());
      expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_USAGE_BAD_VALUE']);
    }
    expect(await readFile(join(dir, 'in.csv'), 'utf8')).toBe('id\nu1\n');
  });
  it('refuses a --report or --checkpoint that reaches the input through a symlink or a hard link', async () => {
    await start();
    await writeFile(join(dir, 'in.csv'), 'id\nu1\n');
    await symlink('in.csv', join(dir, 'soft.csv'));
    await link(join(dir, 'in.csv'), join(dir, 'hard.csv'));
    for (const flag of ['--report', '--checkpoint']) {
      for (const other of ['soft.csv', 'hard.csv', './in.csv']) {
        const r = await runCli(['contacts', 'sync', 'in.csv', flag, other, '--json'], ctxFor());
        expect([flag, other, r.exitCode, r.json().error.code]).toEqual([flag, other, 2, 'ERR_USAGE_BAD_VALUE']);
        expect(r.json().error.message).toContain('the input file');
      }
    }
    const both = await runCli(['contacts', 'sync', 'in.csv', '--report', 'r.csv', '--checkpoint', 'r.csv', '--json'], ctxFor());
    expect([both.exitCode, both.json().error.message]).toEqual([2, '--checkpoint names the report file; it would be overwritten.']);
    expect(await readFile(join(dir, 'in.csv'), 'utf8')).toBe('id\nu1\n');
    expect(writes()).toBe(0);
  });
  it('a checkpoint that cannot be written is exit 2 (a bad --checkpoint, as for --report), before any vendor write', async () => {
    await start();
    await writeFile(join(dir, 'in.csv'), 'id\nu1\n');
    const cp = join(dir, 'missing-dir', 'cp.json');
    const r = await runCli(['contacts', 'sync', 'in.csv', '--checkpoint', cp, '--json'], ctxFor());
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_SYNC_CHECKPOINT_WRITE']);
    expect(r.json().error.message).toBe(`Cannot create the checkpoint's lock ${cp}.lock: no such directory, or one that cannot hold files. No contact was sent.`);
    expect(writes()).toBe(0);
  });
  it('a --checkpoint that names a directory is exit 2 saying so, before any vendor write', async () => {
    await start();
    await writeFile(join(dir, 'in.csv'), 'id\nu1\n');
    for (const resume of [[], ['--resume']]) {
      const r = await runCli(['contacts', 'sync', 'in.csv', '--checkpoint', dir, ...resume, '--json'], ctxFor());
      expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_SYNC_CHECKPOINT_READ']);
      expect(r.json().error.message).toBe(`Cannot read the checkpoint ${dir}: it is a directory.`);
      expect(r.json().error.hint).toContain('--checkpoint');
    }
    expect(writes()).toBe(0);
  });
  it('names UTF-16 files', async () => {
    await start();
    await writeFile(join(dir, 'in.csv'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id\r\nu1\r\n', 'utf16le')]));
    const r = await runCli(['contacts', 'sync', 'in.csv', '--json'], ctxFor());
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_SYNC_NOT_UTF8']);
    expect(r.json().error.message).toContain('UTF-16');
  });
});
