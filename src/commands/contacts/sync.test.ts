import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { createTestCtx, runCli } from '../../../test/helpers/test-ctx.js';
import { DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY, registerSync, type SyncOptions, type SyncResult } from './sync.js';

async function parse(argv: string[]): Promise<SyncOptions> {
  const ctx = createTestCtx();
  ctx.ui.json = true; // the fake result is not worth a human rendering
  let got: SyncOptions | undefined;
  const program = new Command().exitOverride();
  registerSync(program, ctx, async (o) => {
    got = o;
    return { read: 0, synced: 0, rejected: 0 } as SyncResult;
  });
  await program.parseAsync(['sync', ...argv], { from: 'user' });
  return got!;
}

describe('contacts sync: flags → options', () => {
  it('defaults', async () => {
    expect(await parse(['c.csv'])).toEqual({
      file: 'c.csv',
      dryRun: false,
      batchSize: DEFAULT_BATCH_SIZE,
      concurrency: DEFAULT_CONCURRENCY,
      report: undefined,
      resume: false,
      breakLock: false,
      checkpoint: undefined,
      shard: undefined,
      sandbox: false,
      target: {},
      tuning: {},
    });
  });
  it('every flag', async () => {
    const o = await parse(['-', '--batch-size', '250', '--concurrency', '8', '--report', 'r.csv', '--resume', '--break-lock', '--checkpoint', 'cp.json', '--shard', '2/4', '--max-retries', '3', '--rate-limit', '50/10s', '--provider', 'bookbag', '--agent-id', '7', '--base-url', 'http://127.0.0.1:4010']);
    expect(o).toEqual({
      file: '-',
      dryRun: false,
      batchSize: 250,
      concurrency: 8,
      report: 'r.csv',
      resume: true,
      breakLock: true,
      checkpoint: 'cp.json',
      shard: { index: 1, count: 4 },
      sandbox: false,
      target: { provider: 'bookbag', agentId: '7', baseUrl: 'http://127.0.0.1:4010' },
      tuning: { retry: { maxRetries: 3 }, rateLimit: { limit: 50, windowMs: 10_000 } },
    });
  });
  it.each([['-'], ['']])('--report %j is refused (it made a file named "-")', async (report) => {
    await expect(parse(['c.csv', '--report', report])).rejects.toMatchObject({ code: 'ERR_USAGE_BAD_VALUE', exitCode: 2, message: expect.stringMatching(/^--report needs a file path/) });
  });
  it('--dry-run', async () => {
    expect((await parse(['c.csv', '--dry-run'])).dryRun).toBe(true);
  });
  it('--break-lock needs a checkpoint: refused with --dry-run and --sandbox', async () => {
    await expect(parse(['c.csv', '--dry-run', '--break-lock'])).rejects.toMatchObject({ code: 'ERR_USAGE_BAD_VALUE', message: expect.stringMatching(/^--break-lock cannot be used with --dry-run/) });
    await expect(parse(['c.csv', '--sandbox', '--break-lock'])).rejects.toMatchObject({ code: 'ERR_USAGE_BAD_VALUE', message: expect.stringMatching(/^--break-lock cannot be used with --sandbox/) });
    // --checkpoint was ignored: no checkpoint where the user asked for one.
    await expect(parse(['c.csv', '--sandbox', '--checkpoint', 'cp.json'])).rejects.toMatchObject({ code: 'ERR_USAGE_BAD_VALUE', message: expect.stringMatching(/^--checkpoint cannot be used with --sandbox/) });
  });
  it.each([
    [['--batch-size', '0']],
    [['--batch-size', '1001']],
    [['--batch-size', '1.5']],
    [['--concurrency', '17']],
    [['--shard', '5/4']],
    [['--shard', '1-4']],
    [['--sandbox', '--resume']],
    [['--rate-limit', 'fast']],
    [['--sandbox', '--base-url', 'http://127.0.0.1:1']],
    [['--dry-run', '--resume']],
    [['--dry-run', '--checkpoint', 'cp.json']],
  ])('refuses %j with exit 2', async (flags) => {
    await expect(parse(['c.csv', ...flags])).rejects.toMatchObject({ exitCode: 2 });
  });
});

