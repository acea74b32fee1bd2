import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { ExitCode, ExitWithCode, UsageError } from '../../cli/errors.js';
import { emit, info, readStdinText, verbose, warn } from '../../cli/output.js';
import { SECRET_OPTION_HELP } from '../../cli/secret-input.js';
import type { Settings } from '../../cli/settings.js';
import type { HashCause } from '../../core/hash-doctor.js';
import type { SecretCandidateInput } from '../../core/secret-candidates.js';
import type { Profile } from '../../store/types.js';
import { allProfiles, resolveIdentitySecret, secretFromStdin } from './shared.js';

export interface HashOptions {
  /** The id argument as given (`-` or undefined: stdin). */
  userId?: string;
  /** `--expect <hash>`: compare and diagnose. */
  expect?: string;
  /** `--email <e>`: also try the email as the hashed value. */
  email?: string;
  /** `--batch <file|->` */
  batch?: string;
  secret?: string;
  secretStdin?: boolean;
  secretFile?: string;
  json: boolean;
}

/** The JSON document of cli.md §7 (`match` and `causes` only with --expect). */
export interface HashResult {
  userId: string;
  hash: string;
  match?: boolean;
  causes?: HashCause[];
}

/** What the human rendering says about how the hash was made (not part of the JSON). */
export interface HashContext {
  secretMask: string;
  secretFingerprint: string;
  secretSource: string;
  keyBytes: number;
  expected?: string;
  keysTried: number;
}

export interface HashBatchResult {
  batch: true;
  count: number;
}

export function registerHash(program: Command, ctx: Ctx, runF = runHash): void {
  program
    .command('hash')
    .description('HMAC-SHA256 user hash (lowercase hex); --expect compares and explains a mismatch (exit 3)')
    .argument('[userId]', 'the user id; `-` or omitted reads stdin')
    .option('--expect <hash>', 'the hash you have (from your server or the widget): exit 0 if equal, 3 if not, with the proven causes')
    .option('--email <email>', "the contact's email: --expect also checks whether the email was hashed instead of the id")
    .option('--batch <file|->', 'hash many ids: a file (one id per line, or CSV with user_id/external_id/id) or - for stdin')
    .option('--secret <value>', SECRET_OPTION_HELP.secret)
    .option('--secret-stdin', SECRET_OPTION_HELP.secretStdin)
    .option('--secret-file <path>', SECRET_OPTION_HELP.secretFile)
    .addHelpText(
      'after',
      `
Hash = hex(HMAC-SHA256(secret, userId)): the key is the secret's UTF-8 text as the
dashboard shows it (or the bytes of a hex:/base64: secret), the message the id byte for byte.

With --expect, a mismatch is diagnosed: chatid recomputes the hash with the usual mistakes
(secret or id whitespace, id case, JSON-quoted id, previous or other profiles' secret,
encoded secret, uppercase/base64/dashed/truncated digest, SHA-1/SHA-512, plain SHA-256,
swapped key and message, email hashed instead of id, …) and reports only the ones that
reproduce your hash exactly. No cause printed = none of them explains it.

Output: the hash alone on stdout. --json: {"userId","hash"}, plus "match" and "causes"
with --expect. --batch: one hash per line, or NDJSON {"userId","hash"} with --json.
Exit: 0 ok or match, 3 mismatch, 2 bad input, 4 no secret.

Examples:
  $ chatid hash user_123
  $ echo -n user_123 | chatid hash --secret-file ./secret.txt
  $ chatid hash user_123 --expect 3f1c…            # why does the widget reject my hash?
  $ chatid hash user_123 --expect "$HASH" --email ada@example.com --json
  $ cut -d, -f1 users.csv | chatid hash --batch - --json > hashes.ndjson`,
    )
    .action(async (userId: string | undefined, flags: Omit<HashOptions, 'userId' | 'json'>, cmd: Command) => {
      const g = cmd.optsWithGlobals<{ json?: boolean }>();
      const opts: HashOptions = { ...flags, json: Boolean(g.json) };
      if (userId !== undefined) opts.userId = userId;
      const out = await runF(opts, ctx);
      if ('batch' in out) return;
      emit(ctx, out.result, (r, c) => renderHash(r, out.context, c));
      if (out.result.match === false) throw new ExitWithCode(ExitCode.mismatch);
    });
}

