import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { CancelledError, ExitWithCode, PartialSuccessError, StoreError, UsageError } from '../../cli/errors.js';
import { emit, info, verbose, warn } from '../../cli/output.js';
import type { Settings } from '../../cli/settings.js';
import type { ByteSource } from '../../sync/csv-reader.js';
import type { EngineResult } from '../../sync/engine.js';
import { maskUserinfo } from '../../core/base-url.js';
import { parseShard, type Shard } from '../../sync/shard.js';
import type { ClientTuning } from '../../vendors/factory.js';
import { addVendorOptions, type VendorFlags } from '../../vendors/flags.js';
import type { ContactsApi, CustomAttribute } from '../../vendors/types.js';
import type { SyncBar } from './sync-bar.js';

/** Rows per request when --batch-size is not given: the vendors' maximum, since rate limits count requests, not rows. */
export const DEFAULT_BATCH_SIZE = 1000;
export const DEFAULT_CONCURRENCY = 4;
export const MAX_CONCURRENCY = 16;

/**
 * The schema the in-process `--sandbox` starts with: the attributes examples/contacts.csv
 * uses, one of each type, so the walkthrough shows coercion and no "unknown attribute".
 */
export const SANDBOX_DEMO_ATTRIBUTES: CustomAttribute[] = [
  { name: 'plan', type: 'text', label: 'Plan' },
  { name: 'seats', type: 'number', label: 'Seats' },
  { name: 'trial', type: 'boolean', label: 'On trial' },
  { name: 'signup_date', type: 'date', label: 'Signed up' },
];

/** What `contacts sync` was asked to do, parsed and validated (see parseSyncFlags). */
export interface SyncOptions {
  /** A path, or `-` for stdin. */
  file: string;
  dryRun: boolean;
  batchSize: number;
  concurrency: number;
  report: string | undefined;
  resume: boolean;
  /** --break-lock */
  breakLock: boolean;
  /** Explicit --checkpoint; the default is derived from the file name. */
  checkpoint: string | undefined;
  shard: Shard | undefined;
  sandbox: boolean;
  /** --provider, --agent-id, --base-url (the key comes from CHATID_API_KEY or the profile). */
  target: Pick<VendorFlags, 'provider' | 'agentId' | 'baseUrl'>;
  tuning: ClientTuning;
}

/** The summary: --json prints it as is (cli.md §8 fields first), renderSync for humans. */
export interface SyncResult extends EngineResult {
  elapsedMs: number;
  file: string;
  target: { provider: string; baseUrl: string; agentId: string };
  /** Set with --sandbox: where the data went. */
  sandbox?: { url: string; agentId: string; apiKey: string; contacts: number };
}

/** Seams for tests: a fake vendor instead of the real client. */
export interface SyncDeps {
  connect?: (settings: Settings) => Promise<ContactsApi>;
  /** Where the scan keeps the parsed rows (default: the OS temp directory); false: parse the file twice. */
  spillDir?: string | false;
}

/** Set by scripts/build.mjs: the scan worker's file, relative to the bundle (src/sync/scan.ts). */
declare const CHATID_SCAN_WORKER: string | undefined;

interface SyncFlags extends VendorFlags {
  dryRun?: boolean;
  batchSize?: string;
  concurrency?: string;
  report?: string;
  resume?: boolean;
  breakLock?: boolean;
  checkpoint?: string;
  shard?: string;
  sandbox?: boolean;
}

function intFlag(name: string, raw: string | undefined, dflt: number, min: number, max: number): number {
  if (raw === undefined) return dflt;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError('ERR_USAGE_BAD_VALUE', `${name} must be a whole number from ${min} to ${max}, not "${raw}".`, { hint: `For example ${name} ${dflt}.` });
  }
  return Number(raw);
}

