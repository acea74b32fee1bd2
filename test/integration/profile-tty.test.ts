// Drives `chatid profile add` at a real terminal (tmux) through its prompts: arrow keys,
// hidden input, validation, and Ctrl-C.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCliBundle, removeCliBundle } from './store-bundle.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
if (!hasTmux) console.warn('profile-tty.test.ts: SKIPPED, tmux is not installed (needed to drive prompts at a real terminal).');

// Our own server socket: never touches the user's tmux sessions.
const SOCKET = `chatid-test-${process.pid}`;
const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const sessions: string[] = [];
let socketPath: string | undefined;

let bin: string;
beforeAll(async () => {
  if (hasTmux) bin = await buildCliBundle();
});
afterAll(async () => {
  if (!hasTmux) return;
  for (const s of sessions) spawnSync('tmux', ['-L', SOCKET, 'kill-session', '-t', s]);
  spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
  if (socketPath) rmSync(socketPath, { force: true });
  // The sessions (and the chatid processes in them) are gone: the build can go too.
  await removeCliBundle(bin);
});

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Start `chatid …args` in a fresh tmux session; its exit status lands in `<base>/exit`. */
function start(name: string, args: string[], o: { color?: boolean } = {}): { base: string; configDir: string; exitFile: string; screen: () => string; styled: () => string } {
  const base = mkdtempSync(join(tmpdir(), 'chatid-tty-'));
  const configDir = join(base, 'config');
  const exitFile = join(base, 'exit');
  // CI=true turns prompts off, and CI runs with it set: unset it for the child.
  const cmd = `env -u CI -u FORCE_COLOR ${o.color ? '-u NO_COLOR' : 'NO_COLOR=1'} CHATID_CONFIG_DIR=${quote(configDir)} ${quote(process.execPath)} ${quote(bin)} ${args.map(quote).join(' ')}; echo $? > ${quote(exitFile)}; sleep 600`;
  tmux('new-session', '-d', '-s', name, '-x', '120', '-y', '40', cmd);
  sessions.push(name);
  socketPath ??= tmux('display-message', '-p', '-t', name, '#{socket_path}').trim();
  return { base, configDir, exitFile, screen: () => tmux('capture-pane', '-p', '-t', name), styled: () => tmux('capture-pane', '-p', '-e', '-t', name) };
}

/** Poll the screen until `pattern` shows up (a wait, not a timing assertion). */
async function waitFor(screen: () => string, pattern: RegExp | string, what = String(pattern)): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const text = screen();
    if (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}. Screen:\n${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function exitCode(exitFile: string): Promise<number> {
  const deadline = Date.now() + 15_000;
  while (!existsSync(exitFile) || readFileSync(exitFile, 'utf8').trim() === '') {
    if (Date.now() > deadline) throw new Error('Timed out waiting for chatid to exit');
    await new Promise((r) => setTimeout(r, 50));
  }
  return Number(readFileSync(exitFile, 'utf8').trim());
}

describe.skipIf(!hasTmux)('profile add at a real terminal (tmux)', () => {
  it('walks the wizard: select, validation, default URL, hidden API key and secret', async () => {
    const API_KEY = 'tty-api-key-0123456789';
    const SECRET = 'tty-secret-abcdefghijkl';
    const t = start('wizard', ['profile', 'add', 'dev']);
    const send = (...keys: string[]) => tmux('send-keys', '-t', 'wizard', ...keys);

    await waitFor(t.screen, 'Provider');
    send('Down'); // Chatbase → Bookbag
    await waitFor(t.screen, '❯ Bookbag');
    send('Enter');
    await waitFor(t.screen, 'Agent id (numeric)');
    send('-l', 'abc');
    send('Enter');
    await waitFor(t.screen, 'agent ids are numeric', 'the validation message');
    send('BSpace', 'BSpace', 'BSpace');
    send('-l', '42');
    send('Enter');
    await waitFor(t.screen, 'API base URL');
    send('Enter'); // keep the vendor's default
    await waitFor(t.screen, 'Vendor API key');
    send('-l', API_KEY);
    send('Enter');
    await waitFor(t.screen, 'Identity secret');
    send('-l', SECRET);
    send('Enter');
    expect(await exitCode(t.exitFile)).toBe(0);

    const screen = await waitFor(t.screen, 'Added profile "dev" (now active).');
    // Hidden input: neither value was ever echoed.
    expect(screen).not.toContain(API_KEY);
    expect(screen).not.toContain(SECRET);
    const file = join(t.configDir, 'config.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      profiles: { dev: { provider: 'bookbag', agentId: '42', apiKey: API_KEY, secret: SECRET } },
      activeProfile: 'dev',
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('Ctrl-C at a prompt exits 130 with no stack trace and writes nothing', async () => {
    const t = start('ctrlc', ['profile', 'add', 'dev']);
    await waitFor(t.screen, 'Provider');
    tmux('send-keys', '-t', 'ctrlc', 'Enter');
    await waitFor(t.screen, 'Agent id');
    tmux('send-keys', '-t', 'ctrlc', '-l', 'half-typed');
    tmux('send-keys', '-t', 'ctrlc', 'C-c');
    expect(await exitCode(t.exitFile)).toBe(130);
    const screen = await waitFor(t.screen, 'Cancelled.');
    expect(screen).not.toMatch(/^\s+at /m);
    expect(screen).not.toContain('Error');
    expect(existsSync(t.configDir)).toBe(false);
  });

  it('--no-color: the questions are plain too, as NO_COLOR makes them', async () => {
    const t = start('nocolor', ['profile', 'add', 'dev', '--no-color'], { color: true });
    await waitFor(t.screen, 'Provider');
    const SGR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`);
    expect(t.styled()).not.toMatch(SGR);
    tmux('send-keys', '-t', 'nocolor', 'Enter');
    await waitFor(t.screen, 'Agent id');
    expect(t.styled()).not.toMatch(SGR);
    tmux('send-keys', '-t', 'nocolor', 'C-c');
    expect(await exitCode(t.exitFile)).toBe(130);
    // Without --no-color the same terminal shows them in color: the check above can fail.
    const c = start('color', ['profile', 'add', 'dev'], { color: true });
    await waitFor(c.screen, 'Provider');
    expect(c.styled()).toMatch(SGR);
    tmux('send-keys', '-t', 'color', 'C-c');
    expect(await exitCode(c.exitFile)).toBe(130);
  });
});