export async function runHash(opts: HashOptions, ctx: Ctx): Promise<{ result: HashResult; context: HashContext } | HashBatchResult> {
  if (opts.batch !== undefined) return hashBatch(opts, ctx);
  if (opts.expect !== undefined && opts.expect.trim() === '') {
    throw new UsageError('ERR_HASH_EXPECT_EMPTY', '--expect is empty.', { hint: 'Pass the hash you have: --expect 3f1c… (64 hex characters).' });
  }
  const userId = await readUserId(ctx, opts);
  const { settings, secret } = await resolveIdentitySecret(ctx, opts, { openStore: opts.expect !== undefined });
  const [{ parseSecretKey }, { userHash, hashesEqual }, { fingerprint, mask }] = await Promise.all([
    import('../../core/secret-key.js'),
    import('../../core/hmac.js'),
    import('../../core/fingerprint.js'),
  ]);
  const key = parseSecretKey(secret).bytes;
  const hash = userHash(key, userId);
  const context: HashContext = {
    secretMask: mask(secret),
    secretFingerprint: fingerprint(secret),
    secretSource: sourceText(settings),
    keyBytes: key.length,
    keysTried: 0,
  };
  if (opts.expect === undefined) return { result: { userId, hash }, context };

  const expected = opts.expect.trim();
  if (expected !== opts.expect) warn(ctx, 'removed whitespace around the --expect value before comparing.');
  context.expected = expected;
  const match = hashesEqual(hash, expected);
  if (match) return { result: { userId, hash, match, causes: [] }, context };
  const { diagnoseHash } = await import('../../core/hash-doctor.js');
  const { secretCandidates } = await import('../../core/secret-candidates.js');
  const secrets = secretSearch(settings, secret, await allProfiles(ctx, settings));
  context.keysTried = secretCandidates(secrets).length + 1;
  const doctor: Parameters<typeof diagnoseHash>[0] = { userId, expected, secrets };
  if (opts.email !== undefined) doctor.email = opts.email;
  const causes = diagnoseHash(doctor);
  verbose(ctx, `doctor: ${context.keysTried} keys tried, ${causes.length} cause(s) proven`);
  return { result: { userId, hash, match, causes }, context };
}

/** The id: the argument, or stdin for `-` or when omitted with stdin not a terminal (cli.md §4). */
async function readUserId(ctx: Ctx, opts: HashOptions): Promise<string> {
  let id = opts.userId;
  if (id === undefined || id === '-') {
    if (id === undefined && ctx.io.stdin.isTTY) {
      throw new UsageError('ERR_HASH_USER_ID_REQUIRED', 'No user id given.', { hint: 'Pass it: `chatid hash user_123`, pipe it in, or use --batch for many.' });
    }
    if (secretFromStdin(opts)) {
      throw new UsageError('ERR_STDIN_TWICE', 'Both the user id and the secret would come from stdin.', { hint: 'Pass the id as an argument, or the secret with --secret-file or CHATID_SECRET.' });
    }
    const text = await readStdinText(ctx, 64 * 1024);
    // `echo user_123 |` adds one newline that is not part of the id.
    const m = /\r?\n$/.exec(text);
    id = m ? text.slice(0, -m[0].length) : text;
    if (m) verbose(ctx, 'removed the trailing newline after the id read from stdin');
    if (id === '') throw new UsageError('ERR_HASH_USER_ID_REQUIRED', 'stdin held no user id.', { hint: 'Pipe an id in (`echo -n user_123 | chatid hash`), or pass it as an argument.' });
  }
  if (id === '') throw new UsageError('ERR_HASH_USER_ID_EMPTY', 'The user id is empty.', { hint: 'Pass the id your app gives the widget.' });
  if (id.trim() !== id) warn(ctx, `the user id ${JSON.stringify(id)} has leading or trailing whitespace; it is hashed as is, byte for byte.`);
  return id;
}

function sourceText(s: Settings): string {
  switch (s.secret?.source) {
    case 'env':
      return 'CHATID_SECRET';
    case 'profile':
      return `profile "${s.profileName?.value ?? '?'}"`;
    default:
      return 'the command line';
  }
}