/** Flags → SyncOptions (exit 2 on a bad value). */
export async function parseSyncFlags(file: string, f: SyncFlags): Promise<SyncOptions> {
  let shard: Shard | undefined;
  if (f.shard !== undefined) {
    shard = parseShard(f.shard);
    if (!shard) {
      throw new UsageError('ERR_USAGE_BAD_VALUE', `--shard must be i/n with 1 ≤ i ≤ n ≤ 1024, not "${f.shard}".`, {
        hint: 'Shards are 1-based: with 3 CI jobs pass --shard 1/3, --shard 2/3 and --shard 3/3.',
      });
    }
  }
  // "-" means stdin for the CSV; as a report path it silently made a file named "-".
  if (f.report === '-' || f.report === '') {
    throw new UsageError('ERR_USAGE_BAD_VALUE', `--report needs a file path, not "${f.report}": the report is a file, rewritten in place for --resume, and never goes to stdout.`, {
      hint: 'Pass a path such as --report rejected.csv (then read it), or use --json, whose rejections list the first rejected rows.',
    });
  }
  // --checkpoint too: it was silently ignored, leaving no checkpoint where the user asked for one.
  if (f.sandbox && (f.resume || f.breakLock || f.checkpoint !== undefined)) {
    throw new UsageError('ERR_USAGE_BAD_VALUE', `${f.resume ? '--resume' : f.breakLock ? '--break-lock' : '--checkpoint'} cannot be used with --sandbox: the in-process sandbox forgets everything when the command ends, so no checkpoint is kept.`, {
      hint: 'Run `chatid sandbox --data state.json` in another terminal and point CHATID_BASE_URL at it to try --resume.',
    });
  }
  if (f.dryRun && (f.resume || f.checkpoint !== undefined || f.breakLock)) {
    throw new UsageError('ERR_USAGE_BAD_VALUE', `${f.resume ? '--resume' : f.breakLock ? '--break-lock' : '--checkpoint'} cannot be used with --dry-run: a dry run writes nothing, so it keeps no checkpoint.`, {
      hint: 'Drop --dry-run to sync, or drop the checkpoint flags to only check the file.',
    });
  }
  const target: SyncOptions['target'] = {};
  if (f.provider !== undefined) target.provider = f.provider;
  if (f.agentId !== undefined) target.agentId = f.agentId;
  if (f.baseUrl !== undefined) target.baseUrl = f.baseUrl;
  if (f.sandbox && Object.keys(target).length) {
    throw new UsageError('ERR_USAGE_BAD_VALUE', '--sandbox chooses where the data goes; it cannot be combined with --provider, --agent-id or --base-url.', {
      hint: 'Drop --sandbox to sync into that target, or drop the target flags to try the in-process sandbox.',
    });
  }
  const { parseNetworkFlags } = await import('../../vendors/factory.js');
  return {
    file,
    dryRun: Boolean(f.dryRun),
    batchSize: intFlag('--batch-size', f.batchSize, DEFAULT_BATCH_SIZE, 1, 1000),
    concurrency: intFlag('--concurrency', f.concurrency, DEFAULT_CONCURRENCY, 1, MAX_CONCURRENCY),
    report: f.report,
    resume: Boolean(f.resume),
    breakLock: Boolean(f.breakLock),
    checkpoint: f.checkpoint,
    shard,
    sandbox: Boolean(f.sandbox),
    target,
    tuning: parseNetworkFlags(f),
  };
}

