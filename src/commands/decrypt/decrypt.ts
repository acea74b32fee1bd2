import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { UsageError, VerificationError } from '../../cli/errors.js';
import { emit, escapeControls, jsonText, readStdinText, warn } from '../../cli/output.js';
import { SECRET_OPTION_HELP } from '../../cli/secret-input.js';
import type { TeamWebWarning } from '../../core/teamweb-decrypt.js';

/** `chatid decrypt [token]` (cli.md §5): open a TeamWeb AI identity token, strictly. */
export interface DecryptOptions {
  /** The token as given: an argument, `-` for stdin, or undefined (stdin when it is not a TTY). */
  token?: string;
  secret?: string;
  secretStdin?: boolean;
  secretFile?: string;
}

export interface DecryptResult {
  payload: Record<string, unknown>;
  warnings: TeamWebWarning[];
}

export function registerDecrypt(program: Command, ctx: Ctx, runF = runDecrypt): void {
  program
    .command('decrypt')
    .description('Decrypt and check a TeamWeb AI identity token (exit 3 if it does not open)')
    .argument('[token]', 'the token; "-" or omitted with a pipe: read from stdin')
    .option('--secret <value>', SECRET_OPTION_HELP.secret)
    .option('--secret-stdin', SECRET_OPTION_HELP.secretStdin)
    .option('--secret-file <path>', SECRET_OPTION_HELP.secretFile)
    .addHelpText(
      'after',
      `
Strict: the token must be canonical standard base64 of nonce(12) ‖ ciphertext ‖ tag(16),
the tag must verify under the identity secret, and the payload must be a UTF-8 JSON object.
Each failure has its own error code (exit 3); a bad key is exit 2. A payload without "id"
still decrypts (exit 0) with a MISSING_ID warning.
Output: the payload JSON alone; --json: {"payload":{…},"warnings":[…]}.

Examples:
  $ chatid decrypt 'AAECAwQFBgcICQoL…'
  $ chatid encrypt --id user_123 | chatid decrypt --json`,
    )
    .action(async (token: string | undefined, flags: Record<string, unknown>) => {
      const opts: DecryptOptions = {};
      if (token !== undefined) opts.token = token;
      if (typeof flags.secret === 'string') opts.secret = flags.secret;
      if (typeof flags.secretFile === 'string') opts.secretFile = flags.secretFile;
      if (flags.secretStdin) opts.secretStdin = true;
      const result = await runF(opts, ctx);
      // The messages quote the payload (a name given twice): its controls are escaped.
      if (!ctx.ui.json) for (const w of result.warnings) warn(ctx, `${w.code}: ${escapeControls(w.message)}`);
      emit(ctx, result, renderDecrypt);
    });
}

export async function runDecrypt(opts: DecryptOptions, ctx: Ctx): Promise<DecryptResult> {
  const fromStdin = opts.token === '-' || (opts.token === undefined && !ctx.io.stdin.isTTY);
  if (fromStdin && (opts.secretStdin || opts.secretFile === '-')) {
    throw new UsageError('ERR_STDIN_TWICE', 'Both the token and the secret would come from stdin.', { hint: 'Pass the secret with --secret-file <path> or CHATID_SECRET.' });
  }
  let token: string;
  if (fromStdin) {
    // The line ends a pipe or a file leaves after the token are no part of it (as for token
    // verify); several lines are several tokens, or one wrapped: a usage error, not a bad token.
    token = (await readStdinText(ctx, 256 * 1024)).replace(/(?:\r?\n)+$/, '');
    const lines = token.split(/\r?\n/).length;
    if (lines > 1) {
      throw new UsageError('ERR_DECRYPT_STDIN_LINES', `stdin holds ${lines} lines; \`decrypt\` reads one token.`, {
        hint: 'Pass one token per run (e.g. `head -1 tokens.txt | chatid decrypt`); a token wrapped over several lines must be joined into one.',
      });
    }
  } else {
    token = opts.token ?? '';
  }
  if (token === '') {
    throw new UsageError('ERR_DECRYPT_TOKEN_REQUIRED', fromStdin ? 'No token: stdin was empty.' : 'No token.', { hint: 'Pass it: `chatid decrypt <token>`, or pipe it in.' });
  }
  const [{ otherTeamWebKeys, resolveTeamWebKey }, { decryptTeamWeb }] = await Promise.all([import('../encrypt/key.js'), import('../../core/teamweb-decrypt.js')]);
  const { key, settings } = await resolveTeamWebKey(ctx, opts);
  try {
    return decryptTeamWeb(key, token);
  } catch (err) {
    if (!(err instanceof VerificationError) || err.code !== 'ERR_DECRYPT_TAG') throw err;
    // During the grace period of a rotation the previous secret still counts (as in token verify).
    const { previous, others } = await otherTeamWebKeys(ctx, settings);
    if (previous) {
      let opened: ReturnType<typeof decryptTeamWeb> | undefined;
      try {
        opened = decryptTeamWeb(previous.key, token);
      } catch (e) {
        if ((e as { code?: string }).code !== 'ERR_DECRYPT_TAG') throw e; // it opened: its own problem is the answer
      }
      if (opened) {
        const warning = { code: 'PREVIOUS_SECRET' as const, message: `Decrypted with the previous secret, accepted until ${previous.until} (the grace period of the last rotation): the server that makes these tokens still uses it; deploy the current secret there.` };
        return { payload: opened.payload, warnings: [warning, ...opened.warnings] };
      }
    }
    // Prove which other key made the token, if one of ours did; the payload stays unshown.
    const { overriddenSecretFix } = await import('../../core/secret-candidates.js');
    for (const other of others) {
      try {
        decryptTeamWeb(other.key, token);
      } catch (e) {
        if ((e as { code?: string }).code === 'ERR_DECRYPT_TAG') continue;
      }
      throw new VerificationError('ERR_DECRYPT_TAG', `Decryption failed with the current secret: the token was made with ${other.label}.`, {
        hint: other.profileInUse !== undefined ? overriddenSecretFix(other.profileInUse) : 'Deploy the current identity secret to the server that mints the tokens (or use --profile for the other one).',
        cause: err,
      });
    }
    throw err;
  }
}

/**
 * Human output: the payload JSON alone (warnings go to stderr). Written by jsonText: the payload
 * comes from whoever made the token, and a C1 control (U+009B is a CSI) must not reach the terminal.
 */
export function renderDecrypt(r: DecryptResult): string {
  return `${jsonText(r.payload, 2)}\n`;
}
