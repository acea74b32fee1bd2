import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, readdirSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type * as FsPromises from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { StoreError } from '../cli/errors.js';
import type { ProfileStore, StoreData } from './types.js';
import { pruneExpired, validateStoreData } from './validate.js';

/**
 * node:fs/promises on first use: loading it brings readline, the file watchers and the stream
 * stack, which commands that never open the store (`hash` with CHATID_SECRET) should not pay for
 * at start-up (this module is on the start-up path through src/cli/real-context.ts).
 */
let fsPromises: Promise<typeof FsPromises> | undefined;
const fsp = (): Promise<typeof FsPromises> => (fsPromises ??= import('node:fs/promises'));

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
 * Writes go through conf (`conf.store = …`) with its one non-atomic branch replaced; reads
 * are ours, because they must refuse what conf would accept (bytes that are not UTF-8, wrong
 * field types) and never quote the file in an error.
 */
export function openConfStore(o: ConfStoreOptions): ProfileStore {
  const path = join(o.dir, 'config.json');

  async function readData(): Promise<StoreData> {
    let bytes: Buffer;
    try {
      bytes = await (await fsp()).readFile(path);
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
      const { chmod, mkdir, stat } = await fsp();
      const { dirname } = await import('node:path');
      // The missing directories, made one at a time from the top: Node's recursive mkdir
      // spins forever under /proc (mkdir answers ENOENT there, the parent exists).
      const missing: string[] = [];
      for (let d = o.dir; ; d = dirname(d)) {
        const there = await stat(d).then(
          () => true,
          (e: NodeJS.ErrnoException) => {
            if (e.code === 'ENOENT') return false;
            throw e;
          },
        );
        if (there || dirname(d) === d) break;
        missing.unshift(d);
      }
      for (const d of missing) {
        // EEXIST: another chatid made it meanwhile; the check below sees what it is.
        await mkdir(d, { mode: STORE_DIR_MODE }).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'EEXIST') throw e;
        });
      }
      if (!(await stat(o.dir)).isDirectory()) throw Object.assign(new Error(`${o.dir} is not a directory`), { code: 'ENOTDIR' });
      if (missing.length > 0) await chmod(o.dir, STORE_DIR_MODE);
    } catch (err) {
      throw new StoreError('ERR_STORE_UNWRITABLE', `Cannot create the store directory ${o.dir}.`, {
        cause: err,
        hint: 'Check permissions, or set CHATID_CONFIG_DIR to a writable directory.',
      });
    }
  }

  /**
   * Replace the file through conf. conf serialises and writes with `atomically` (temp file +
   * rename), except under `SNAP` (its Snap workaround) where it writes in place, which a
   * crash can leave torn: its one write step is replaced by ours, always atomic.
   */
  async function writeThroughConf(data: StoreData): Promise<void> {
    const { default: Conf } = await import('conf');
    try {
      const conf = new Conf<Record<string, unknown>>({
        cwd: o.dir,
        configName: 'config',
        configFileMode: STORE_FILE_MODE,
        clearInvalidConfig: false,
        // The file was read and validated just before; a blank file is an empty store.
        deserialize: (text) => (text.trim() === '' ? {} : (JSON.parse(text) as Record<string, unknown>)),
        serialize: (value) => `${JSON.stringify(value, null, 2)}\n`,
      });
      (conf as unknown as { _write: (value: unknown) => void })._write = (value) => writeAtomicSync(`${JSON.stringify(value, null, 2)}\n`);
      conf.store = JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError('ERR_STORE_UNWRITABLE', `Cannot write the store ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`, {
        cause: err,
        hint: 'Check free space and permissions; the previous file is unchanged.',
      });
    }
  }

  /**
   * Replace the file: a new 0600 temp file beside it, fsync, rename over, fsync the directory.
   * A config.json that is a symbolic link (a dotfiles repository) is written through, as conf's
   * own writer (atomically) does: its target is replaced, the link stays. Renaming over the
   * link itself would turn it into a plain file and leave the target stale without a word.
   */
  function writeAtomicSync(text: string): void {
    const target = realTarget(path);
    const targetDir = dirname(target);
    // Under the lock no other writer is active: temp files left by a killed writer are garbage.
    const leftover = new RegExp(`^${escapeRegExp(basename(target))}\\.[0-9a-f]{12}\\.tmp$`);
    for (const name of safeReaddir(targetDir)) {
      if (leftover.test(name)) rmSync(join(targetDir, name), { force: true });
    }
    const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      const fd = openSync(tmp, 'wx', STORE_FILE_MODE);
      try {
        // The open mode is filtered by umask: set 0600 explicitly before the name is visible.
        fchmodSync(fd, STORE_FILE_MODE);
        writeFileSync(fd, text, 'utf8');
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, target);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw new StoreError('ERR_STORE_UNWRITABLE', `Cannot write the store ${target === path ? path : `${path} (a link to ${target})`} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`, {
        cause: err,
        hint: 'Check free space and permissions; the previous file is unchanged.',
      });
    }
    // Make the rename itself durable; not every platform lets a directory be fsynced.
    try {
      const dirFd = openSync(targetDir, 'r');
      try {
        fsyncSync(dirFd);
      } finally {
        closeSync(dirFd);
      }
    } catch {
      // best effort
    }
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
        await writeThroughConf(pruneExpired(draft, o.now()));
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
    return (await (await fsp()).stat(path)).mode & 0o777;
  } catch {
    return undefined;
  }
}

/**
 * The platform's config directory for chatid, unless CHATID_CONFIG_DIR says otherwise. Always
 * absolute: a relative CHATID_CONFIG_DIR is resolved against `cwd` (default: the working
 * directory) once, so whoami and every message show the directory really used; a relative
 * XDG_CONFIG_HOME is ignored, as the XDG Base Directory spec asks (it would put the store
 * wherever the command happens to run).
 */
export function configDir(env: Readonly<Record<string, string | undefined>>, platform: string, home: string, cwd?: string): string {
  // path.resolve without a base resolves against the process's working directory.
  if (env.CHATID_CONFIG_DIR) return cwd === undefined ? resolve(env.CHATID_CONFIG_DIR) : resolve(cwd, env.CHATID_CONFIG_DIR);
  if (platform === 'darwin') return join(home, 'Library', 'Preferences', 'chatid');
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'chatid', 'Config');
  const xdg = env.XDG_CONFIG_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(home, '.config'), 'chatid');
}

/** The file a path names, through symbolic links; the path itself when it (or a link's target) does not exist yet. */
function realTarget(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