/** `chatid contacts sync <file|->`: parse flags, run, print, exit 5 when rows were rejected. */
export function registerSync(parent: Command, ctx: Ctx, runF = runSync): void {
  const cmd = parent
    .command('sync')
    .description('Bulk upsert contacts from a CSV file (or - for stdin) into the vendor')
    .argument('<file>', 'CSV with a header: external_id (or user_id, id), name, email, phonenumber, stripe_id, stripe_label, attr.<name>…; - reads stdin')
    .option('--dry-run', 'read, validate and count without writing to the vendor (the attribute schema is read when the file has attr. columns)')
    .option('--batch-size <n>', `rows per request, at most 1000 (default ${DEFAULT_BATCH_SIZE})`)
    .option('--concurrency <n>', `requests in flight at once, 1-${MAX_CONCURRENCY} (default ${DEFAULT_CONCURRENCY})`)
    .option('--report <file.csv>', 'write every rejected and duplicate row here (mode 0600, spreadsheet-safe)')
    .option('--resume', 'continue an interrupted sync from its checkpoint')
    .option('--break-lock', "take over the checkpoint's lock even if its run looks alive or ran on another host (only when you know it stopped)")
    .option('--checkpoint <path>', 'checkpoint file (default: <file>[.shard-i-of-n].chatid-checkpoint.json; stdin or a pipe such as <(…): ./chatid-sync-stdin…)')
    .option('--shard <i/n>', 'sync only shard i of n (1-based), a stable split by external id for parallel CI jobs')
    .option('--sandbox', 'sync into a local in-process sandbox instead of the vendor (no account or settings needed)');
  addVendorOptions(cmd);
  cmd
    .addHelpText(
      'after',
      `
Every row ends as exactly one of: synced, rejected (in --report, with a code) or duplicate
(the same id later in the file wins). read = synced + rejected + duplicates.
A blank line (nothing between two line ends) is not a row: it is skipped and counted apart
(blankLines); a row holding "" is a row, with an empty cell.
A cell left empty leaves the field unchanged; a cell holding exactly null deletes it.
Attribute values take the type in the vendor's schema (fetched once); attributes the schema
lacks are not sent (vendors drop them silently), with a warning before anything is written.
One run per checkpoint: a second run of the same file (and shard) while one runs stops
with exit 2; the lock of a run that was killed is taken over by the next run.
Exit codes: 0 all synced, 5 some rows rejected, 1 failure (re-run with --resume),
2 bad file or flags, or a checkpoint another run holds (found before anything is
written), 4 key missing or rejected.

Examples:
  $ chatid contacts sync examples/contacts.csv --sandbox
  $ chatid contacts sync customers.csv --report rejected.csv --json
  $ chatid contacts sync customers.csv --resume            # after a crash or a kill
  $ chatid contacts sync customers.csv --shard 2/4 --resume  # job 2 of 4
  $ gunzip -c big.csv.gz | chatid contacts sync - --dry-run`,
    )
    .action(async (file: string, flags: SyncFlags) => {
      const opts = await parseSyncFlags(file, flags);
      const result = await runF(opts, ctx);
      emit(ctx, result, renderSync);
      if (result.rejected > 0) {
        // --json already printed the one document: exit 5 without a second one.
        if (ctx.ui.json) {
          warn(ctx, `${result.rejected} of ${result.read} rows were rejected (exit 5)${result.report ? `; see ${result.report}` : ''}.`);
          throw new ExitWithCode(5);
        }
        throw new PartialSuccessError('ERR_SYNC_PARTIAL', `${result.rejected} of ${result.read} rows were rejected.`, {
          hint: result.report ? `Fix the rows listed in ${result.report} and sync again (synced rows are upserted, so re-running is safe).` : 'Re-run with --report rejected.csv to get every rejected row with its code.',
        });
      }
    });
}

/**
 * Open the input: a file checked up front (exit 2 with a clear message), or a stream (stdin,
 * or a pipe path such as bash's `<(gunzip -c big.csv.gz)`) spooled to a private temp file.
 */
