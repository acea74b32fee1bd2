// Bad store files (issue 6): truncated, not JSON, wrong types, unreadable. For each one, the
// store API and every command that opens the store fail with a StoreError code (exit 1),
// print no stack trace, and leave the directory byte-for-byte as it was: chatid never
// overwrites a store it cannot understand, and leaves no lock or temp file behind.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/errors.js';
import { openConfStore } from '../../src/store/conf-store.js';
import { createTestCtx, runCli } from '../helpers/test-ctx.js';
import { CORPUS, describeBuilt, expectHumanError, expectJsonError, snapshotDir, spawnCli } from './harness.js';

interface StoreCase {
  name: string;
  /** Put the bad store in place; `dir` is CHATID_CONFIG_DIR. */
  setup: (dir: string) => void;
  /** Expected code when reading, and when writing if different. */
  read: string;
  write?: string;
  /** A real bug this case exposes (test marked it.fails until fixed). */
  bug?: string;
}

const fromFile = (file: string) => (dir: string) => copyFileSync(join(CORPUS, 'store', file), join(dir, 'config.json'));
const CORRUPT = 'ERR_STORE_CORRUPT';
const INVALID = 'ERR_STORE_INVALID';

export const STORE_CASES: StoreCase[] = [
  { name: 'truncated mid-string', setup: fromFile('truncated.json'), read: CORRUPT },
  { name: 'YAML, not JSON', setup: fromFile('yaml-not-json.json'), read: CORRUPT },
  { name: 'two JSON documents', setup: fromFile('two-documents.json'), read: CORRUPT },
  { name: 'NUL bytes', setup: fromFile('nul-bytes.json'), read: CORRUPT },
  { name: 'UTF-8 BOM before the JSON', setup: fromFile('bom.json'), read: CORRUPT },
  { name: 'top level is an array', setup: fromFile('top-level-array.json'), read: INVALID },
  { name: 'top level is null', setup: fromFile('top-level-null.json'), read: INVALID },
  { name: 'top level is a string', setup: fromFile('top-level-string.json'), read: INVALID },
  { name: '"profiles" is a string', setup: fromFile('profiles-string.json'), read: INVALID },
  { name: 'a profile is an array', setup: fromFile('profile-array.json'), read: INVALID },
  { name: 'unknown provider', setup: fromFile('unknown-provider.json'), read: INVALID },
  { name: 'profile without provider', setup: fromFile('missing-provider.json'), read: INVALID },
  { name: 'secret is a number', setup: fromFile('secret-number.json'), read: INVALID },
  { name: 'apiKey is an object', setup: fromFile('apikey-object.json'), read: INVALID },
  { name: 'activeProfile is a number', setup: fromFile('active-number.json'), read: INVALID },
  { name: 'a profile named __proto__', setup: fromFile('proto-profile.json'), read: INVALID },
  {
    name: 'nested 100000 levels deep',
    setup: (dir) => writeFileSync(join(dir, 'config.json'), `{"profiles":${'['.repeat(100_000)}${']'.repeat(100_000)}}`),
    read: INVALID,
  },
  {
    name: 'Latin-1 byte inside a secret',
    setup: fromFile('latin1-bytes.json'),
    // Was a bug: decoded without { fatal: true }, the 0xE9 byte became U+FFFD and the next write replaced the secret.
    read: CORRUPT,
  },
  { name: 'a directory in place of config.json', setup: (dir) => mkdirSync(join(dir, 'config.json')), read: 'ERR_STORE_UNREADABLE', write: 'ERR_STORE_UNREADABLE' },
];

const tmpRoot = mkdtempSync(join(tmpdir(), 'chatid-store-corpus-'));
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));
let seq = 0;
function freshDir(c: StoreCase): string {
  const dir = join(tmpRoot, `case-${seq++}`);
  mkdirSync(dir, { mode: 0o700 });
  c.setup(dir);
  return dir;
}
const now = () => new Date('2026-01-01T00:00:00Z');

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return '(no error)';
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return (err as CliError).code;
  }
}

