import type { Ctx } from './context.js';
import { CancelledError, type CliError, ExitCode, INTERNAL_HINT, INTERNAL_HINT_NO_STACK, INTERNAL_HINT_WITH_STACK, UsageError } from './errors.js';
import { mapStack } from './stack.js';

/**
 * Write a command's result: one JSON document on stdout with --json, otherwise the human
 * rendering (../shared/STYLE.md §7). `run` functions return data; this is the only place
 * that decides between the two.
 */
export function emit<R>(ctx: Ctx, result: R, human: (r: R, ctx: Ctx) => string): void {
  if (ctx.ui.json) {
    // NDJSON (a command that says so): one document per line.
    ctx.io.stdout.write(`${jsonText(result, ctx.ui.ndjson ? undefined : 2)}\n`);
    return;
  }
  const text = human(result, ctx);
  if (text !== '') ctx.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/**
 * A field of a vendor's record as text for a human table: absent or null is "-", a string is
 * itself, anything else its JSON. Vendors send null, numbers or nothing where the docs say
 * string (a contact made in the dashboard has no external id). Control characters are
 * escaped (\t, \n, \r, \u001b…): data from a server must not move the cursor, recolour or
 * clear the terminal, nor split one record over two lines of a listing scripts cut apart.
 * @example fieldText(undefined) // "-"
 * @example fieldText('a\nb') // "a\\nb"
 */
export function fieldText(v: unknown): string {
  if (v === undefined || v === null) return '-';
  return escapeControls(typeof v === 'string' ? v : JSON.stringify(v));
}

const CONTROL_ESCAPES: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** C0 and C1 controls, DEL and the Unicode line/paragraph separators, written as escapes. */
export function escapeControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => CONTROL_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Text from a server for a terminal, where its lines should stay lines (a chat answer):
 * escapeControls for every control but the newline, the tab and a CR+LF line end, so ESC,
 * a lone CR or a C1 CSI cannot move the cursor, recolour or clear the screen.
 * @example escapeControlsKeepLines('a\tb\r\nc\u001b[2J') // 'a\tb\r\nc\\u001b[2J'
 */
export function escapeControlsKeepLines(text: string): string {
  return text
    .split(/(\r\n|\n|\t)/)
    .map((part, i) => (i % 2 === 1 ? part : escapeControls(part)))
    .join('');
}

/** What JSON.stringify leaves raw but a terminal or a JavaScript parser may not take: DEL, C1, U+2028/U+2029 (batch.ts tests each chunk it reads with it). */
export const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029]/;
const JSON_UNSAFE_ALL = /[\u007f-\u009f\u2028\u2029]/g;
const unicodeEscape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * A JSON document as text. JSON.stringify escapes C0 controls (ESC is \u001b) but leaves DEL,
 * the C1 controls (U+009B is a CSI to some terminals) and U+2028/U+2029 as they are; they are
 * escaped too. The value is the same for any JSON parser, and a document `emit` or
 * `renderError` writes is safe on a terminal. The `--batch --json` lines of hash, encrypt and
 * token sign, built by hand on a hot path, write their strings with {@link jsonString}, which
 * escapes the same way.
 */
export function jsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(JSON_UNSAFE_ALL, unicodeEscape);
}

/**
 * One string as a JSON string literal, escaped as {@link jsonText} escapes it, for output
 * lines built by hand (`--batch --json`). Ids are almost always ASCII: one test of the
 * literal, and the replace runs only when it holds such a character.
 * @example jsonString('a\u2028b') // '"a\\u2028b"'
 */
export function jsonString(text: string): string {
  const j = JSON.stringify(text);
  return JSON_UNSAFE.test(j) ? j.replace(JSON_UNSAFE_ALL, unicodeEscape) : j;
}

/**
 * `text` as a JSON string with the whitespace no one can see (a BOM, a no-break space)
 * escaped: JSON.stringify leaves them as they are, so "\uFEFFu3" was printed as "u3".
 * @example quoteVisible('u3\u00a0') // '"u3\\u00a0"'
 */
