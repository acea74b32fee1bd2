/**
 * Typed errors and the one exit-code table (../shared/spec/cli.md §1). This file imports
 * nothing, so every layer (core, store, vendors, sandbox, commands) may throw these.
 * Scripts branch on the exit code and tests on `code`; messages may change, codes may not.
 */

export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  mismatch: 3,
  auth: 4,
  partial: 5,
  cancelled: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface CliErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Extra machine-readable fields rendered under `error` in --json mode. */
  details?: Record<string, unknown>;
}

/** Base class: exit 1 (failure). `code` is stable (`ERR_<AREA>_<FAILURE>`), `hint` says what to do next. */
export class CliError extends Error {
  readonly exitCode: ExitCodeValue = ExitCode.failure;
  readonly code: string;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: string, message: string, o: CliErrorOptions = {}) {
    super(message, { cause: o.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = o.hint;
    this.details = o.details;
  }
}

/** Exit 1: network failure, 5xx, I/O error. */
export class NetworkError extends CliError {}
/** Exit 1: a bug or an unexpected state. */
export class InternalError extends CliError {}
/** Exit 1: the local store cannot be read or written. */
export class StoreError extends CliError {}
/** Exit 1: the vendor answered with an error that is not about credentials. */
export class VendorError extends CliError {}
/** Exit 2: unknown flag, missing argument, bad value, or input needed while prompting is off. */
export class UsageError extends CliError {
  override readonly exitCode = ExitCode.usage;
}
/** Exit 3: invalid token, hash mismatch, decryption failure. */
export class VerificationError extends CliError {
  override readonly exitCode = ExitCode.mismatch;
}
/** Exit 4: credentials missing, or rejected by the vendor (401/403). */
export class AuthError extends CliError {
  override readonly exitCode = ExitCode.auth;
}
/** Exit 5: partial success; the command has already printed its result. */
export class PartialSuccessError extends CliError {
  override readonly exitCode = ExitCode.partial;
}
/** Exit 130: the user pressed Ctrl-C or cancelled a prompt. */
export class CancelledError extends CliError {
  override readonly exitCode = ExitCode.cancelled;
  constructor(message = 'Cancelled', o: CliErrorOptions = {}) {
    // Every error carries a next step (cli.md §1); a cancel's is to run the command again.
    super('ERR_CANCELLED', message, { ...o, hint: o.hint ?? 'Stopped at your request; run the command again to do it.' });
  }
}

/**
 * A result already rendered, with a non-zero exit code and no further error output
 * (e.g. `token verify` prints `{"valid":false,…}` and exits 3).
 */
export class ExitWithCode extends Error {
  readonly exitCode: ExitCodeValue;
  constructor(exitCode: ExitCodeValue) {
    super(`exit ${exitCode}`);
    this.exitCode = exitCode;
  }
}

/** The hint of an internal error; under --verbose renderError swaps it for one of the two below. */
export const INTERNAL_HINT = 'This is a bug in chatid. Re-run with --verbose for the stack trace and report it.';
export const INTERNAL_HINT_WITH_STACK = 'This is a bug in chatid. Please report it with the stack trace printed below.';
/** The same under --verbose when what was thrown has no stack (not an Error). */
export const INTERNAL_HINT_NO_STACK = 'This is a bug in chatid. Please report it with the command you ran; it left no stack trace.';

/** Anything thrown becomes a CliError; unknown errors are internal (exit 1) with their cause kept. */
export function toCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  const e = err as { name?: string; code?: unknown; message?: unknown } | null;
  if (e && (e.name === 'ExitPromptError' || e.name === 'AbortPromptError')) return new CancelledError('Cancelled', { cause: err });
  const message = e && typeof e.message === 'string' ? e.message : String(err);
  return new InternalError('ERR_INTERNAL', message, {
    cause: err,
    hint: INTERNAL_HINT,
  });
}
