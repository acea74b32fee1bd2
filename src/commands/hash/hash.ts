import type { Command } from 'commander';
import { canPrompt, type Ctx } from '../../cli/context.js';
import { ExitCode, ExitWithCode, UsageError } from '../../cli/errors.js';
import { emit, info, jsonString, quoteVisible, readUserIdFromStdin, verbose, warn } from '../../cli/output.js';
import { promptSecret, readSecretFlags, SECRET_OPTION_HELP } from '../../cli/secret-input.js';
import { describeSource, requireSecret, resolveSettings, type Settings } from '../../cli/settings.js';
import type { HashCause } from '../../core/doctor.js';
import { isProvider, PROVIDER_INFO, PROVIDERS, type Provider } from '../../core/providers.js';

/** `chatid hash` (cli.md §7): HMAC-SHA256 user hashes, and the mismatch doctor. */
export interface HashOptions {
  /** The id as given: an argument, `-` for stdin, or undefined (stdin when it is not a TTY). */
  userId?: string;
  expect?: string;
  email?: string;
  batch?: string;
  /** Overrides CHATID_PROVIDER and the profile's provider; `generic` for a backend of your own. */
  provider?: string;
  secret?: string;
  secretStdin?: boolean;
  secretFile?: string;
}

export interface HashResult {
  userId: string;
  hash: string;
  /** Present with --expect. */
  match?: boolean;
  /** Present with --expect: every cause the doctor proved (empty: no known cause). */
  causes?: HashCause[];
}

/** The batch path streams its own output; this is what is left to say. */
export interface HashBatchResult {
  batch: true;
  count: number;
}

/** Not in --json: how the hash was made, for the human report. */
interface HashContext {
  secretFingerprint: string;
  secretSource: string;
  expected: string;
}

export function registerHash(program: Command, ctx: Ctx, runF = runHash): void {
  program
    .command('hash')
    .description('HMAC-SHA256 user hash (lowercase hex); --expect compares and finds the mistake on a mismatch (exit 3)')
    .argument('[userId]', 'the user id; "-" or omitted with a pipe: read from stdin')
    .option('--expect <hash>', 'the hash your backend or widget has: exit 0 on a match, 3 on a mismatch with its causes')
    .option('--email <email>', "the contact's email, so the doctor also tests \"hashed the email instead of the id\"")
    .option('--batch <file|->', 'hash many ids: a file (one id per line, or CSV with user_id/external_id/id) or - for stdin')
    .option('--provider <name>', 'chatbase, bookbag or generic (vendors without an HMAC user hash are refused)')
    .option('--secret <value>', SECRET_OPTION_HELP.secret)
    .option('--secret-stdin', SECRET_OPTION_HELP.secretStdin)
    .option('--secret-file <path>', SECRET_OPTION_HELP.secretFile)
    .addHelpText(
      'after',
      `
The key is the identity secret's UTF-8 bytes (hex:/base64: secrets: their decoded bytes).
Chatbase (user_hash) and Bookbag use this hash. TeamWeb AI, Replyful and OpenCX have none and
are refused, with the command they use; --provider generic hashes for a backend of your own.
With --batch: one hash per input line, or NDJSON {"userId","hash"} with --json.

Examples:
  $ chatid hash user_123
  $ chatid hash user_123 --expect 3f1c0e…       # exit 3 and the cause when they differ
  $ chatid hash user_123 --expect 3F1C0E… --email ann@example.com --json
  $ echo -n user_123 | chatid hash
  $ chatid hash --batch users.csv --json > hashes.ndjson`,
    )
    .action(async (userId: string | undefined, flags: Record<string, unknown>) => {
      const opts: HashOptions = {};
      if (userId !== undefined) opts.userId = userId;
      for (const k of ['expect', 'email', 'batch', 'provider', 'secret', 'secretFile'] as const) if (typeof flags[k] === 'string') opts[k] = flags[k];
      if (flags.secretStdin) opts.secretStdin = true;
      const result = await runF(opts, ctx);
      if ('batch' in result) return;
      emit(ctx, result, renderHash);
      if (result.match === false) throw new ExitWithCode(ExitCode.mismatch);
    });
}