describe('contacts sync: blank lines and "" rows (dry run, no vendor needed)', () => {
  const csv = 'external_id\nu1\n\n""\nu2\n\n';
  it('--json: the "" row is read and rejected, the blank lines are counted apart', async () => {
    const r = await runCli(['contacts', 'sync', '-', '--dry-run', '--json'], createTestCtx({ stdin: csv, cwd: tmpdir() }));
    expect(r.exitCode, r.stderr).toBe(5);
    expect(r.json()).toMatchObject({ read: 3, synced: 2, rejected: 1, duplicates: 0, blankLines: 2, rejections: [{ row: 2, line: 4, code: 'ID_MISSING' }] });
  });
  it('human: says how many blank lines were skipped', async () => {
    const r = await runCli(['contacts', 'sync', '-', '--dry-run'], createTestCtx({ stdin: csv, cwd: tmpdir() }));
    expect(r.exitCode, r.stderr).toBe(5);
    expect(r.stdout).toContain('Dry run: would sync 2 of 3 rows');
    expect(r.stdout).toMatch(/2 blank lines skipped/);
    expect(r.stdout).toMatch(/row 2 \(line 4\): ID_MISSING/);
  });
});

describe('contacts sync <pipe path> (bash <(gunzip -c big.csv.gz), a named pipe)', () => {
  it('reads it like stdin instead of refusing it as "not a file"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatid-fifo-'));
    const fifo = join(dir, 'in.csv');
    execFileSync('mkfifo', [fifo]);
    // The writer blocks until the sync opens the pipe for reading.
    createWriteStream(fifo).end('external_id,email\nu1,a@x.io\nu2,bad\n');
    const r = await runCli(['contacts', 'sync', fifo, '--dry-run', '--json'], createTestCtx({ cwd: dir }));
    expect(r.exitCode, r.stderr).toBe(5);
    expect(r.json()).toMatchObject({ read: 2, synced: 1, rejected: 1, file: fifo });
  });
});

describe('contacts sync <character device>', () => {
  it('is "not a file" (exit 2), not spooled: /dev/zero or /dev/urandom would fill the temporary directory', async () => {
    const r = await runCli(['contacts', 'sync', '/dev/null', '--dry-run', '--json'], createTestCtx({ cwd: tmpdir() }));
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_SYNC_NOT_A_FILE']);
  });
});

describe('contacts sync - (stdin) when the temporary directory cannot hold it', () => {
  it('names the directory and TMPDIR, exit 1, instead of an internal error', async () => {
    const before = process.env.TMPDIR;
    process.env.TMPDIR = '/nonexistent/chatid-tmp';
    try {
      const r = await runCli(['contacts', 'sync', '-', '--dry-run', '--json'], createTestCtx({ stdin: 'external_id\nu1\n', cwd: tmpdir() }));
      const { error } = r.json();
      expect([r.exitCode, error.code]).toEqual([1, 'ERR_SYNC_STDIN_SPOOL']);
      expect(error.message).toMatch(/^Cannot keep the CSV from stdin in a temporary file under \/nonexistent\/chatid-tmp: ENOENT/);
      expect(error.hint).toContain('Set TMPDIR to a writable directory');
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
    }
  });
});

describe('contacts sync --report that cannot be written', () => {
  it('is exit 2 naming the path and why, before any write', async () => {
    const dir = tmpdir();
    for (const [report, why] of [
      ['/nonexistent/chatid-dir/rejected.csv', 'no such directory, or one that cannot hold files'],
      [dir, 'it is a directory'],
    ] as const) {
      const r = await runCli(['contacts', 'sync', '-', '--dry-run', '--report', report, '--json'], createTestCtx({ stdin: 'external_id\nu1\n', cwd: dir }));
      const { error } = r.json();
      expect([report, r.exitCode, error.code]).toEqual([report, 2, 'ERR_SYNC_REPORT_WRITE']);
      expect(error.message).toBe(`Cannot write the report ${report}: ${why}. No contact was sent.`);
    }
  });
});

