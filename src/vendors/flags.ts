/**
 * The flags of commands that talk to a vendor. Kept apart from factory.ts and free of
 * runtime imports, so registering a command (every start-up, even `--help`) loads nothing.
 */
import type { Command } from 'commander';

/** Raw values of the network flags (see addNetworkOptions). */
export interface NetworkFlags {
  maxRetries?: string;
  maxWait?: string;
  rateLimit?: string;
}

/** Add --max-retries, --max-wait and --rate-limit to a command that talks to a vendor. */
export function addNetworkOptions(cmd: Command): Command {
  return cmd
    .option('--max-retries <n>', 'retries after a 429, a 5xx or a connection failure (default 5)')
    .option('--max-wait <duration>', 'longest Retry-After to honour before giving up, e.g. 60s, 5m (default 60s)')
    .option('--rate-limit <n/duration>', "client-side limit, e.g. 90/10s (default: under the vendor's limit)");
}

/** Raw values of the settings flags a vendor command takes. */
export interface VendorFlags extends NetworkFlags {
  provider?: string;
  agentId?: string;
  baseUrl?: string;
}

/** Add --provider, --agent-id and --base-url (the API key comes from CHATID_API_KEY or the profile, never argv). */
export function addVendorOptions(cmd: Command, o: { network?: boolean } = {}): Command {
  cmd
    .option('--provider <name>', 'vendor (default: CHATID_PROVIDER, then the profile)')
    .option('--agent-id <id>', 'agent / chatbot id (default: CHATID_AGENT_ID, then the profile)')
    .option('--base-url <url>', "API base URL, e.g. the sandbox's (default: CHATID_BASE_URL, the profile, then the vendor's)");
  return o.network === false ? cmd : addNetworkOptions(cmd);
}