export async function runHash(opts: HashOptions, ctx: Ctx): Promise<HashResult | HashBatchResult> {
  const idFromStdin = opts.batch === undefined && (opts.userId === '-' || (opts.userId === undefined && !ctx.io.stdin.isTTY));
  if ((opts.batch === '-' || idFromStdin) && (opts.secretStdin || opts.secretFile === '-')) {
    throw new UsageError('ERR_STDIN_TWICE', `Both the ${opts.batch === '-' ? 'batch ids' : 'user id'} and the secret would come from stdin.`, {
      hint: 'Pass the secret with --secret-file <path> or CHATID_SECRET.',
    });
  }
  if (opts.email !== undefined && opts.expect === undefined) {
    // --email only widens the doctor's search; without --expect a plain hash of the id would
    // come out, which someone who meant "hash this email" would take for that.
    throw new UsageError('ERR_HASH_EMAIL_WITHOUT_EXPECT', '--email is used only with --expect, to test whether the email was hashed instead of the id.', {
      hint: `Add --expect <hash> to test "hashed the email instead of the id"; to hash the email itself, pass it as the user id: \`chatid hash ${opts.email}\`.`,
    });
  }
  if (opts.batch !== undefined) {
    if (opts.userId !== undefined) throw new UsageError('ERR_HASH_BATCH_USER_ID', '--batch takes the user ids from its input; a user id argument cannot be combined with it.', { hint: 'Drop the argument, or drop --batch to hash one id.' });
    if (opts.expect !== undefined) throw new UsageError('ERR_HASH_BATCH_EXPECT', '--expect compares one hash; it cannot be combined with --batch.', { hint: 'Hash the one id that fails: `chatid hash <id> --expect <hash>`.' });
  }
  // node:crypto and the core load only when a hash is made (start-up speed, STYLE.md §16).
  const [{ fingerprint }, { hashesEqual, userHash }, { looksLikeApiKey }, { parseSecretKey }] = await Promise.all([
    import('../../core/fingerprint.js'),
    import('../../core/hmac.js'),
    import('../../core/secret-candidates.js'),
    import('../../core/secret-key.js'),
  ]);
  const flagSecret = await readSecretFlags(ctx, opts);
  // The provider decides whether a hash is the answer at all, so the store is read for it
  // unless --provider or CHATID_PROVIDER names it (a CHATID_SECRET alone does not skip it).
  const settings = await resolveSettings(ctx, flagSecret === undefined ? {} : { secret: flagSecret }, { needs: opts.provider === undefined ? ['secret', 'provider'] : ['secret'] });
  refuseProviderWithoutHash(opts.provider, settings);
  if (!settings.secret && canPrompt(ctx)) {
    const typed = await promptSecret(ctx, 'Identity secret', 'Paste the identity-verification secret from the widget settings.');
    settings.secret = { value: typed, source: 'flag' };
  }
  const secret = requireSecret(settings);
  const key = parseSecretKey(secret).bytes;
  if (looksLikeApiKey(secret)) warn(ctx, `the secret starts like a vendor API key (${secret.split('_')[0]}_…); user hashes use the identity-verification secret from the widget settings.`);

  if (opts.batch !== undefined) return hashBatch(opts.batch, key, ctx);

  const userId = await readUserId(opts, ctx, idFromStdin);
  if (userId.trim() !== userId) warn(ctx, `the user id ${quoteVisible(userId)} has leading or trailing whitespace; it is hashed as is.`);
  const hash = userHash(key, userId);
  if (opts.expect === undefined) return { userId, hash };

  let expected = opts.expect;
  if (expected.trim() !== expected) {
    warn(ctx, 'removed whitespace around the --expect value.');
    expected = expected.trim();
  }
  if (expected === '') throw new UsageError('ERR_HASH_EXPECT_EMPTY', '--expect is empty.', { hint: 'Pass the hash your backend produced.' });
  // A widget set up for JWT identity (Chatbase's recommended one) hands over a token, not a
  // hash; no hash mistake explains it, and the doctor would blame the secret.
  const isJwt = /^eyJ[\w-]*\.[\w-]*\.[\w-]*$/.test(expected);
  if (isJwt) warn(ctx, '--expect holds a JWT (eyJ….….…), not a user hash: an identity token is checked with `chatid token verify <token>`.');
  if (hashesEqual(hash, expected)) return { userId, hash, match: true, causes: [] };

  const [{ diagnoseHash }, { candidateInput, secretHistory, storeForDoctor }] = await Promise.all([import('../../core/doctor.js'), import('../../cli/secret-history.js')]);
  const data = await storeForDoctor(ctx, settings, (m) => verbose(ctx, m));
  const history = secretHistory(ctx, settings, data, ctx.clock.now().getTime() / 1000);
  const causes = diagnoseHash({
    key,
    userId,
    expected,
    ...(opts.email !== undefined ? { email: opts.email } : {}),
    secrets: candidateInput(secret, history, settings.apiKey?.value),
  });
  // No secret or id makes a value of another shape, and "a different secret" would be a wrong
  // lead: say what is wrong with the value (the human report says it in its place).
  if (causes.length === 0 && !isJwt && !HEX_DIGEST.test(expected) && ctx.ui.json) warn(ctx, notADigest(expected));
  const result: HashResult = { userId, hash, match: false, causes };
  Object.defineProperty(result, 'context', {
    enumerable: false,
    value: { secretFingerprint: fingerprint(secret), secretSource: describeSource(settings.secret!.source, 'secret'), expected } satisfies HashContext,
  });
  return result;
}