async function openSource(opts: SyncOptions, ctx: Ctx): Promise<{ name: string; path: string; open: (end?: number) => ByteSource; cleanup: () => Promise<void>; checkpointBase: string; stream: boolean }> {
  const { createReadStream, createWriteStream } = await import('node:fs');
  const { fileChunks } = await import('../../sync/csv-reader.js');
  const { stat, mkdtemp, rm } = await import('node:fs/promises');
  const { join, resolve } = await import('node:path');
  const spool = async (from: NodeJS.ReadableStream, name: string) => {
    const { tmpdir } = await import('node:os');
    const { pipeline } = await import('node:stream/promises');
    const base = tmpdir();
    const what = name === 'stdin' ? 'the CSV from stdin' : `the CSV from the pipe ${name}`;
    const spoolError = (err: unknown) =>
      new StoreError('ERR_SYNC_STDIN_SPOOL', `Cannot keep ${what} in a temporary file under ${base}: ${(err as Error).message}.`, {
        hint: `Set TMPDIR to a writable directory with room for the CSV, or pass the CSV as a file path instead of ${name === 'stdin' ? '-' : 'a pipe'}.`,
        cause: err,
      });
    let dir: string;
    try {
      dir = await mkdtemp(join(base, 'chatid-sync-'));
    } catch (err) {
      throw spoolError(err);
    }
    const path = join(dir, 'stdin.csv');
    // A file lets the sync read the rows more than once (duplicates, the count for the
    // progress bar) while memory stays flat; it is private (0600) and removed afterwards.
    try {
      // Ctrl-C while the CSV still arrives: stop now and remove the partial copy (contact
      // data), instead of sitting until the forced exit, which left it in TMPDIR.
      await pipeline(from, createWriteStream(path, { mode: 0o600 }), { signal: ctx.signal });
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      if (ctx.signal.aborted) throw new CancelledError(`Interrupted while reading ${what}; nothing was synced.`, { cause: err });
      throw spoolError(err);
    }
    return {
      name,
      path,
      open: (end?: number) => fileChunks(path, undefined, { start: 0, end: end ?? Number.POSITIVE_INFINITY }),
      cleanup: () => rm(dir, { recursive: true, force: true }),
      checkpointBase: resolve(ctx.cwd, 'chatid-sync-stdin'),
      stream: true,
    };
  };
  if (opts.file === '-') return spool(ctx.io.stdin, 'stdin');
  const path = resolve(ctx.cwd, opts.file);
  let pipe = false;
  try {
    const s = await stat(path);
    // A pipe path (bash's <(…), a named pipe) can be read once only, from its start: spooled
    // like stdin. Not a character device: /dev/zero or /dev/urandom would fill TMPDIR.
    pipe = s.isFIFO() || s.isSocket();
    if (!s.isFile() && !pipe) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError('ERR_SYNC_FILE_NOT_FOUND', `No such file: ${opts.file}.`, { hint: 'Check the path, or pass - to read the CSV from stdin.' });
    if (code === 'EISDIR') throw new UsageError('ERR_SYNC_NOT_A_FILE', `${opts.file} is not a file.`, { hint: 'Pass the path of a CSV file.' });
    throw new UsageError('ERR_SYNC_FILE_UNREADABLE', `Cannot read ${opts.file}: ${(err as Error).message}.`, { hint: 'Check the file permissions.', cause: err });
  }
  if (pipe) return spool(createReadStream(path), opts.file);
  return { name: opts.file, path, open: (end) => fileChunks(path, undefined, { start: 0, end: end ?? Number.POSITIVE_INFINITY }), cleanup: async () => undefined, checkpointBase: path, stream: false };
}

/** dist/scan-worker.js when running from the bundle; undefined from source (src/sync/scan.test.ts builds its own). */
async function bundledScanWorker(): Promise<string | undefined> {
  if (typeof CHATID_SCAN_WORKER === 'undefined') return undefined;
  const { fileURLToPath } = await import('node:url');
  return fileURLToPath(new URL(CHATID_SCAN_WORKER, import.meta.url));
}