export function quoteVisible(text: string): string {
  return JSON.stringify(text).replace(/[\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A warning on stderr (also in --json mode, which keeps stdout for the document); -q hides it. */
export function warn(ctx: Ctx, message: string): void {
  if (ctx.ui.quiet) return;
  ctx.io.stderr.write(`${ctx.errColor.yellow('warning:')} ${message}\n`);
}

/** An informational line on stderr (progress, what was done); hidden by -q. */
export function info(ctx: Ctx, message: string): void {
  if (ctx.ui.quiet) return;
  ctx.io.stderr.write(`${message}\n`);
}

/** Detail for --verbose only, on stderr. Never pass secrets here. */
export function verbose(ctx: Ctx, message: string): void {
  if (!ctx.ui.verbose) return;
  ctx.io.stderr.write(`${ctx.errColor.dim(`[verbose] ${message}`)}\n`);
}

/** Print an error the way the contract says and return its exit code. */
export function renderError(err: CliError, ctx: Ctx): number {
  const stack = ctx.ui.verbose && err.exitCode === ExitCode.failure && err.cause instanceof Error ? err.cause.stack : undefined;
  // Under --verbose the stack (if any) is printed below: do not ask for a re-run with --verbose.
  const hint = ctx.ui.verbose && err.hint === INTERNAL_HINT ? (stack ? INTERNAL_HINT_WITH_STACK : INTERNAL_HINT_NO_STACK) : err.hint;
  if (ctx.ui.json) {
    const error: Record<string, unknown> = { code: err.code, message: err.message };
    if (hint !== undefined) error.hint = hint;
    if (err.details) Object.assign(error, err.details);
    ctx.io.stdout.write(`${jsonText({ error }, ctx.ui.ndjson ? undefined : 2)}\n`);
  } else if (err.exitCode !== ExitCode.cancelled || err.message !== 'Cancelled') {
    ctx.io.stderr.write(`${ctx.errColor.red('error:')} ${err.message} ${ctx.errColor.dim(`(${err.code})`)}\n`);
    if (hint) ctx.io.stderr.write(`${ctx.errColor.cyan('hint:')} ${hint}\n`);
  } else {
    ctx.io.stderr.write('Cancelled.\n');
  }
  if (stack) ctx.io.stderr.write(`${ctx.errColor.dim(mapStack(stack))}\n`);
  return err.exitCode;
}

/**
 * Read all of stdin as UTF-8 text, refusing more than `maxBytes` (a pasted token is small) and
 * bytes that are not UTF-8 (decoded leniently, they would become U+FFFD and be used changed).
 * `tooLargeHint` and `notText` fit the refusals to the command.
 */
export async function readStdinText(ctx: Ctx, maxBytes = 1 << 20, o: { tooLargeHint?: string; notText?: () => CliError } = {}): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Ctrl-C while stdin is a terminal (or a pipe) that has not ended: a cancellation now, not
  // the forced exit 2 s later without a word.
  const it = ctx.io.stdin[Symbol.asyncIterator]();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new CancelledError('Cancelled', { cause: ctx.signal.reason }));
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    for (;;) {
      const next = await Promise.race([it.next(), aborted]);
      if (next.done) break;
      const chunk: unknown = next.value;
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      size += b.length;
      if (size > maxBytes) {
        throw new UsageError('ERR_INPUT_TOO_LARGE', `stdin holds more than ${maxBytes} bytes.`, { hint: o.tooLargeHint ?? 'Pass a single value: stdin holds one id, token or message here.' });
      }
      chunks.push(b);
    }
  } catch (err) {
    // Stop reading (a Readable is destroyed): nothing more is wanted from it.
    void it.return?.()?.catch(() => undefined);
    throw err;
  } finally {
    if (onAbort) ctx.signal.removeEventListener('abort', onAbort);
  }
  const bytes = Buffer.concat(chunks);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw (
      o.notText?.() ??
      new UsageError('ERR_INPUT_NOT_UTF8', 'stdin is not valid UTF-8 (a Latin-1 or UTF-16 text?): chatid would not use a value it had to change.', {
        hint: 'Convert it first, e.g. `iconv -f latin1 -t utf-8`, or pass the value as an argument.',
      })
    );
  }
}

/**
 * One user id from stdin (`chatid hash -`, `token sign -`, or the id left out with stdin a
 * pipe; cli.md §4): a leading BOM and one final line end are dropped (said on stderr); bytes
 * that are not UTF-8 text, an empty stdin or several lines are refused, the last naming
 * `--batch` for many (or `severalHint`, for a command without --batch).
 * @example await readUserIdFromStdin(ctx, { command: 'hash', code: 'ERR_HASH' }) // 'user_123' for `echo user_123 | chatid hash`
 */
export async function readUserIdFromStdin(ctx: Ctx, o: { command: string; code: string; severalHint?: string }): Promise<string> {
  const many = o.severalHint ?? `Use \`chatid ${o.command} --batch -\` for one id per line.`;
  // Bytes that are not UTF-8 text are refused, as --batch and the secret inputs refuse them:
  // decoded leniently, the id would be changed without a word.
  const notText = (why: string) =>
    new UsageError(`${o.code}_STDIN_NOT_TEXT`, `The user id read from stdin ${why}.`, { hint: 'Convert it to UTF-8 (e.g. `iconv -f latin1 -t utf-8`), or pass the id as an argument.' });
  let text = await readStdinText(ctx, 64 * 1024, { tooLargeHint: `Pass one user id. ${many}`, notText: () => notText('is not valid UTF-8 (Latin-1 or UTF-16 text?)') });
  if (text.charCodeAt(0) === 0xfeff) {
    warn(ctx, 'removed a byte-order mark (U+FEFF) from the start of stdin.');
    text = text.slice(1);
  }
  if (text.includes('\u0000')) throw notText('holds a NUL byte (UTF-16 text?)');
  const m = /\r?\n$/.exec(text);
  if (m) {
    text = text.slice(0, -m[0].length);
    verbose(ctx, 'removed the final newline from the user id read from stdin');
  }
  if (text === '') throw new UsageError(`${o.code}_USER_ID_REQUIRED`, 'No user id: stdin was empty.', { hint: `Pass it: \`chatid ${o.command} user_123\`, or \`echo -n user_123 | chatid ${o.command}\`.` });
  if (/[\r\n]/.test(text)) throw new UsageError(`${o.code}_STDIN_LINES`, `stdin holds several lines; \`${o.command}\` reads one user id.`, { hint: many });
  return text;
}
