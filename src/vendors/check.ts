/**
 * Ask the vendor whether the API key works (`whoami --check`): Chatbase
 * `GET /api/v1/get-chatbots`, Bookbag an agent-scoped read (or get-chatbots), Replyful
 * `GET /v1/conversations?limit=1`, OpenCX an empty authenticate-user call. Exit codes follow
 * the contract: 0 accepted, 4 rejected (401/403) or missing, 1 network/server, 2 when the
 * provider has no API to ask.
 */
import type { Ctx } from '../cli/context.js';
import { type CliError, ExitCode, type ExitCodeValue, toCliError } from '../cli/errors.js';
import type { Settings } from '../cli/settings.js';
import type { ClientTuning } from './factory.js';

export interface KeyCheckOutcome {
  ok: boolean;
  provider: string;
  /** The call made, e.g. `GET /api/v1/get-chatbots`. */
  endpoint: string | null;
  /** What the vendor said, in a few words. */
  detail: string | null;
  /** The HTTP status of a rejection, when there was one. */
  status: number | null;
  error: { code: string; message: string; hint?: string } | null;
  exitCode: ExitCodeValue;
  /** The typed error behind a failure (not serialised). */
  cause?: CliError;
}

/**
 * Run the check. Setup problems (provider without an API: exit 2; no key: exit 4) throw;
 * the vendor's answer, good or bad, comes back as an outcome so callers can print it.
 */
export async function checkCredentials(ctx: Ctx, settings: Settings, tuning: ClientTuning = {}): Promise<KeyCheckOutcome> {
  const { openChecker } = await import('./factory.js');
  const checker = await openChecker(ctx, settings, tuning);
  const provider = settings.provider?.value ?? '?';
  try {
    const r = await checker.check();
    return { ok: true, provider, endpoint: r.endpoint, detail: r.detail, status: null, error: null, exitCode: ExitCode.ok };
  } catch (err) {
    const e = toCliError(err);
    const status = (e.details as { status?: unknown } | undefined)?.status;
    const error: KeyCheckOutcome['error'] = { code: e.code, message: e.message };
    if (e.hint !== undefined) error.hint = e.hint;
    return { ok: false, provider, endpoint: null, detail: null, status: typeof status === 'number' ? status : null, error, exitCode: e.exitCode, cause: e };
  }
}
