import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { UsageError } from '../../cli/errors.js';
import { emit, info, jsonString, warn } from '../../cli/output.js';
import { SECRET_OPTION_HELP } from '../../cli/secret-input.js';

/** Nonce size of the TeamWeb layout (vendors.md §4); the core checks it too. */
const TEAMWEB_NONCE_BYTES = 12;

/** `chatid encrypt` (cli.md §5): a TeamWeb AI identity token, AES-256-GCM. */
export interface EncryptOptions {
  id?: string;
  name?: string;
  email?: string;
  /** `--field k=v`, repeatable: extra string fields of the payload. */
  fields?: string[];
  /** `--payload <json>`: the whole payload object instead of the field flags. */
  payload?: string;
  batch?: string;
  secret?: string;
  secretStdin?: boolean;
  secretFile?: string;
}

export interface EncryptResult {
  token: string;
  payload: Record<string, unknown>;
}

export interface EncryptBatchResult {
  batch: true;
  count: number;
}

const RESERVED = new Set(['id', 'name', 'email']);

export function registerEncrypt(program: Command, ctx: Ctx, runF = runEncrypt): void {
  program
    .command('encrypt')
    .description('Mint a TeamWeb AI identity token: AES-256-GCM of the JSON payload, base64 of nonce ‖ ciphertext ‖ tag')
    .option('--id <id>', 'the user id (the contact\'s External ID in TeamWeb)')
    .option('--name <name>', 'display name')
    .option('--email <email>', 'email')
    .option('--field <k=v>', 'an extra payload field (string), repeatable', (v: string, prev: string[] = []) => [...prev, v])
    .option('--payload <json>', 'the whole payload as a JSON object, instead of --id/--name/--email/--field')
    .option('--batch <file|->', 'one token per user id: a file (one id per line, or CSV with user_id/external_id/id, email, name) or - for stdin')
    .option('--secret <value>', SECRET_OPTION_HELP.secret)
    .option('--secret-stdin', SECRET_OPTION_HELP.secretStdin)
    .option('--secret-file <path>', SECRET_OPTION_HELP.secretFile)
    .addHelpText(
      'after',
      `
The key is the TeamWeb identity secret: base64 of exactly 32 bytes. Each token gets a fresh
random 12-byte nonce and no AAD. Output: the token alone; --json: {"token","payload"}.
With --batch: one token per line, or NDJSON {"userId","token"} with --json. The flags
apply to every row; a CSV email or name cell wins for its row, and --email/--name fill
the rows without one (on a plain id list, every token gets the same email and name).

Examples:
  $ chatid encrypt --id user_123 --name "Ann Lee" --email ann@example.com
  $ chatid encrypt --payload '{"id":"user_123","plan":"pro"}' --json
  $ chatid encrypt --batch users.csv > tokens.txt
  $ chatid encrypt --id user_123 | chatid decrypt`,
    )
    .action(async (flags: Record<string, unknown>) => {
      const opts: EncryptOptions = {};
      for (const k of ['id', 'name', 'email', 'payload', 'batch', 'secret', 'secretFile'] as const) if (typeof flags[k] === 'string') opts[k] = flags[k];
      if (Array.isArray(flags.field)) opts.fields = flags.field as string[];
      if (flags.secretStdin) opts.secretStdin = true;
      const result = await runF(opts, ctx);
      if ('batch' in result) return;
      emit(ctx, result, renderEncrypt);
    });
}