/** What an HMAC-SHA256 user hash looks like (either case: DIGEST_UPPERCASE is a cause). */
const HEX_DIGEST = /^[0-9a-fA-F]{64}$/;

/** Why no secret explains an --expect value that is no 64-hex-character digest. */
function notADigest(expected: string): string {
  return `the --expect value is not an HMAC-SHA256 user hash (64 hex characters; it has ${[...expected].length} characters${/^[0-9a-fA-F]*$/.test(expected) ? '' : ', not all hex'}), and none of the usual encodings or cuts of the hash gives it: check where it was copied from (another field, a cut column).`;
}

/**
 * `hash` makes the HMAC user hash of Chatbase and Bookbag (and of a generic backend). A
 * vendor that proves identity another way gets a refusal naming its mechanism and command,
 * as `token sign` refuses Bookbag: a hash printed with exit 0 would look like the answer.
 * The provider is the flag's, CHATID_PROVIDER, or the profile's (as for every command, cli.md §2).
 */
function refuseProviderWithoutHash(flag: string | undefined, settings: Settings): void {
  let provider: Provider | undefined = settings.provider?.value;
  let from = settings.provider ? describeSource(settings.provider.source, 'provider') : '';
  if (flag !== undefined) {
    if (!isProvider(flag)) throw new UsageError('ERR_PROVIDER_UNKNOWN', `Unknown provider "${flag}" (from --provider).`, { hint: `Use one of: ${PROVIDERS.join(', ')}.` });
    [provider, from] = [flag, '--provider'];
  }
  if (provider === undefined || PROVIDER_INFO[provider].identity.includes('hmac')) return;
  const generic = 'To hash for a backend of your own anyway, pass --provider generic.';
  const refusal = {
    teamweb: ['it identifies users with an AES-256-GCM token (data-user-token)', 'Use `chatid encrypt --id <userId>` (check one with `chatid decrypt`).'],
    replyful: ['it identifies users with an HS256 JWT carrying `userId`', 'Use `chatid token sign <userId>` (check one with `chatid token verify`).'],
    opencx: ['its contact tokens are minted by OpenCX (POST /widget/authenticate-user)', 'Use `chatid token sign --email <email>`.'],
  } as const satisfies Partial<Record<Provider, readonly [string, string]>>;
  const [mechanism, hint] = refusal[provider as keyof typeof refusal];
  throw new UsageError('ERR_HASH_PROVIDER', `The provider is ${PROVIDER_INFO[provider].label} (from ${from}), which has no HMAC user hash: ${mechanism}.`, { hint: `${hint} ${generic}` });
}

