import type { FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Ctx } from './context.js';
import { UsageError } from './errors.js';
import { secretTextProblem } from '../core/secret-key.js';
import { readStdinText, warn } from './output.js';

/** The ways a secret (or API key) may be passed on the command line (../shared/spec/cli.md §2). */
export interface SecretFlags {
  /** `--secret <value>`: works, but warns (argv is visible to other users and history). */
  secret?: string;
  /** `--secret-stdin` */
  secretStdin?: boolean;
  /** `--secret-file <path>` (`-` is stdin) */
  secretFile?: string;
}

/** Commander option definitions shared by every command that takes a secret. */
export const SECRET_OPTION_HELP = {
  secret: 'identity secret (visible in ps and shell history: prefer --secret-stdin, --secret-file, CHATID_SECRET or the store)',
  secretStdin: 'read the identity secret from stdin (a trailing newline is stripped, with a warning)',
  secretFile: 'read the identity secret from a file (a trailing newline is stripped, with a warning)',
} as const;

/**
 * Strip a byte-order mark that starts the text and say so: an editor (Notepad) writes it in
 * front of a file's text; it is no part of the secret, as it is no part of an id read from
 * stdin or a batch file. The file and stdin paths read it the same way.
 */
export function stripLeadingBom(ctx: Ctx, text: string, where: string): string {
  if (text.charCodeAt(0) !== 0xfeff) return text;
  warn(ctx, `removed a byte-order mark (U+FEFF) from the start of the ${where}.`);
  return text.slice(1);
}

/**
 * Strip one trailing newline (LF or CRLF) and say so: a secret file written by `echo` or an
 * editor ends in one, and it changes every HMAC (vendors.md §8).
 */
export function stripFinalNewline(ctx: Ctx, text: string, where: string): string {
  const m = /\r?\n$/.exec(text);
  if (!m) return text;
  warn(ctx, `removed a trailing newline from the ${where}; the value used has ${[...text].length - m[0].length} characters.`);
  return text.slice(0, -m[0].length);
}

/**
 * Refuse a secret that is only whitespace; warn about one with whitespace around it or a line
 * break in it (vendors.md §8: the commonest reason a hash matches nowhere), and about the docs'
 * placeholder `…` in it. Used as given: a user reproducing a server's mistake may mean it.
 */
export function checkSecretText(ctx: Ctx, value: string, where: string): void {
  const p = secretTextProblem(value);
  if (p === undefined) return;
  if (p.kind === 'only-whitespace') {
    throw new UsageError('ERR_SECRET_EMPTY', `The ${where} is only whitespace.`, { hint: 'Pass the secret itself, as the vendor dashboard shows it.' });
  }
  warn(ctx, `the ${where} ${p.what}; it is used as given, so hashes and tokens differ from those made with the real secret.`);
}

/**
 * Read a secret given by flag, stdin or file; undefined when none of those was used.
 * `label` names it in messages ("identity secret", "API key").
 */
