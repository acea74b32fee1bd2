// Helpers for the secret verbs: asking for a new secret and warning when the environment
// overrides what is stored.
import { canPrompt, type Ctx, promptsOffBecause } from '../../cli/context.js';
import { UsageError } from '../../cli/errors.js';
import { warn } from '../../cli/output.js';
import { readSecretFlags, type SecretFlags } from '../../cli/secret-input.js';
import type { Provider } from '../../core/providers.js';
import { checkSecret, secretProblem } from '../profile/shared.js';

/**
 * A new identity secret from --secret/--secret-stdin/--secret-file, else a hidden prompt; validated for `provider`.
 * `refuseCurrent`: the prompt does not accept this value (rotate's current secret).
 */
export async function readNewSecret(ctx: Ctx, flags: SecretFlags, provider: Provider, profile: string, o: { refuseCurrent?: string } = {}): Promise<string> {
  const given = await readSecretFlags(ctx, flags, undefined, undefined, { forStoring: true });
  if (given !== undefined) return checkSecret(provider, given);
  if (!canPrompt(ctx)) {
    // Said why: at a terminal with stdout redirected, "prompting is off" alone is a riddle.
    throw new UsageError('ERR_INPUT_REQUIRED', `No secret given, and chatid does not ask for one here because ${promptsOffBecause(ctx) ?? 'prompting is off'}.`, {
      hint: 'Pipe it in with --secret-stdin, or pass --secret-file <path>.',
    });
  }
  return ctx.prompter.password(`New identity secret for "${profile}"${provider === 'teamweb' ? ' (base64, 32 bytes)' : ''} (hidden)`, {
    // `secret rotate` refuses the current secret: said at the prompt, not after it, so nothing is typed twice.
    validate: (v) =>
      v === '' ? 'The secret is empty.' : o.refuseCurrent !== undefined && v === o.refuseCurrent ? `This is the secret "${profile}" already uses; give a new one.` : (secretProblem(provider, v) ?? true),
  });
}

/** CHATID_SECRET wins over the store (../shared/spec/cli.md §2): say so when it is set. */
export function warnEnvOverride(ctx: Ctx): void {
  if (ctx.env.CHATID_SECRET) warn(ctx, 'CHATID_SECRET is set: commands use it instead of the stored secret until you unset it.');
}