/** Run a sync (no rendering): returns the summary, throws CliError on file-level or fatal problems. */
export async function runSync(opts: SyncOptions, ctx: Ctx, deps: SyncDeps = {}): Promise<SyncResult> {
  const started = ctx.clock.now().getTime();
  const { resolve } = await import('node:path');
  const source = await openSource(opts, ctx);
  let sandbox: { url: string; agentIds: readonly string[]; apiKeys: readonly string[]; state: { contacts(id: string): unknown[] }; close(): Promise<void> } | undefined;
  let bar: SyncBar | undefined;
  let barTotal: number | undefined;
  try {
    let settings: Settings;
    if (opts.sandbox) {
      const { startSandbox } = await import('../../sandbox/index.js');
      sandbox = await startSandbox({ port: 0, attributes: SANDBOX_DEMO_ATTRIBUTES });
      settings = {
        profileName: undefined,
        profile: undefined,
        provider: { value: 'chatbase', source: 'flag' },
        agentId: { value: sandbox.agentIds[0]!, source: 'flag' },
        baseUrl: { value: sandbox.url, source: 'flag' },
        apiKey: { value: sandbox.apiKeys[0]!, source: 'flag' },
        secret: undefined,
        previousSecret: undefined,
        store: undefined,
      };
      info(ctx, `Started a local sandbox at ${sandbox.url} (agent ${sandbox.agentIds[0]}); syncing into it.`);
    } else {
      const { checkAgentIdSetting, requireCapability, resolveVendorSettings } = await import('../../vendors/factory.js');
      settings = await resolveVendorSettings(ctx, opts.target);
      // What needs no network is checked now, dry run or not: a dry run of a file without
      // attribute columns never connects, and said "would sync into opencx" (or into a
      // Bookbag agent "abc") where the real run stops with exit 2.
      if (settings.provider) checkAgentIdSetting(settings, requireCapability(settings, 'contacts'));
    }
    const target = {
      provider: settings.provider?.value ?? '',
      // Shown in the summary: a user name and password in it are masked (a wet run refuses them).
      baseUrl: maskUserinfo(settings.baseUrl?.value ?? ''),
      agentId: settings.agentId?.value ?? '',
    };
    const connect = async (): Promise<ContactsApi> => {
      if (deps.connect) return deps.connect(settings);
      const { createContactsApi } = await import('../../vendors/factory.js');
      return createContactsApi(ctx, settings, opts.tuning);
    };
    const reportPath = opts.report === undefined ? undefined : resolve(ctx.cwd, opts.report);
    const checkpointPath = opts.dryRun || opts.sandbox ? undefined : opts.checkpoint ? resolve(ctx.cwd, opts.checkpoint) : `${source.checkpointBase}${opts.shard ? `.shard-${opts.shard.index + 1}-of-${opts.shard.count}` : ''}.chatid-checkpoint.json`;
    const input = source.stream ? undefined : source.checkpointBase;
    for (const [flag, path] of [
      ['--report', reportPath],
      ['--checkpoint', checkpointPath],
    ] as const) {
      // Same path, or another name of the same file (a symlink, a hard link): truncating the
      // report would destroy the CSV being synced.
      const overInput = path !== undefined && input !== undefined && (path === input || (await sameFile(path, input)));
      if (path !== undefined && (overInput || (flag === '--checkpoint' && reportPath !== undefined && (path === reportPath || (await sameFile(path, reportPath)))))) {
        throw new UsageError('ERR_USAGE_BAD_VALUE', `${flag} names ${overInput ? 'the input file' : 'the report file'}; it would be overwritten.`, { hint: 'Pass another path.' });
      }
    }
    // The report over the checkpoint's own files: the lock (or the checkpoint) would be written over.
    if (reportPath !== undefined && checkpointPath !== undefined && (reportPath === checkpointPath || reportPath.startsWith(`${checkpointPath}.`))) {
      throw new UsageError('ERR_USAGE_BAD_VALUE', `--report names a file of the checkpoint ${checkpointPath}; it would be overwritten.`, { hint: 'Pass another path.' });
    }
    // Loaded up front so the bar starts synchronously with the sync (and is always stopped).
    // Not under --verbose: its line per request is the progress, and the bar's redraws left
    // each of those lines glued to the end of the bar's text.
    const barLib = ctx.io.stderr.isTTY && !ctx.ui.quiet && !ctx.ui.verbose ? await import('./sync-bar.js') : undefined;
    const { runEngine } = await import('../../sync/engine.js');
    const { tmpdir } = await import('node:os');
    const r = await runEngine({
      openInput: source.open,
      inputPath: source.path,
      scanWorker: await bundledScanWorker(),
      spillDir: deps.spillDir === undefined ? tmpdir() : deps.spillDir || undefined,
      inputName: source.name,
      batchSize: opts.batchSize,
      concurrency: opts.concurrency,
      shard: opts.shard,
      dryRun: opts.dryRun,
      reportPath,
      checkpointPath,
      resume: opts.resume,
      breakLock: opts.breakLock,
      target,
      connect,
      signal: ctx.signal,
      now: () => ctx.clock.now(),
      warn: (m) => {
        bar?.stop();
        warn(ctx, m);
      },
      info: (m) => info(ctx, m),
      verbose: (m) => verbose(ctx, m),
      started: (total) => {
        if (barLib && total > 0) barTotal = total;
      },
      progress: (n) => {
        if (bar || barTotal === undefined || !barLib) return bar?.update(n);
        // Started at the first count, not at 0: on --resume the rows done before arrive at
        // once, and a bar started at 0 took that jump for speed ('2s left' for half a minute).
        // Its time left is measured over the rate-limit window the client keeps: --rate-limit's,
        // else the vendor's (both vendors with contacts: 10 s, chatbase.ts and bookbag.ts).
        const now = (): number => ctx.clock.monotonic?.() ?? ctx.clock.now().getTime();
        bar = new barLib.SyncBar({ stream: ctx.io.stderr, total: barTotal, rows: n, now, windowMs: opts.tuning.rateLimit?.windowMs });
      },
    });
    bar?.stop();
    bar = undefined;
    // The contract's fields first, in its order (cli.md §8), then the details.
    const { read, synced, rejected, duplicates, batches, retries, ...details } = r;
    const elapsedMs = ctx.clock.now().getTime() - started;
    const result: SyncResult = { read, synced, rejected, duplicates, batches, retries, elapsedMs, ...details, file: source.name, target };
    if (sandbox) {
      result.sandbox = { url: sandbox.url, agentId: sandbox.agentIds[0]!, apiKey: sandbox.apiKeys[0]!, contacts: sandbox.state.contacts(sandbox.agentIds[0]!).length };
    }
    return result;
  } finally {
    bar?.stop();
    await source.cleanup();
    await sandbox?.close();
  }
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Human summary: counts, where the data went, the first rejected rows. */
export function renderSync(r: SyncResult, ctx: Ctx): string {
  const c = ctx.color;
  const lines: string[] = [];
  // A dry run may have no target at all (a file without attr. columns needs none).
  const where = r.sandbox
    ? ` into the local sandbox ${r.sandbox.url} (agent ${r.sandbox.agentId})`
    : r.target.provider
      ? ` into ${r.target.provider} agent ${r.target.agentId || '(none set)'} (${r.target.baseUrl})`
      : ' (no vendor is set: the file was only checked)';
  const verb = r.dryRun ? 'Dry run: would sync' : 'Synced';
  lines.push(`${verb} ${r.synced} of ${plural(r.read, 'row')} from ${r.file}${where}.`);
  lines.push(`  ${c.green('synced')}      ${r.synced}${r.dryRun ? ' (valid; nothing was written)' : ''}`);
  lines.push(`  ${r.rejected ? c.red('rejected') : 'rejected'}    ${r.rejected}${r.report ? `  → ${r.report}` : ''}`);
  lines.push(`  ${r.duplicates ? c.yellow('duplicates') : 'duplicates'}  ${r.duplicates}${r.duplicates ? ' (an earlier row with an id that appears again later; the later row wins)' : ''}`);
  const net = `${plural(r.batches, 'batch', 'batches')}, ${plural(r.requests, 'request')}, ${plural(r.retries, 'retry', 'retries')}, ${(r.elapsedMs / 1000).toFixed(1)} s`;
  lines.push(`  ${c.dim(net)}`);
  if (r.otherShards) lines.push(`  ${c.dim(`${plural(r.otherShards, 'row')} belong to other shards`)}`);
  if (r.blankLines) lines.push(`  ${c.dim(`${plural(r.blankLines, 'blank line')} skipped (nothing between two line ends: not a row, so not counted as read)`)}`);
  if (r.resumed) lines.push(`  ${c.dim(`resumed: ${plural(r.skippedBatches, 'batch', 'batches')} were already done`)}`);
  if (r.rejections.length) {
    lines.push('', 'Rejected rows:');
    for (const x of r.rejections) lines.push(`  row ${x.row} (line ${x.line})${x.externalId ? ` ${x.externalId}` : ''}: ${x.code} ${x.message}`);
    const more = r.rejected - r.rejections.length;
    if (more > 0) lines.push(`  … and ${more} more${r.report ? ` in ${r.report}` : ' (pass --report rejected.csv to get them all)'}`);
  }
  if (r.sandbox) {
    lines.push('', `The sandbox now holds ${plural(r.sandbox.contacts, 'contact')}; it stopped with this command.`);
    // Advice, not a result: -q leaves it out.
    if (!ctx.ui.quiet) {
      lines.push(
        'To sync into a sandbox you can inspect, run `chatid sandbox` (port 4010) and in another terminal:',
        `  CHATID_PROVIDER=chatbase CHATID_BASE_URL=http://127.0.0.1:4010 CHATID_API_KEY=${r.sandbox.apiKey} CHATID_AGENT_ID=${r.sandbox.agentId} chatid contacts sync ${r.file}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Whether two existing paths are one file (same device and inode, links followed). */
async function sameFile(a: string, b: string): Promise<boolean> {
  const { stat } = await import('node:fs/promises');
  const [x, y] = await Promise.all([stat(a).catch(() => undefined), stat(b).catch(() => undefined)]);
  return x !== undefined && y !== undefined && x.dev === y.dev && x.ino === y.ino;
}
