import type { Command } from 'commander';
import type { Ctx } from '../../cli/context.js';
import { UsageError } from '../../cli/errors.js';
import { CHAT_USER_ID_HINT, chatUserIdProblem } from '../../core/providers.js';
import { emit, escapeControlsKeepLines, fieldText, info, readStdinText, warn } from '../../cli/output.js';
import { addVendorOptions, type VendorFlags } from '../../vendors/flags.js';

export interface ChatCommandOptions extends VendorFlags {
  message: string | undefined;
  userId: string | undefined;
  conversationId: string | undefined;
  stream: boolean;
}

export interface ChatCommandResult {
  text: string;
  /** A number for Bookbag, whose ids are integers (vendors.md §3.2, as in `conversations list`); a string for Chatbase. */
  conversationId: string | number | null;
  userId: string | null;
  messageId: string | null;
  finishReason: string | null;
  credits: number | null;
  provider: string;
  agentId: string | null;
  streamed: boolean;
}


export function registerChat(program: Command, ctx: Ctx, runF = runChat): void {
  const cmd = program
    .command('chat')
    .description('Send a message to the agent as a user (Chatbase/Bookbag v2); the answer streams to stdout')
    .argument('[message]', 'the message; read from stdin when "-" or omitted with piped input')
    .option('--user-id <id>', "the user (the contact's external id): letters, digits, . _ -, up to 128")
    .option('--conversation-id <id>', 'continue a conversation (the user is then taken from it); a whole number for Bookbag')
    .option('--no-stream', 'ask for the whole answer at once');
  addVendorOptions(cmd).addHelpText(
    'after',
    `
Examples:
  $ chatid chat "Where is my order?" --user-id user_123
  $ chatid chat "And the invoice?" --user-id user_123 --conversation-id 456
  $ echo "hello" | chatid chat --user-id user_123 --json | jq -r .conversationId`,
  );
  cmd.action(async (message: string | undefined, flags: VendorFlags & { userId?: string; conversationId?: string; stream: boolean }) => {
    emit(ctx, await runF({ ...flags, message, userId: flags.userId, conversationId: flags.conversationId, stream: flags.stream }, ctx), renderChat);
  });
}

export async function runChat(opts: ChatCommandOptions, ctx: Ctx): Promise<ChatCommandResult> {
  let message = opts.message;
  if (message === '-' || (message === undefined && !ctx.io.stdin.isTTY)) message = (await readStdinText(ctx, 64 * 1024)).replace(/\r?\n$/, '');
  if (message === undefined || message.trim() === '') {
    throw new UsageError('ERR_CHAT_MESSAGE_REQUIRED', 'No message to send.', { hint: 'Pass it as an argument (chatid chat "hello" --user-id user_123) or pipe it on stdin.' });
  }
  if (opts.userId === undefined && opts.conversationId === undefined) {
    throw new UsageError('ERR_CHAT_USER_REQUIRED', 'Say who is chatting: --user-id is required for a new conversation.', { hint: "Pass --user-id <the contact's external id>, or --conversation-id to continue one." });
  }
  const userIdProblem = opts.userId === undefined ? undefined : chatUserIdProblem(opts.userId);
  if (userIdProblem) throw new UsageError('ERR_CHAT_USER_ID', `--user-id ${userIdProblem}.`, { hint: CHAT_USER_ID_HINT });
  const { openAgentApi, parseNetworkFlags, resolveVendorSettings } = await import('../../vendors/factory.js');
  const settings = await resolveVendorSettings(ctx, opts);
  const client = await openAgentApi(ctx, settings, 'chat', parseNetworkFlags(opts));
  const bookbag = client.vendor === 'bookbag' ? await import('../../vendors/bookbag.js') : undefined;
  if (opts.conversationId !== undefined) {
    // Checked here like --user-id, not left to a vendor 400 (exit 1).
    const problem = opts.conversationId.trim() === '' ? 'it is empty' : bookbag?.bookbagConversationIdProblem(opts.conversationId);
    if (problem !== undefined) {
      throw new UsageError('ERR_CHAT_CONVERSATION_ID', `--conversation-id: ${problem}${bookbag ? '; Bookbag conversation ids are whole numbers' : ''}.`, {
        hint: 'Use the id `chatid chat` printed (or its --json conversationId), or one from `chatid conversations list --user-id <id>`.',
      });
    }
  }
  // Human mode prints the answer as it arrives; --json prints one document at the end.
  const live = !ctx.ui.json;
  // Whether what was printed so far ends inside a line (it is ended before an error or the summary).
  let lineOpen = false;
  const answer = answerWriter(ctx.io.stdout.isTTY === true);
  const print = (out: string): void => {
    if (out === '') return;
    lineOpen = !out.endsWith('\n');
    ctx.io.stdout.write(out);
  };
  const r = await client
    .chat({
      message,
      userId: opts.userId,
      conversationId: opts.conversationId,
      stream: opts.stream,
      onText: live ? (t) => print(answer.write(t)) : undefined,
    })
    .catch((err: unknown) => {
      // Ctrl-C or a broken connection mid-answer: end the partial line, so the error (on
      // stderr, at a terminal the same screen) starts on a line of its own.
      print(answer.end());
      if (lineOpen) ctx.io.stdout.write('\n');
      throw err;
    });
  if (live) {
    print(answer.end());
    if (lineOpen) ctx.io.stdout.write('\n');
    if (r.conversationId) info(ctx, `conversation ${fieldText(r.conversationId)} (continue with --conversation-id ${fieldText(r.conversationId)})`);
  }
  // The vendor takes the user from a conversation it continues and ignores userId (vendors.md
  // §2.4): say so when the two differ, or the user believes they chatted as --user-id.
  if (opts.userId !== undefined && opts.conversationId !== undefined && r.userId !== undefined && r.userId !== opts.userId) {
    warn(ctx, `--user-id ${fieldText(opts.userId)} was not used: conversation ${fieldText(opts.conversationId)} belongs to ${fieldText(r.userId)}, and the vendor answered as that user. Leave out --conversation-id to start a conversation as ${fieldText(opts.userId)}.`);
  }
  return {
    text: r.text,
    conversationId: r.conversationId === undefined ? null : bookbag ? bookbag.bookbagConversationId(r.conversationId) : r.conversationId,
    userId: r.userId ?? opts.userId ?? null,
    messageId: r.messageId ?? null,
    finishReason: r.finishReason ?? null,
    credits: r.credits ?? null,
    provider: client.vendor,
    agentId: client.agentId ?? null,
    streamed: r.streamed,
  };
}

/**
 * The answer as it goes to stdout, chunk by chunk. At a terminal, the model's text must not
 * drive it: every control character but \n, \t and a CR+LF line end is written escaped
 * (escapeControlsKeepLines), and a CR at the end of a chunk waits for the next one, to see
 * whether an LF follows. Piped, the bytes are the model's, unchanged.
 */
export function answerWriter(tty: boolean): { write(chunk: string): string; end(): string } {
  if (!tty) return { write: (chunk) => chunk, end: () => '' };
  let heldCr = false;
  return {
    write(chunk) {
      let text = heldCr ? `\r${chunk}` : chunk;
      heldCr = text.endsWith('\r');
      if (heldCr) text = text.slice(0, -1);
      return escapeControlsKeepLines(text);
    },
    end() {
      const out = heldCr ? escapeControlsKeepLines('\r') : '';
      heldCr = false;
      return out;
    },
  };
}

/** The text was already streamed; nothing more goes to stdout. */
export function renderChat(): string {
  return '';
}