export async function readSecretFlags(ctx: Ctx, f: SecretFlags, label = 'identity secret', flagName = '--secret', o: { forStoring?: boolean } = {}): Promise<string | undefined> {
  const given = [f.secret !== undefined, Boolean(f.secretStdin), f.secretFile !== undefined].filter(Boolean).length;
  if (given > 1) {
    throw new UsageError('ERR_SECRET_SOURCES', `Give the ${label} one way only: ${flagName}, ${flagName}-stdin or ${flagName}-file.`, {
      hint: `Keep one of them; ${flagName}-file <path> or ${flagName}-stdin keep the value out of argv and shell history.`,
    });
  }
  if (f.secret !== undefined) {
    warn(ctx, `${flagName} puts the ${label} in argv, visible to other users (ps) and in shell history; prefer ${flagName}-stdin, ${flagName}-file or the store.`);
    return checked(ctx, checkNotEmpty(f.secret, label), `${label} given with ${flagName}`, flagName, o);
  }
  if (f.secretStdin || f.secretFile === '-') {
    if (ctx.io.stdin.isTTY) {
      throw new UsageError('ERR_SECRET_STDIN_TTY', `${flagName}-stdin reads the ${label} from a pipe, but stdin is a terminal.`, {
        hint: `Pipe it in (e.g. \`pass show x | chatid … ${flagName}-stdin\`), or omit the flag to be prompted.`,
      });
    }
    const fromStdin = await readStdinText(ctx, SECRET_MAX_BYTES, { tooLargeHint: `A ${label} is short: pipe in only the ${label}.`, notText: () => notText(`The ${label} read from stdin`) });
    const where = `${label} read from stdin`;
    return checked(ctx, checkNotEmpty(stripFinalNewline(ctx, stripLeadingBom(ctx, fromStdin, where), where), label), where, flagName, o);
  }
  if (f.secretFile !== undefined) {
    // resolve('') is the working directory, which the user never named (an unset variable).
    if (f.secretFile.trim() === '') {
      throw new UsageError('ERR_SECRET_FILE', `${flagName}-file is empty: it takes a file path, or - for stdin.`, { hint: `Check that the variable holding the path is set, e.g. ${flagName}-file "$KEY_FILE".` });
    }
    const path = resolve(ctx.cwd, f.secretFile);
    let text: string;
    try {
      // Imported here: node:fs/promises (readline, file watchers behind it) is not loaded at
      // start-up by every command that merely defines the secret flags.
      const { open } = await import('node:fs/promises');
      // One open: the mode checked below is that of the file whose bytes were read.
      const fh = await open(path, 'r');
      let bytes: Buffer;
      let st: Awaited<ReturnType<typeof fh.stat>>;
      try {
        [bytes, st] = await Promise.all([readAtMost(fh, SECRET_MAX_BYTES + 1), fh.stat()]);
      } finally {
        await fh.close();
      }
      // A wrong path (a log, a disk image, /dev/zero) was read whole, or forever.
      if (bytes.length > SECRET_MAX_BYTES) {
        throw new UsageError('ERR_SECRET_FILE_TOO_LARGE', `The ${label} file ${path} holds more than ${SECRET_MAX_BYTES} bytes; a secret is far shorter.`, {
          hint: `Check the path: ${flagName}-file takes a file that holds only the ${label}.`,
        });
      }
      try {
        // ignoreBOM: a BOM is kept here and removed below with a warning, not dropped unsaid.
        text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
      } catch {
        throw notText(`The ${label} file ${path}`);
      }
      // As the store warns of its own file: a secret others can read is no longer secret.
      const mode = st.mode & 0o777;
      // Regular files only, with a read bit for group or others: a pipe (`<(pass show x)`) is
      // nobody else's to read, and /dev/stdin names the shell's input, not a file to chmod.
      const special = /^\/(dev|proc)\//.test(path);
      if (ctx.platform.os !== 'win32' && st.isFile() && !special && (mode & 0o044) !== 0) {
        warn(ctx, `the ${label} file ${path} is mode 0${mode.toString(8)}, readable by other users; run chmod 600 ${path}.`);
      }
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError('ERR_SECRET_FILE', `Cannot read the ${label} file ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)}).`, {
        cause: err,
        hint: 'Check the path and permissions.',
      });
    }
    return checked(ctx, checkNotEmpty(stripFinalNewline(ctx, stripLeadingBom(ctx, text, `${label} file`), `${label} file`), label), `${label} from ${path}`, flagName, o);
  }
  return undefined;
}

/** The most a secret (or API key) read from stdin or a file may hold, in bytes. */
const SECRET_MAX_BYTES = 64 * 1024;

/** The first `max` bytes of an open file, or fewer when it ends sooner (a device may never end). */
async function readAtMost(fh: FileHandle, max: number): Promise<Buffer> {
  const buf = Buffer.alloc(max);
  let n = 0;
  while (n < max) {
    const { bytesRead } = await fh.read(buf, n, max - n, null);
    if (bytesRead === 0) break;
    n += bytesRead;
  }
  return buf.subarray(0, n);
}

/**
 * Secrets are text: a binary key read as UTF-8 would be changed (each bad byte becomes U+FFFD)
 * and every hash and token made with it would be wrong without a word.
 */
function notText(what: string): UsageError {
  return new UsageError('ERR_SECRET_NOT_TEXT', `${what} is not UTF-8 text: chatid would not use the bytes it holds.`, {
    hint: "Write a binary key as text with its encoding, base64:<…> or hex:<…>, e.g. `(umask 077; printf 'base64:%s' \"$(base64 -w0 key.bin)\" > key.txt)`.",
  });
}

/**
 * Ask for an identity secret at a hidden prompt, for this one command (nothing is stored):
 * refused when empty or only whitespace, warned of when whitespace surrounds it.
 */
export async function promptSecret(ctx: Ctx, message: string, emptyHint: string): Promise<string> {
  const typed = await ctx.prompter.password(message);
  if (typed === '') throw new UsageError('ERR_SECRET_EMPTY', 'The identity secret is empty.', { hint: emptyHint });
  checkSecretText(ctx, typed, 'identity secret typed at the prompt');
  return typed;
}

/** Identity secrets get the whitespace check (API keys have their own, stricter shape rule). */
function checked(ctx: Ctx, value: string, where: string, flagName: string, o: { forStoring?: boolean }): string {
  // A secret to store is judged by the store's stricter rule (secretProblem), not warned of here.
  if (flagName === '--secret' && !o.forStoring) checkSecretText(ctx, value, where);
  return value;
}

function checkNotEmpty(value: string, label: string): string {
  if (value === '') throw new UsageError('ERR_SECRET_EMPTY', `The ${label} is empty.`, { hint: 'Pass a non-empty value.' });
  return value;
}