export async function runEncrypt(opts: EncryptOptions, ctx: Ctx): Promise<EncryptResult | EncryptBatchResult> {
  if (opts.batch === '-' && (opts.secretStdin || opts.secretFile === '-')) {
    throw new UsageError('ERR_STDIN_TWICE', 'Both the batch ids and the secret would come from stdin.', { hint: 'Pass the secret with --secret-file <path> or CHATID_SECRET.' });
  }
  // `--email "$EMAIL"` with EMAIL unset would encrypt "email": "" as if it were the user's.
  for (const k of ['name', 'email'] as const) {
    const v = opts[k];
    if (v !== undefined && v.trim() === '') throw new UsageError('ERR_ENCRYPT_FIELD_EMPTY', `--${k} was given an empty value.`, { hint: `Give a value, or leave --${k} out (check the variable holding it is set).` });
  }
  const extra = parseFields(opts.fields ?? []);
  let payload: Record<string, unknown> | undefined;
  if (opts.payload !== undefined) {
    if (opts.id !== undefined || opts.name !== undefined || opts.email !== undefined || opts.fields?.length || opts.batch !== undefined) {
      throw new UsageError('ERR_ENCRYPT_PAYLOAD_AND_FIELDS', '--payload gives the whole payload; it cannot be combined with --id, --name, --email, --field or --batch.', {
        hint: 'Put every field in the --payload JSON, or use the field flags alone.',
      });
    }
    payload = parsePayload(opts.payload);
    const dups = (await import('../../core/jwt-parse.js')).duplicateMemberNames(opts.payload);
    if (dups.length > 0) warn(ctx, `--payload holds ${dups.map((n) => JSON.stringify(n)).join(', ')} more than once; the token carries the last value only.`);
  } else if (opts.batch !== undefined) {
    if (opts.id !== undefined) throw new UsageError('ERR_ENCRYPT_BATCH_ID', '--batch takes the user ids from its input; --id cannot be combined with it.', { hint: 'Drop --id, or drop --batch to make one token.' });
  } else {
    if (opts.id === undefined) {
      throw new UsageError('ERR_ENCRYPT_ID_REQUIRED', 'No user id: TeamWeb needs "id" in every token.', { hint: 'Pass --id user_123 (plus --name/--email), --payload \'{"id":…}\', or --batch for many.' });
    }
    if (opts.id === '') throw new UsageError('ERR_ENCRYPT_ID_EMPTY', '--id is empty.', { hint: "Pass the user's id as TeamWeb knows it (the contact's External ID)." });
    payload = { id: opts.id };
    if (opts.name !== undefined) payload.name = opts.name;
    if (opts.email !== undefined) payload.email = opts.email;
    Object.assign(payload, extra);
  }
  if (payload !== undefined) {
    // The decrypt side's id checks, told before the token is made (no id, a number, whitespace).
    const idWarning = (await import('../../core/teamweb-decrypt.js')).payloadIdWarning(payload);
    if (idWarning) warn(ctx, `${idWarning.code}: ${idWarning.message}`);
  }

  const [{ resolveTeamWebKey }, { encryptTeamWeb, MAX_TEAMWEB_PLAINTEXT_BYTES }] = await Promise.all([import('./key.js'), import('../../core/teamweb-encrypt.js')]);
  const { key } = await resolveTeamWebKey(ctx, opts);
  if (payload === undefined) return encryptBatch(opts, extra, key, ctx);
  const text = JSON.stringify(payload);
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_TEAMWEB_PLAINTEXT_BYTES) throw await tooLarge(`The payload is ${bytes} bytes of JSON`);
  const token = encryptTeamWeb(key, text, ctx.random(TEAMWEB_NONCE_BYTES));
  return { token, payload };
}

function parseFields(fields: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields) {
    const i = f.indexOf('=');
    const k = i === -1 ? '' : f.slice(0, i);
    if (i <= 0) throw new UsageError('ERR_ENCRYPT_FIELD', `--field ${JSON.stringify(f)} is not key=value.`, { hint: 'Write --field plan=pro.' });
    if (RESERVED.has(k)) throw new UsageError('ERR_ENCRYPT_FIELD', `--field ${k}=… : use --${k} for "${k}".`, { hint: `Write --${k} <value>.` });
    if (Object.prototype.hasOwnProperty.call(out, k) || k === '__proto__') throw new UsageError('ERR_ENCRYPT_FIELD', `--field ${k} is given twice (or is not allowed).`, { hint: 'Give each field once.' });
    out[k] = f.slice(i + 1);
  }
  return out;
}

