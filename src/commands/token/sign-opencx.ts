import type { Ctx } from '../../cli/context.js';
import { UsageError } from '../../cli/errors.js';

/**
 * `token sign --provider opencx`: ask OpenCX to mint a contact token
 * (`POST /widget/authenticate-user`, ../shared/spec/vendors.md §6) and print it, as JSON
 * when `json` is set. Placeholder until the OpenCX client lands.
 */
export async function signOpencx(o: { email: string; name?: string; json: boolean }, ctx: Ctx): Promise<void> {
  void o;
  void ctx;
  throw new UsageError('ERR_NOT_IMPLEMENTED', 'OpenCX contact tokens are not implemented yet.', {
    hint: 'OpenCX mints the token itself: call POST https://api.open.cx/widget/authenticate-user with your org API key.',
  });
}