/** Keys the doctor may try besides variants of the secret: previous, the API key, other profiles. */
function secretSearch(s: Settings, secret: string, profiles: Record<string, Profile>): SecretCandidateInput {
  const input: SecretCandidateInput = { secret };
  const prev = s.previousSecret?.value ?? s.profile?.previousSecret;
  if (prev) input.previousSecret = prev;
  if (s.apiKey) input.apiKey = s.apiKey.value;
  const current = s.profileName?.value;
  const others: NonNullable<SecretCandidateInput['otherProfiles']>[number][] = [];
  for (const [name, p] of Object.entries(profiles)) {
    // The active profile's own secret counts as "another" when the secret came from a flag or env.
    if (name === current && s.secret?.source === 'profile') continue;
    const o: (typeof others)[number] = { name };
    if (p.secret) o.secret = p.secret;
    if (p.previousSecret && name !== current) o.previousSecret = p.previousSecret;
    others.push(o);
  }
  if (others.length) input.otherProfiles = others;
  return input;
}

async function hashBatch(opts: HashOptions, ctx: Ctx): Promise<HashBatchResult> {
  if (opts.userId !== undefined) {
    throw new UsageError('ERR_HASH_BATCH_USER_ID', '--batch takes the user ids from its input; a user id argument cannot be combined with it.', { hint: 'Drop the argument, or drop --batch to hash one id.' });
  }
  if (opts.expect !== undefined || opts.email !== undefined) {
    throw new UsageError('ERR_HASH_BATCH_EXPECT', '--expect and --email check one hash; they cannot be combined with --batch.', { hint: 'Check a single id: `chatid hash <id> --expect <hash>`.' });
  }
  if (opts.batch === '-' && secretFromStdin(opts)) {
    throw new UsageError('ERR_STDIN_TWICE', 'Both the batch ids and the secret would come from stdin.', { hint: 'Pass the secret with --secret-file or CHATID_SECRET.' });
  }
  const { secret } = await resolveIdentitySecret(ctx, opts);
  const [{ parseSecretKey }, { userHasher }, batch] = await Promise.all([import('../../core/secret-key.js'), import('../../core/hmac.js'), import('../../cli/batch.js')]);
  const hasher = userHasher(parseSecretKey(secret).bytes);
  const input = await batch.openBatchInput(ctx, opts.batch!);
  const out = new batch.BatchWriter(ctx.io.stdout);
  let count = 0;
  for await (const rows of batch.readBatchChunks(input, { signal: ctx.signal })) {
    for (const r of rows) {
      const h = hasher(r.userId);
      const p = out.write(opts.json ? `{"userId":${JSON.stringify(r.userId)},"hash":"${h}"}\n` : `${h}\n`);
      count++;
      if (p) await p;
    }
  }
  await out.end();
  info(ctx, `hashed ${count} id${count === 1 ? '' : 's'}`);
  return { batch: true, count };
}

/** Human output: the hash alone; with --expect the verdict, what was compared and each proven cause. */
export function renderHash(r: HashResult, v: HashContext, ctx: Ctx): string {
  if (r.match === undefined) return `${r.hash}\n`;
  const c = ctx.color;
  const key = `secret ${v.secretMask} (fingerprint ${v.secretFingerprint}, from ${v.secretSource}, ${v.keyBytes}-byte key)`;
  let out = r.match ? `${c.green.bold('✓ Hash matches')}\n` : `${c.red.bold('✗ Hash mismatch')}\n`;
  out += `\n${c.bold('Computed')}  hex(HMAC-SHA256(key, id))\n`;
  out += `  id        ${JSON.stringify(r.userId)} (${Buffer.byteLength(r.userId, 'utf8')} bytes UTF-8)\n`;
  out += `  key       ${key}\n`;
  out += `  hash      ${r.hash}\n`;
  out += `${c.bold('Compared with')}\n  expected  ${v.expected ?? ''} (${[...(v.expected ?? '')].length} characters)\n`;
  if (r.match) return out;
  const causes = r.causes ?? [];
  if (causes.length) {
    out += `\n${c.bold('Why (proven by recomputation)')}\n`;
    for (const k of causes) out += `  ${c.cyan(k.code)}  ${k.message}\n    ${c.dim('fix:')} ${k.fix}\n`;
  } else {
    out += `\n${c.dim(`No known cause: none of the usual mistakes (with ${v.keysTried} candidate keys) reproduces the expected hash. Compare secret fingerprints on both sides (\`chatid secret show\`), and check that both sides hash the same id.`)}\n`;
  }
  return out;
}
