import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError } from '../cli/errors.js';
import type { ProfileStore, StoreData } from './types.js';
import { pruneExpired, validateStoreData } from './validate.js';

export const STORE_FILE_MODE = 0o600;
export const STORE_DIR_MODE = 0o700;

export interface ConfStoreOptions {
  /** Directory holding `config.json` (CHATID_CONFIG_DIR or the platform default). */
  dir: string;
  now: () => Date;
}

/**
 * The profile store on disk: one JSON file, replaced atomically on every write (temp file
 * created 0600, fsync, rename, fsync of the directory), guarded by a lock file so that
 * concurrent chatid processes serialise their read-modify-write cycles. Reads take no lock:
 * a rename is atomic, so a reader sees the old or the new file, never half of one. A file
 * that does not parse is reported and never overwritten.
 *
 * The file is conf-compatible (plain JSON, conf's default name and place), but written
 * here rather than through conf: conf writes in place when `SNAP` is set (its Snap
 * workaround), which a crash can leave torn, and its constructor re-parses the file on its
 * own terms (a blank file made every write fail).
 */
export function openConfStore(o: ConfStoreOptions): ProfileStore {
  const path = join(o.dir, 'config.json');

  async function readData(): Promise<StoreData> {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { profiles: {} };
      throw new StoreError('ERR_STORE_UNREADABLE', `Cannot read the store ${path} (${code ?? String(err)}).`, {
        cause: err,
        hint: 'Check the file and directory permissions, or point CHATID_CONFIG_DIR at another directory.',
      });
    }
    let text: string;
    try {
      // fatal: a byte that is not UTF-8 (a Latin-1 "é" in a secret) must not become U+FFFD and
      // be written back. ignoreBOM keeps a BOM in the text, so JSON.parse refuses it visibly.
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      throw new StoreError('ERR_STORE_CORRUPT', `The store ${path} is not valid UTF-8 text.`, {
        hint: 'chatid will not overwrite it. Re-save it as UTF-8 (or move it aside and add your profiles again).',
      });
    }
    let raw: unknown;
    try {
      raw = text.trim() === '' ? {} : JSON.parse(text);
    } catch (err) {
      // No `cause` and not V8's message: it quotes the text around the error, which may be a secret.
      throw new StoreError('ERR_STORE_CORRUPT', `The store ${path} is not valid JSON (${syntaxErrorPlace(text, (err as Error).message)}).`, {
        hint: 'chatid will not overwrite it. Repair it by hand or move it aside (mv it to a backup) and add your profiles again.',
      });
    }
    return validateStoreData(raw, path);
  }

  async function ensureDir(): Promise<void> {
    try {
      const created = await mkdir(o.dir, { recursive: true, mode: STORE_DIR_MODE });
      if (created !== undefined) await chmod(o.dir, STORE_DIR_MODE);
    } catch (err) {
      throw new StoreError('ERR_STORE_UNWRITABLE', `Cannot create the store directory ${o.dir}.`, {
        cause: err,
        hint: 'Check permissions, or set CHATID_CONFIG_DIR to a writable directory.',
      });
    }
  }

  /** Replace the file: a new 0600 temp file beside it, fsync, rename over, fsync the directory. */
  async function writeAtomic(text: string): Promise<void> {
    // Under the lock no other writer is active: temp files left by a killed writer are garbage.
    for (const name of await readdir(o.dir).catch(() => [] as string[])) {
      if (/^config\.json\.[0-9a-f]{12}\.tmp$/.test(name)) await unlink(join(o.dir, name)).catch(() => undefined);
    }
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      const fh = await open(tmp, 'wx', STORE_FILE_MODE);
      try {
        // The open mode is filtered by umask: set 0600 explicitly before the name is visible.
        await fh.chmod(STORE_FILE_MODE);
        await fh.writeFile(text, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw new StoreError('ERR_STORE_UNWRITABLE', `Cannot write the store ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`, {
        cause: err,
        hint: 'Check free space and permissions; the previous file is unchanged.',
      });
    }
    // Make the rename itself durable; not every platform lets a directory be fsynced.
    const dirHandle = await open(o.dir, 'r').catch(() => undefined);
    await dirHandle?.sync().catch(() => undefined);
    await dirHandle?.close();
  }

  return {
    path,
    async read() {
      return pruneExpired(await readData(), o.now());
    },
    async update<T>(fn: (data: StoreData) => T): Promise<T> {
      await ensureDir();
      const lockfile = await import('proper-lockfile');
      // proper-lockfile is CommonJS: Node's ESM loader exposes named exports, a bundle only `default`.
      const { lock } = lockfile.default ?? lockfile;
      let release: () => Promise<void>;
      // proper-lockfile throws from a timer when it finds its lock taken over (this process
      // stalled past `stale`): a crash with a stack trace. Record it and refuse to write.
      let lost: Error | undefined;
      try {
        release = await lock(path, {
          realpath: false,
          lockfilePath: `${path}.lock`,
          stale: 5_000,
          onCompromised: (err) => {
            lost = err;
          },
          retries: { retries: 200, factor: 1.3, minTimeout: 5, maxTimeout: 100, randomize: true },
        });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ELOCKED') {
          throw new StoreError('ERR_STORE_LOCKED', `The store ${path} is locked by another chatid process.`, {
            cause: err,
            hint: `Try again; if no chatid is running, remove ${path}.lock.`,
          });
        }
        throw new StoreError('ERR_STORE_UNWRITABLE', `Cannot lock the store ${path} (${(err as Error).message}).`, {
          cause: err,
          hint: 'Check the directory permissions, or set CHATID_CONFIG_DIR to a writable directory.',
        });
      }
      try {
        const draft = pruneExpired(await readData(), o.now());
        const result = fn(draft);
        if (lost) {
          throw new StoreError('ERR_STORE_LOCK_LOST', `Another process took over the lock of ${path}; nothing was written.`, {
            cause: lost,
            hint: 'Run the command again.',
          });
        }
        // Pruned again: what fn added is held to the same rule as what was read.
        await writeAtomic(`${JSON.stringify(pruneExpired(draft, o.now()), null, 2)}\n`);
        return result;
      } finally {
        await release().catch(() => undefined);
      }
    },
    async fileMode() {
      return modeOf(path);
    },
    async dirMode() {
      return modeOf(o.dir);
    },
  };
}

/** Where JSON.parse failed, as line and column, without quoting the file's text. */
function syntaxErrorPlace(text: string, message: string): string {
  const m = /position (\d+)/.exec(message);
  if (!m) return /end of JSON input/.test(message) ? 'it ends too early' : 'a syntax error';
  const before = text.slice(0, Number(m[1]));
  const line = before.split('\n').length;
  return `syntax error at line ${line}, column ${before.length - before.lastIndexOf('\n')}`;
}

async function modeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mode & 0o777;
  } catch {
    return undefined;
  }
}

/** The platform's config directory for chatid, unless CHATID_CONFIG_DIR says otherwise. */
export function configDir(env: Readonly<Record<string, string | undefined>>, platform: string, home: string): string {
  if (env.CHATID_CONFIG_DIR) return env.CHATID_CONFIG_DIR;
  if (platform === 'darwin') return join(home, 'Library', 'Preferences', 'chatid');
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'chatid', 'Config');
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'chatid');
}