async function readUserId(opts: HashOptions, ctx: Ctx, fromStdin: boolean): Promise<string> {
  if (!fromStdin) {
    if (opts.userId === undefined || opts.userId === '') {
      throw new UsageError('ERR_HASH_USER_ID_REQUIRED', 'No user id.', { hint: 'Pass it: `chatid hash user_123`, pipe it in, or use --batch for many.' });
    }
    return opts.userId;
  }
  return readUserIdFromStdin(ctx, { command: 'hash', code: 'ERR_HASH' });
}

async function hashBatch(source: string, key: Uint8Array, ctx: Ctx): Promise<HashBatchResult> {
  const [{ userHasher }, batch] = await Promise.all([import('../../core/hmac.js'), import('../../cli/batch.js')]);
  const hasher = userHasher(key);
  const input = await batch.openBatchInput(ctx, source);
  const out = new batch.BatchWriter(ctx.io.stdout);
  const json = ctx.ui.json;
  let count = 0;
  // JSON.stringify writes the ids until the input holds a character jsonText escapes.
  let quote = JSON.stringify;
  const onJsonUnsafe = () => (quote = jsonString);
  // On a bad line or Ctrl-C, what was computed before it is still written, in order.
  try {
    for await (const rows of batch.readBatchChunks(input, { signal: ctx.signal, onJsonUnsafe, ...batch.readsColumns(ctx, 'hash --batch', []) })) {
      for (const r of rows) {
        const h = hasher(r.userId);
        const p = out.write(json ? `{"userId":${quote(r.userId)},"hash":"${h}"}\n` : `${h}\n`);
        if (p) await p;
      }
      count += rows.length;
    }
  } finally {
    await out.end();
  }
  info(ctx, `hashed ${count} user id${count === 1 ? '' : 's'}`);
  return { batch: true, count };
}

/** Human output: the hash alone; with --expect, a report of what was compared and why it differs. */
export function renderHash(r: HashResult, ctx: Ctx): string {
  if (r.match === undefined) return `${r.hash}\n`;
  const c = ctx.color;
  const lines = [`user id   ${JSON.stringify(r.userId)}`, `hash      ${r.hash}`];
  const hc = (r as HashResult & { context?: HashContext }).context;
  if (r.match) {
    lines.push(`result    ${c.green('match')}`);
    return `${lines.join('\n')}\n`;
  }
  if (hc) {
    lines[1] += c.dim(`  (HMAC-SHA256, secret ${hc.secretFingerprint} from ${hc.secretSource})`);
    const chars = [...hc.expected].length;
    lines.push(`expected  ${JSON.stringify(hc.expected).slice(1, -1)}${c.dim(`  (${chars} ${chars === 1 ? 'char' : 'chars'})`)}`);
  }
  lines.push(`result    ${c.red('MISMATCH')}`, '');
  const causes = r.causes ?? [];
  if (causes.length === 0 && hc && !HEX_DIGEST.test(hc.expected) && !/^eyJ[\w-]*\.[\w-]*\.[\w-]*$/.test(hc.expected)) {
    const why = notADigest(hc.expected);
    lines.push(`${c.bold('No known cause.')} ${why[0]!.toUpperCase()}${why.slice(1)}`);
  } else if (causes.length === 0) {
    lines.push(
      `${c.bold('No known cause.')} None of the usual mistakes reproduces the expected hash: secret whitespace, quotes or`,
      'encoding; the previous, another profile\'s or the API key; id whitespace, case, JSON quotes, number form, BOM,',
      'ObjectId form, Unicode form (NFC/NFD) or Latin-1 bytes; base64, uppercase, dashed, truncated, quoted, sha256=-prefixed',
      'or spaced digest; HMAC-SHA1/SHA-512; plain SHA-256; swapped key and id.',
      'Most likely your server uses a different secret (another agent or workspace) or hashes a different id.',
      'Next: compare secret fingerprints (`chatid secret show`) with your server\'s, and log the exact id it hashes.',
    );
  } else {
    lines.push(c.bold(causes.length === 1 ? 'Found the cause:' : `Found ${causes.length} causes:`));
    for (const cause of causes) {
      lines.push(`  ${c.yellow(cause.code)}  ${cause.message}`, `    ${c.cyan('fix:')} ${cause.fix}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
