// Secrets never reach argv (issue 6): spawn the real CLI with a secret coming from stdin, a
// file, the environment or the store, keep it running (its stdin held open), and read
// /proc/<pid>/cmdline of the process and of every descendant while it runs. Other users
// see argv through ps; they do not see stdin, files they cannot read, or /proc/<pid>/environ.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import { BIN, describeBuilt, REPO } from '../corpus/harness.js';

const SECRET = 'argvSecret_Hq7Zm2Xw9Lp4Rt6Vn1Bk8Cs3Jd';
const API_KEY = 'argvApiKey_Yu5Ti2Re8Wq3Pl6Ok9Ij4Uh7Gf';
const tmp = mkdtempSync(join(tmpdir(), 'chatid-argv-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const windows = (v: string): string[] => Array.from({ length: v.length - 9 }, (_, i) => v.slice(i, i + 10));
const NEEDLES = [...windows(SECRET), ...windows(API_KEY)];

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Field 4 (ppid) follows the parenthesised command name, which may hold spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      /* the process ended while we looked */
    }
  }
  return out;
}

/** argv of `pid` and all its descendants, read now. */
function cmdlines(pid: number): string[] {
  const out: string[] = [];
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    try {
      out.push(readFileSync(`/proc/${p}/cmdline`, 'latin1').replace(/\0/g, ' '));
    } catch {
      continue;
    }
    todo.push(...childrenOf(p));
  }
  return out;
}

interface ArgvCase {
  name: string;
  argv: string[];
  env?: Record<string, string>;
  /** Written to stdin at once (the secret, for --secret-stdin); stdin stays open until sampled. */
  early?: string;
  /** Written after sampling, then stdin is closed. */
  late?: string;
  expectExit: number;
}

const storeDir = join(tmp, 'store');
mkdirSync(storeDir, { mode: 0o700 });
writeFileSync(
  join(storeDir, 'config.json'),
  JSON.stringify({ activeProfile: 'dev', profiles: { dev: { provider: 'chatbase', agentId: 'a1', baseUrl: 'http://127.0.0.1:9', apiKey: API_KEY, secret: SECRET } } }),
  { mode: 0o600 },
);
mkdirSync(join(tmp, 'store-copy'), { mode: 0o700 });
writeFileSync(join(tmp, 'store-copy', 'config.json'), readFileSync(join(storeDir, 'config.json')), { mode: 0o600 });
const secretFile = join(tmp, 'secret.txt');
writeFileSync(secretFile, SECRET, { mode: 0o600 });
const emptyStore = join(tmp, 'empty-store');
const now = Math.floor(Date.now() / 1000);
const input = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ user_id: 'u1', iat: now, exp: now + 600 })).toString('base64url')}`;
const TOKEN = `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;

const CASES: ArgvCase[] = [
  { name: 'secret from stdin (secret set --secret-stdin)', argv: ['secret', 'set', '--secret-stdin', '--profile', 'dev'], env: { CHATID_CONFIG_DIR: join(tmp, 'store-copy') }, early: SECRET, late: '', expectExit: -1 },
  { name: 'secret from the environment (token verify)', argv: ['token', 'verify', '--provider', 'chatbase'], env: { CHATID_SECRET: SECRET, CHATID_CONFIG_DIR: emptyStore }, late: TOKEN, expectExit: 0 },
  { name: 'secret from a file (token verify --secret-file)', argv: ['token', 'verify', '--provider', 'chatbase', '--secret-file', secretFile], env: { CHATID_CONFIG_DIR: emptyStore }, late: TOKEN, expectExit: 0 },
  { name: 'secret from the store (token verify)', argv: ['token', 'verify'], env: { CHATID_CONFIG_DIR: storeDir }, late: TOKEN, expectExit: 0 },
  { name: 'API key from the store (contacts sync -)', argv: ['contacts', 'sync', '-', '--dry-run'], env: { CHATID_CONFIG_DIR: storeDir }, late: 'external_id,name\nu1,Ann\n', expectExit: -1 },
  { name: 'API key from the environment (contacts sync -)', argv: ['contacts', 'sync', '-', '--dry-run'], env: { CHATID_PROVIDER: 'chatbase', CHATID_AGENT_ID: 'a1', CHATID_BASE_URL: 'http://127.0.0.1:9', CHATID_API_KEY: API_KEY, CHATID_CONFIG_DIR: emptyStore }, late: 'external_id,name\nu1,Ann\n', expectExit: -1 },
];

describeBuilt('secrets never appear in argv', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: tmp, ...c.env };
      const child = spawn(process.execPath, [BIN, ...c.argv, '--no-input'], { cwd: REPO, env, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
      const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      if (c.early !== undefined) child.stdin.write(c.early);
      const seen: string[] = [];
      let samples = 0;
      for (let i = 0; i < 15; i++) {
        const lines = cmdlines(child.pid!);
        if (lines.length) samples++;
        seen.push(...lines);
        await delay(20);
      }
      child.stdin.end(c.late ?? '');
      const code = await closed;
      expect(out, `chatid ${c.argv.slice(0, 2).join(' ')} is not registered`).not.toContain('ERR_USAGE_UNKNOWN_COMMAND');
      expect(samples, `the process ended before it could be observed:\n${out}`).toBeGreaterThan(5);
      const leaked = NEEDLES.filter((n) => seen.some((l) => l.includes(n)));
      expect(leaked, seen.join('\n')).toEqual([]);
      if (c.expectExit >= 0) expect(code, out).toBe(c.expectExit);
    });
  }
});