function parsePayload(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError('ERR_ENCRYPT_PAYLOAD_JSON', `--payload is not valid JSON (${(err as Error).message}).`, { hint: 'Quote it for your shell: --payload \'{"id":"user_123"}\'.' });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError('ERR_ENCRYPT_PAYLOAD_JSON', '--payload must be a JSON object.', { hint: 'Write --payload \'{"id":"user_123","name":"Ann"}\'.' });
  }
  return value as Record<string, unknown>;
}

async function encryptBatch(opts: EncryptOptions, extra: Record<string, string>, key: Uint8Array, ctx: Ctx): Promise<EncryptBatchResult> {
  const [{ teamWebEncrypter, MAX_TEAMWEB_PLAINTEXT_BYTES }, batch] = await Promise.all([import('../../core/teamweb-encrypt.js'), import('../../cli/batch.js')]);
  const encrypt = teamWebEncrypter(key);
  // Fields shared by every row, serialised once; each row adds id (and name/email) in front.
  const extraJson = JSON.stringify(extra).slice(1, -1);
  const tail = extraJson === '' ? '}' : `,${extraJson}}`;
  const input = await batch.openBatchInput(ctx, opts.batch!);
  const out = new batch.BatchWriter(ctx.io.stdout);
  const json = ctx.ui.json;
  let count = 0;
  // JSON.stringify writes the ids until the input holds a character jsonText escapes.
  let quote = JSON.stringify;
  const onJsonUnsafe = () => (quote = jsonString);
  // On a bad line or Ctrl-C, what was computed before it is still written, in order.
  try {
    for await (const rows of batch.readBatchChunks(input, { signal: ctx.signal, onJsonUnsafe, ...batch.readsColumns(ctx, 'encrypt --batch', ['email', 'name']) })) {
      // One random draw per chunk: 12 fresh bytes per row, never shared between rows.
      const nonces = ctx.random(TEAMWEB_NONCE_BYTES * rows.length);
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!;
        let text = `{"id":${JSON.stringify(r.userId)}`;
        const name = r.name ?? opts.name;
        const email = r.email ?? opts.email;
        if (name !== undefined) text += `,"name":${JSON.stringify(name)}`;
        if (email !== undefined) text += `,"email":${JSON.stringify(email)}`;
        text += tail;
        // Only a long row can be too large (an id fills at most MAX_LINE_CHARS): measure those.
        if (text.length * 3 > MAX_TEAMWEB_PLAINTEXT_BYTES && Buffer.byteLength(text) > MAX_TEAMWEB_PLAINTEXT_BYTES) throw await tooLarge(`Batch input line ${r.line}: its payload is ${Buffer.byteLength(text)} bytes of JSON`);
        const token = encrypt(text, nonces.subarray(i * TEAMWEB_NONCE_BYTES, (i + 1) * TEAMWEB_NONCE_BYTES));
        const p = out.write(json ? `{"userId":${quote(r.userId)},"token":"${token}"}\n` : `${token}\n`);
        if (p) await p;
      }
      count += rows.length;
    }
  } finally {
    await out.end();
  }
  info(ctx, `encrypted ${count} token${count === 1 ? '' : 's'}`);
  return { batch: true, count };
}

/** A payload whose token `decrypt` (and any sane widget) would refuse for its length. */
async function tooLarge(what: string): Promise<UsageError> {
  const { MAX_TEAMWEB_PLAINTEXT_BYTES, MAX_TEAMWEB_TOKEN_CHARS } = await import('../../core/teamweb-encrypt.js');
  return new UsageError('ERR_ENCRYPT_TOO_LARGE', `${what}; at most ${MAX_TEAMWEB_PLAINTEXT_BYTES} fit in a token of ${MAX_TEAMWEB_TOKEN_CHARS} characters, the most \`chatid decrypt\` reads.`, {
    hint: 'An identity token carries who the visitor is (id, name, email, a few fields), not data: leave the large values out.',
  });
}

/** Human output: the token alone, so `$(chatid encrypt …)` works. */
export function renderEncrypt(r: EncryptResult): string {
  return `${r.token}\n`;
}
