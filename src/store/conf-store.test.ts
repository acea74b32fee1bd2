import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../cli/errors.js';
import { configDir, openConfStore } from './conf-store.js';

const NOW = new Date('2026-01-01T00:00:00.000Z');

function temp() {
  const dir = join(mkdtempSync(join(tmpdir(), 'chatid-store-')), 'chatid');
  return { dir, file: join(dir, 'config.json'), store: openConfStore({ dir, now: () => NOW }) };
}

async function storeError(p: Promise<unknown>): Promise<StoreError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  return err as StoreError;
}

describe('conf store', () => {
  it('reads an absent file as an empty store without creating anything', async () => {
    const { dir, store } = temp();
    expect(await store.read()).toEqual({ profiles: {} });
    expect(await store.fileMode()).toBeUndefined();
    expect(await store.dirMode?.()).toBeUndefined();
    expect(() => statSync(dir)).toThrow();
  });

  it('creates the directory 0700 and the file 0600, and sets 0600 again on every write', async () => {
    const { dir, file, store } = temp();
    await store.update((d) => {
      d.profiles.a = { provider: 'generic', secret: 's' };
      d.activeProfile = 'a';
    });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ profiles: { a: { provider: 'generic', secret: 's' } }, activeProfile: 'a' });
    chmodSync(file, 0o666);
    await store.update((d) => {
      d.profiles.b = { provider: 'chatbase' };
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await store.fileMode()).toBe(0o600);
    expect(Object.keys((await store.read()).profiles)).toEqual(['a', 'b']);
  });

  it('loses no update when many writers race (separate store objects, one lock file)', async () => {
    const { dir } = temp();
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        openConfStore({ dir, now: () => NOW }).update((d) => {
          d.profiles[`p${i}`] = { provider: 'generic' };
        }),
      ),
    );
    const data = await openConfStore({ dir, now: () => NOW }).read();
    expect(Object.keys(data.profiles).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `p${i}`).sort());
  });

  it('takes over a stale lock left by a crashed process', async () => {
    const { dir, file, store } = temp();
    mkdirSync(`${file}.lock`, { recursive: true });
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${file}.lock`, old, old);
    await store.update((d) => {
      d.profiles.a = { provider: 'generic' };
    });
    expect(Object.keys((await store.read()).profiles)).toEqual(['a']);
    expect(statSync(dir).isDirectory()).toBe(true);
  });

  it('retires expired previous secrets on read and on the next write: not accepted, kept for the doctors', async () => {
    const { file, store } = temp();
    await store.update((d) => {
      d.profiles.a = { provider: 'generic', secret: 'new', previousSecret: 'old', previousSecretExpiresAt: '2025-12-31T23:59:59.000Z' };
      d.profiles.b = { provider: 'generic', secret: 'new', previousSecret: 'old', previousSecretExpiresAt: '2026-01-01T00:00:01.000Z' };
      d.profiles.c = { provider: 'generic', secret: 'new', previousSecret: 'old', retiredSecret: 'older', retiredSecretExpiredAt: '2025-06-01T00:00:00.000Z' };
    });
    const data = await store.read();
    const retired = { provider: 'generic', secret: 'new', retiredSecret: 'old', retiredSecretExpiredAt: '2025-12-31T23:59:59.000Z' };
    expect(data.profiles.a).toEqual(retired);
    expect(data.profiles.b!.previousSecret).toBe('old');
    // No readable expiry: retired without a time, and it replaces the older retired secret.
    expect(data.profiles.c).toEqual({ provider: 'generic', secret: 'new', retiredSecret: 'old' });
    expect(JSON.parse(readFileSync(file, 'utf8')).profiles.a).toEqual(retired);
  });

  it('keeps fields it does not know across writes', async () => {
    const { dir, file, store } = temp();
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, JSON.stringify({ version: 2, profiles: { a: { provider: 'generic', createdAt: 1767225600, tags: ['x'] } } }));
    await store.update((d) => {
      d.profiles.b = { provider: 'chatbase' };
    });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ version: 2, profiles: { a: { provider: 'generic', createdAt: 1767225600, tags: ['x'] }, b: { provider: 'chatbase' } } });
  });

  it('treats an empty file as an empty store, and writes over it', async () => {
    const { dir, file, store } = temp();
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, '\n');
    expect(await store.read()).toEqual({ profiles: {} });
    await store.update((d) => {
      d.profiles.a = { provider: 'generic' };
    });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ profiles: { a: { provider: 'generic' } } });
  });

  it('replaces the file by rename, leaves no temp file, and clears those a killed writer left', async () => {
    const { dir, file, store } = temp();
    await store.update((d) => {
      d.profiles.a = { provider: 'generic' };
    });
    const first = statSync(file).ino;
    writeFileSync(join(dir, 'config.json.0123456789ab.tmp'), '{"half":');
    await store.update((d) => {
      d.profiles.b = { provider: 'generic' };
    });
    expect(statSync(file).ino).not.toBe(first);
    expect(readdirSync(dir).sort()).toEqual(['config.json']);
  });

  it('writes through a config.json that is a symbolic link: the link stays, its target gets the data, 0600', async () => {
    const { dir, file, store } = temp();
    const dotfiles = join(dirname(dir), 'dotfiles');
    mkdirSync(dir, { mode: 0o700 });
    mkdirSync(dotfiles);
    const target = join(dotfiles, 'chatid.json');
    writeFileSync(target, '{"profiles":{"a":{"provider":"generic"}}}', { mode: 0o644 });
    chmodSync(target, 0o644);
    symlinkSync('../dotfiles/chatid.json', file);
    writeFileSync(join(dotfiles, 'chatid.json.0123456789ab.tmp'), '{"half":');
    await store.update((d) => {
      d.profiles.b = { provider: 'chatbase', secret: 's' };
    });
    expect(lstatSync(file).isSymbolicLink()).toBe(true);
    expect(Object.keys(JSON.parse(readFileSync(target, 'utf8')).profiles)).toEqual(['a', 'b']);
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(readdirSync(dotfiles)).toEqual(['chatid.json']);
    expect(readdirSync(dir).sort()).toEqual(['config.json']);
    // A target directory chatid cannot write to: the error names the link and its target.
    if (process.getuid?.() !== 0) {
      chmodSync(dotfiles, 0o500);
      const e = await storeError(store.update(() => undefined));
      chmodSync(dotfiles, 0o700);
      expect(e.message).toBe(`Cannot write the store ${file} (a link to ${target}) (EACCES).`);
    }
  });

  it('refuses a file that is not UTF-8 rather than turning the bad byte into U+FFFD', async () => {
    const { dir, file, store } = temp();
    mkdirSync(dir, { recursive: true });
    const bytes = Buffer.concat([Buffer.from('{"profiles":{"a":{"provider":"generic","secret":"caf'), Buffer.from([0xe9]), Buffer.from('"}}}')]);
    writeFileSync(file, bytes);
    expect((await storeError(store.read())).code).toBe('ERR_STORE_CORRUPT');
    expect((await storeError(store.update(() => undefined))).code).toBe('ERR_STORE_CORRUPT');
    expect(readFileSync(file)).toEqual(bytes);
  });

  it.each([
    ['not JSON', '{"profiles": {', 'ERR_STORE_CORRUPT'],
    ['a JSON array', '[]', 'ERR_STORE_INVALID'],
    ['profiles as an array', '{"profiles": []}', 'ERR_STORE_INVALID'],
    ['a numeric activeProfile', '{"profiles": {}, "activeProfile": 3}', 'ERR_STORE_INVALID'],
    ['an unknown provider', '{"profiles": {"a": {"provider": "intercom"}}}', 'ERR_STORE_INVALID'],
    ['a numeric secret', '{"profiles": {"a": {"provider": "chatbase", "secret": 5}}}', 'ERR_STORE_INVALID'],
    ['a profile that is a string', '{"profiles": {"a": "chatbase"}}', 'ERR_STORE_INVALID'],
    ['a __proto__ profile', '{"profiles": {"__proto__": {"provider": "chatbase"}}}', 'ERR_STORE_INVALID'],
    ['an ESC in a profile name', '{"profiles": {"a\\u001b[2J": {"provider": "chatbase"}}}', 'ERR_STORE_INVALID'],
    ['an ESC in the active profile', '{"profiles": {}, "activeProfile": "\\u001b]0;x\\u0007"}', 'ERR_STORE_INVALID'],
    ['a C1 CSI in an agent id', '{"profiles": {"a": {"provider": "chatbase", "agentId": "x\\u009b2Jy"}}}', 'ERR_STORE_INVALID'],
    ['a newline in a base URL', '{"profiles": {"a": {"provider": "chatbase", "baseUrl": "https://h/\\nfake line"}}}', 'ERR_STORE_INVALID'],
  ])('refuses %s with %s and never overwrites it', async (_what, text, code) => {
    const { dir, file, store } = temp();
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, text, { mode: 0o600 });
    const r = await storeError(store.read());
    expect(r.code).toBe(code);
    expect(r.message).toContain(file);
    expect(r.hint).toMatch(/by hand/);
    const u = await storeError(
      store.update((d) => {
        d.profiles.x = { provider: 'generic' };
      }),
    );
    expect(u.code).toBe(code);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('never quotes the file in its errors: the text near a syntax error may be a secret', async () => {
    const { dir, file, store } = temp();
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, '{\n  "profiles": {"a": {"provider": "chatbase", "secret": TOPSECRET_VALUE_123}}}');
    const e = await storeError(store.read());
    expect(e.message).not.toContain('TOPSECRET');
    expect(e.cause).toBeUndefined();
    writeFileSync(file, '{\n  "profiles": {"a": {"provider": "chatbase", "secret": "TOPSECRET_VALUE_123"} x}}');
    const e2 = await storeError(store.read());
    expect(e2.message).toMatch(/syntax error at line 2, column \d+/);
    expect(e2.message).not.toContain('TOPSECRET');
    writeFileSync(file, '{"profiles": {"a": {"provider": "TOPSECRET_VALUE_123 with spaces"}}}');
    expect((await storeError(store.read())).message).not.toContain('TOPSECRET');
    // A secret pasted into the provider field, in one word: not quoted either; a vendor's name is.
    for (const secret of ['sk_live_0123456789abcdef', 'TOPSECRET_VALUE_123', '0123456789abcdef0123']) {
      writeFileSync(file, JSON.stringify({ profiles: { a: { provider: secret } } }));
      const m = (await storeError(store.read())).message;
      expect(m).toBe(`The store ${file} is not valid: profile "a" has an unknown provider.`);
    }
    writeFileSync(file, '{"profiles": {"a": {"provider": "intercom"}}}');
    expect((await storeError(store.read())).message).toContain('has an unknown provider "intercom"');
  });

  it('refuses control characters in what commands print in clear, and quotes them escaped', async () => {
    const { dir, file, store } = temp();
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, '{"profiles": {"a\\u001b[31mRED": {"provider": "chatbase"}}}');
    const e = await storeError(store.read());
    expect(e.message).toBe(`The store ${file} is not valid: the profile name "a\\u001b[31mRED" holds a control character.`);
    writeFileSync(file, '{"profiles": {"a": {"provider": "chatbase", "agentId": "x\\u001b[2Jy"}}}');
    expect((await storeError(store.read())).message).toBe(`The store ${file} is not valid: profile "a" field "agentId" holds a control character.`);
    // Secrets are never printed in clear: whatever they hold is the vendor's business.
    writeFileSync(file, '{"profiles": {"a": {"provider": "chatbase", "secret": "x\\u0001y"}}}');
    expect((await store.read()).profiles.a!.secret).toBe('x\u0001y');
  });

  it('names the field that has the wrong type', async () => {
    const { dir, file, store } = temp();
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, '{"profiles": {"prod": {"provider": "chatbase", "apiKey": ["x"]}}}');
    expect((await storeError(store.read())).message).toContain('profile "prod" field "apiKey" is not a string');
  });

  it('reports a directory where the file should be as unreadable', async () => {
    const { file, store } = temp();
    mkdirSync(file, { recursive: true });
    expect((await storeError(store.read())).code).toBe('ERR_STORE_UNREADABLE');
    expect((await storeError(store.update(() => undefined))).code).toBe('ERR_STORE_UNREADABLE');
    expect(statSync(file).isDirectory()).toBe(true);
  });

  it('reports a file where the directory should be as unwritable', async () => {
    const base = mkdtempSync(join(tmpdir(), 'chatid-store-'));
    writeFileSync(join(base, 'chatid'), 'x');
    const store = openConfStore({ dir: join(base, 'chatid'), now: () => NOW });
    expect((await storeError(store.update(() => undefined))).code).toBe('ERR_STORE_UNWRITABLE');
    expect(readFileSync(join(base, 'chatid'), 'utf8')).toBe('x');
  });

  it.runIf(existsSync('/proc/self'))('reports a directory under /proc as unwritable instead of spinning (Node\'s recursive mkdir loops there)', async () => {
    const store = openConfStore({ dir: '/proc/chatid-test/cfg', now: () => NOW });
    expect((await storeError(store.update(() => undefined))).code).toBe('ERR_STORE_UNWRITABLE');
  }, 5_000);
});

describe('configDir', () => {
  it('uses CHATID_CONFIG_DIR, else the platform default', () => {
    expect(configDir({ CHATID_CONFIG_DIR: '/x' }, 'linux', '/home/u')).toBe('/x');
    expect(configDir({ XDG_CONFIG_HOME: '/xdg' }, 'linux', '/home/u')).toBe('/xdg/chatid');
    expect(configDir({}, 'linux', '/home/u')).toBe('/home/u/.config/chatid');
    expect(configDir({}, 'darwin', '/Users/u')).toBe('/Users/u/Library/Preferences/chatid');
  });

  it('resolves a relative CHATID_CONFIG_DIR against the working directory, so the path shown is the one used', () => {
    expect(configDir({ CHATID_CONFIG_DIR: 'cfg' }, 'linux', '/home/u', '/work/app')).toBe('/work/app/cfg');
    expect(configDir({ CHATID_CONFIG_DIR: '../shared/cfg' }, 'linux', '/home/u', '/work/app')).toBe('/work/shared/cfg');
  });

  it('ignores a relative XDG_CONFIG_HOME, as the XDG Base Directory spec says', () => {
    expect(configDir({ XDG_CONFIG_HOME: '.config' }, 'linux', '/home/u', '/work/app')).toBe('/home/u/.config/chatid');
    expect(configDir({ XDG_CONFIG_HOME: 'xdg' }, 'linux', '/home/u', '/work/app')).toBe('/home/u/.config/chatid');
  });
});
