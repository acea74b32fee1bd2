import { readFile, rename, writeFile } from 'node:fs/promises';
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
      const text = JSON.stringify(this.state.toJSON());
      const tmp = `${this.file}.${version}.tmp`;
      try {
        await writeFile(tmp, text, { mode: 0o600 });
        await rename(tmp, this.file);
        this.saved = version;
      } catch (e) {
        this.failure = e;
        this.onError(e);
        return;
      }
    }
  }

  /** Wait until everything changed so far is on disk. */
  async flush(): Promise<void> {
    this.poke();
    while (this.running) await this.running;
    if (this.failure !== undefined && this.state.version !== this.saved) throw this.failure;
  }
}