describe('contacts sync --report over the checkpoint or its lock', () => {
  it('is refused before anything is read (the lock could not be released, the report then deleted)', async () => {
    const env = { CHATID_PROVIDER: 'chatbase', CHATID_AGENT_ID: 'a1', CHATID_API_KEY: 'k', CHATID_BASE_URL: 'http://127.0.0.1:9' };
    const dir = mkdtempSync(join(tmpdir(), 'chatid-report-'));
    writeFileSync(join(dir, 'in.csv'), 'external_id\nu1\n');
    for (const report of ['in.csv.chatid-checkpoint.json.lock', 'in.csv.chatid-checkpoint.json', 'cp.json.lock']) {
      const extra = report.startsWith('cp.json') ? ['--checkpoint', 'cp.json'] : [];
      const r = await runCli(['contacts', 'sync', 'in.csv', '--report', report, ...extra, '--json'], createTestCtx({ env, cwd: dir }));
      expect([report, r.exitCode, r.json().error.code, r.json().error.message]).toEqual([report, 2, 'ERR_USAGE_BAD_VALUE', expect.stringMatching(/--report names a file of the checkpoint|--checkpoint names the report file/)]);
    }
  });
});

describe('contacts sync --dry-run summary', () => {
  it('with no vendor set, says the file was only checked (not "into  agent  ()")', async () => {
    const r = await runCli(['contacts', 'sync', '-', '--dry-run'], createTestCtx({ stdin: 'external_id\nu1\n', cwd: tmpdir() }));
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('Dry run: would sync 1 of 1 row from stdin (no vendor is set: the file was only checked).');
  });
  it('with a provider but no agent id, says none is set', async () => {
    const r = await runCli(['contacts', 'sync', '-', '--dry-run'], createTestCtx({ env: { CHATID_PROVIDER: 'chatbase' }, stdin: 'external_id\nu1\n', cwd: tmpdir() }));
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('Dry run: would sync 1 of 1 row from stdin into chatbase agent (none set) (https://www.chatbase.co).');
  });
  it.each([
    [{ CHATID_PROVIDER: 'opencx' }, 'ERR_NOT_SUPPORTED'],
    [{ CHATID_PROVIDER: 'teamweb' }, 'ERR_NOT_SUPPORTED'],
    [{ CHATID_PROVIDER: 'bookbag', CHATID_AGENT_ID: 'abc' }, 'ERR_AGENT_ID_INVALID'],
  ])('refuses a target the real run would refuse (%j), exit 2, even when no request is needed', async (env, code) => {
    const r = await runCli(['contacts', 'sync', '-', '--dry-run', '--json'], createTestCtx({ env, stdin: 'external_id\nu1\n', cwd: tmpdir() }));
    expect([r.exitCode, r.json().error.code]).toEqual([2, code]);
  });
  it('masks a user name and password in the base URL it names', async () => {
    const env = { CHATID_PROVIDER: 'chatbase', CHATID_AGENT_ID: 'a1', CHATID_API_KEY: 'k', CHATID_BASE_URL: 'http://ann:pa55@127.0.0.1:9' };
    const j = await runCli(['contacts', 'sync', '-', '--dry-run', '--json'], createTestCtx({ env, stdin: 'external_id\nu1\n', cwd: tmpdir() }));
    expect(j.exitCode).toBe(0);
    expect(j.json().target.baseUrl).toBe('http://***@127.0.0.1:9');
    const h = await runCli(['contacts', 'sync', '-', '--dry-run'], createTestCtx({ env, stdin: 'external_id\nu1\n', cwd: tmpdir() }));
    expect(h.stdout + h.stderr).not.toContain('pa55');
  });
});