describe('store corpus: the store API', () => {
  for (const c of STORE_CASES) {
    (c.bug ? it.fails : it)(`${c.name}: read and update fail with ${c.read}, file untouched`, async () => {
      // it.fails cases: see `bug` in the table (reported to the lead).
      const dir = freshDir(c);
      const before = snapshotDir(dir);
      const store = openConfStore({ dir, now });
      expect(await codeOf(store.read()), c.name).toBe(c.read);
      let called = false;
      expect(
        await codeOf(
          store.update((d) => {
            called = true;
            d.profiles.intruder = { provider: 'generic', secret: 'overwrite-attempt' };
          }),
        ),
        c.name,
      ).toBe(c.write ?? c.read);
      expect(called, `${c.name}: update ran on data it could not read`).toBe(false);
      expect(snapshotDir(dir), `${c.name}: the store directory changed`).toEqual(before);
    });
  }

  it('a config dir that is a regular file: read and update fail with a store error', async () => {
    const file = join(tmpRoot, 'not-a-dir');
    writeFileSync(file, 'x');
    const store = openConfStore({ dir: file, now });
    expect(await codeOf(store.read())).toBe('ERR_STORE_UNREADABLE');
    expect(await codeOf(store.update(() => undefined))).toBe('ERR_STORE_UNWRITABLE');
  });

  // Was a bug: readData treated a blank file as an empty store, but update() then
  // constructed Conf, which parsed the blank file itself and threw on every write.
  it('an empty file is an empty store, and the first write fills it', async () => {
    const dir = join(tmpRoot, 'empty');
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), '');
    const store = openConfStore({ dir, now });
    expect(await store.read()).toEqual({ profiles: {} });
    await store.update((d) => {
      d.profiles.dev = { provider: 'generic' };
    });
    expect((await store.read()).profiles.dev).toEqual({ provider: 'generic' });
  });
});

// Every command that reads or writes the store, as the user would type it. All of them run:
// one that is not registered fails with its name in the message.
const STORE_COMMANDS: Array<{ argv: string[]; stdin?: string }> = [
  { argv: ['profile', 'list'] },
  { argv: ['profile', 'show'] },
  { argv: ['profile', 'show', 'dev'] },
  { argv: ['profile', 'use', 'dev'] },
  { argv: ['profile', 'remove', 'dev'] },
  { argv: ['profile', 'add', 'newprof', '--provider', 'generic', '--no-input'] },
  { argv: ['secret', 'show'] },
  { argv: ['secret', 'list'] },
  { argv: ['secret', 'set', '--secret-stdin'], stdin: 'sk_corpus_new_secret_value_0123456789' },
  { argv: ['secret', 'rotate', '--generate'] },
  { argv: ['whoami'] },
  { argv: ['token', 'sign', '--user-id', 'u1'] },
  { argv: ['hash', 'u1'] },
];

describe('store corpus: every command that opens the store', () => {
  for (const c of STORE_CASES.filter((x) => !x.bug)) {
    it(`${c.name}: ${STORE_COMMANDS.map((a) => a.argv.slice(0, 2).join(' ')).join(', ')}`, async () => {
      for (const cmd of STORE_COMMANDS) {
        for (const json of [true, false]) {
          const dir = freshDir(c);
          const before = snapshotDir(dir);
          const ctx = createTestCtx({ store: openConfStore({ dir, now }), stdin: cmd.stdin, env: { CHATID_CONFIG_DIR: dir } });
          const argv = json ? [...cmd.argv, '--json'] : cmd.argv;
          const r = await runCli(argv, ctx);
          const name = `store "${c.name}" × chatid ${argv.join(' ')}`;
          const expected = new RegExp(`^(${c.read}|${c.write ?? c.read})$`);
          if (cmd.argv[0] === 'whoami') {
            // The diagnostic reports the store's problem beside the rest, as a warning (exit 0).
            expect(r.exitCode, name).toBe(0);
            if (json) expect(r.json().warnings.map((w: { code: string }) => `ERR_${w.code}`).filter((code: string) => expected.test(code)), name).toHaveLength(1);
            else expect(r.stderr, name).toMatch(new RegExp(`warning: .*${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
            expect(r.stderr, name).not.toMatch(/^\s+at /m);
          } else if (json) expectJsonError(name, r, 1, expected);
          else expectHumanError(name, r, 1, new RegExp(`\\((${c.read}|${c.write ?? c.read})\\)`));
          expect(snapshotDir(dir), `${name}: the store directory changed`).toEqual(before);
        }
      }
    });
  }
});

describeBuilt('store corpus: the real process', () => {
  it('answers each bad store with its code, exit 1 and no stack trace (node bin/chatid.js profile list --json)', async () => {
    for (const c of STORE_CASES.filter((x) => !x.bug)) {
      const dir = freshDir(c);
      const before = snapshotDir(dir);
      const r = await spawnCli(['profile', 'list', '--json'], { env: { CHATID_CONFIG_DIR: dir } });
      expectJsonError(`store "${c.name}" (spawned)`, { ...r, exitCode: r.exitCode ?? -1, json: () => JSON.parse(r.stdout) }, 1, c.read);
      expect(snapshotDir(dir), `${c.name}: the store directory changed`).toEqual(before);
    }
  });
});
