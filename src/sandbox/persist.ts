import { open, readFile, rename, unlink } from 'node:fs/promises';
import type { SandboxState } from './state.js';

/**
 * Saves the state to `file` after changes: one write at a time, always of the newest
 * state, through a temporary file renamed over the target so a crash never leaves half
 * a file. Writes are coalesced, so a burst of batches costs one or two saves, not one each.
 */
export class Persister {
  private saved: number;
  private running: Promise<void> | undefined;
  private failure: unknown;

  private readonly state: SandboxState;
  private readonly file: string;
  private readonly onError: (e: unknown) => void;

  constructor(state: SandboxState, file: string, onError: (e: unknown) => void) {
    this.state = state;
    this.file = file;
    this.onError = onError;
    this.saved = state.version;
  }

  /** Load the file into the state; false when it does not exist yet. */
  static async load(state: SandboxState, file: string): Promise<boolean> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    state.load(JSON.parse(text) as unknown);
    return true;
  }

  /** Note that the state may have changed; starts a save if none is running. */
  poke(): void {
    if (this.state.version === this.saved || this.running) return;
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  private async loop(): Promise<void> {
    while (this.state.version !== this.saved) {
      const version = this.state.version;
      const tmp = `${this.file}.${version}.tmp`;
      try {
        await this.write(tmp);
        await rename(tmp, this.file);
        this.saved = version;
        this.failure = undefined;
      } catch (e) {
        await unlink(tmp).catch(() => undefined);
        this.failure = e;
        this.onError(e);
        return;
      }
    }
  }

  /**
   * Write the state as JSON in pieces (a million contacts would make one string of
   * hundreds of MB and block the server while it is built), then fsync so the rename
   * publishes complete bytes. Changes made meanwhile bump the version and get the next save.
   */
  private async write(tmp: string): Promise<void> {
    const fh = await open(tmp, 'w', 0o600);
    try {
      let buf: string[] = [];
      let size = 0;
      const put = async (text: string): Promise<void> => {
        buf.push(text);
        size += text.length;
        if (size >= 1 << 20) {
          await fh.write(buf.join(''));
          buf = [];
          size = 0;
        }
      };
      await put(`{"version":1,"counters":${JSON.stringify(this.state.counters)},"agents":[`);
      let firstAgent = true;
      for (const a of this.state.agents.values()) {
        await put(`${firstAgent ? '' : ','}{"id":${JSON.stringify(a.id)},"name":${JSON.stringify(a.name)},"attributes":${JSON.stringify([...a.attributes.values()])},"conversations":${JSON.stringify(a.conversations)},"contacts":[`);
        firstAgent = false;
        let first = true;
        for (const c of a.contacts.values()) {
          await put(`${first ? '' : ','}${JSON.stringify(c)}`);
          first = false;
        }
        await put(']}');
      }
      await put(']}\n');
      if (buf.length > 0) await fh.write(buf.join(''));
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /** Wait until everything changed so far is on disk. */
  async flush(): Promise<void> {
    this.poke();
    while (this.running) await this.running;
    if (this.failure !== undefined && this.state.version !== this.saved) throw this.failure;
  }
}
