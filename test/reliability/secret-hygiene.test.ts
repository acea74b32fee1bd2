// Secret hygiene (issue 6): run every command, in human and --json mode, with --verbose, with
// failing networks and bad input, while known secrets, API keys and TeamWeb plaintexts are in
// play (store, env, stdin, file, flag). Scan every byte of stdout, stderr and every file the
// command wrote (the store excluded) for them, whole or in part. The only hits allowed are
// the output the user asked for: `--reveal`, `decrypt`, and `secret rotate --generate` (once).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/index.js';
import { createHmac, createCipheriv } from 'node:crypto';
import type { Profile } from '../../src/store/types.js';
import { createTestCtx, runCli, type TestCtx } from '../helpers/test-ctx.js';
import { expectNoStackTrace } from '../corpus/harness.js';

// Distinctive values: no 10-character window of one of them occurs in normal output.
const SECRET = 'hygCurSecret_7Qw9Zr2Lp5Xv8Nb3Tk6Jd4Hs';
const PREV = 'hygPrevSecret_3Fh8Ks1Wm6Qz9Rc4Vy7BnGe';
const OTHER = 'hygOtherSecret_5Gt2Pj8Lx4Mw7Sd1Ka9QuYc';
const API_KEY = 'hygApiKey_9Xc4Vb7Nm2Qa5Ws8Ed3Rf6TgZp';
const ENV_SECRET = 'hygEnvSecret_2Kd7Lm4Pq9Wx1Zc6Vb3Nj8R';
const ENV_API_KEY = 'hygEnvApiKey_6Tr1Yu8Io3Pa5Sd7Fg2Hj9K';
const STDIN_SECRET = 'hygStdinSecret_4Rt9Yw2Qe7Ui1Op5As8Df';
const FILE_SECRET = 'hygFileSecret_8Zx3Cv6Bn1Mq4Wl7Ek2Rj5T';
const FLAG_SECRET = 'hygFlagSecret_1Aq6Sw3De8Fr5Gt2Hy7Ju4K';
const TW_KEY_BYTES = Buffer.from('hyg-teamweb-key-32-bytes-ZK4q9Wx');
const TW_KEY = TW_KEY_BYTES.toString('base64');
const TW_OTHER_KEY = Buffer.from('hyg-teamweb-OTHER-32-bytes-P7x2a').toString('base64');
const PLAINTEXT_ID = 'hygPlainUser_Qm3Xr8Vt1Lw6';
const PLAINTEXT_EMAIL = 'hyg.plain.Zq8Ws2@Zq8Ws2.invalid';

/** A TeamWeb token as the vendor builds it: base64(nonce ‖ ciphertext ‖ tag). */
function teamwebToken(keyB64: string, payload: unknown): string {
  const nonce = Buffer.alloc(12, 7);
  const c = createCipheriv('aes-256-gcm', Buffer.from(keyB64, 'base64'), nonce);
  const body = Buffer.concat([c.update(JSON.stringify(payload), 'utf8'), c.final()]);
  return Buffer.concat([nonce, body, c.getAuthTag()]).toString('base64');
}

interface Needle {
  label: string;
  value: string;
}

/** The value, its hex and base64 forms, and every 10-character window of it. */
function needlesOf(label: string, value: string): Needle[] {
  const out: Needle[] = [
    { label, value },
    { label: `${label} (hex)`, value: Buffer.from(value).toString('hex') },
    { label: `${label} (base64)`, value: Buffer.from(value).toString('base64').replace(/=+$/, '') },
  ];
  for (let i = 0; i + 10 <= value.length; i++) out.push({ label: `${label} [${i}..${i + 10})`, value: value.slice(i, i + 10) });
  return out;
}

const SECRETS: Record<string, string> = {
  SECRET,
  PREV,
  OTHER,
  API_KEY,
  ENV_SECRET,
  ENV_API_KEY,
  STDIN_SECRET,
  FILE_SECRET,
  FLAG_SECRET,
  TW_KEY,
  TW_KEY_HEX: TW_KEY_BYTES.toString('hex'),
  PLAINTEXT_ID,
  PLAINTEXT_EMAIL,
};

const dev: Profile = {
  provider: 'chatbase',
  agentId: 'agent-hyg',
  baseUrl: 'http://127.0.0.1:9',
  apiKey: API_KEY,
  secret: SECRET,
  previousSecret: PREV,
  previousSecretExpiresAt: '2026-01-02T00:00:00.000Z',
};
const other: Profile = { provider: 'chatbase', agentId: 'agent-other', apiKey: 'hygOtherKey_0000000000000000', secret: OTHER };
const tw: Profile = { provider: 'teamweb', secret: TW_KEY };

const NOW = 1_767_225_600;
const hs256 = (key: string, payload: object): string => {
  const input = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
};
const TOKEN_OK = hs256(SECRET, { user_id: 'u1', iat: NOW, exp: NOW + 3600 });
const TOKEN_PREV = hs256(PREV, { user_id: 'u1', iat: NOW, exp: NOW + 3600 });
const TOKEN_OTHER = hs256(OTHER, { user_id: 'u1', iat: NOW, exp: NOW + 3600 });
const TOKEN_WS = hs256(`${SECRET}\n`, { user_id: 'u1', iat: NOW, exp: NOW + 3600 });
const HASH_OTHER = createHmac('sha256', OTHER).update('u1').digest('hex');
const HASH_WS = createHmac('sha256', `${SECRET} `).update('u1').digest('hex');
const TW_TOKEN = teamwebToken(TW_KEY, { id: PLAINTEXT_ID, email: PLAINTEXT_EMAIL });
const TW_TOKEN_OTHER = teamwebToken(TW_OTHER_KEY, { id: PLAINTEXT_ID, email: PLAINTEXT_EMAIL });

type Net = 'refused' | '401' | '500';

interface HygieneRun {
  argv: string[];
  stdin?: string;
  env?: Record<string, string>;
  profiles?: Record<string, Profile>;
  activeProfile?: string;
  /** Values this run was asked to print on stdout. */
  reveals?: string[];
  /** A network to fail for commands that call the vendor. */
  net?: Net;
}

const tmpRoot = mkdtempSync(join(tmpdir(), 'chatid-hygiene-'));
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));
const SECRET_FILE = join(tmpRoot, 'secret.txt');
writeFileSync(SECRET_FILE, `${FILE_SECRET}\n`, { mode: 0o600 });
const API_KEY_FILE = join(tmpRoot, 'apikey.txt');
writeFileSync(API_KEY_FILE, `${ENV_API_KEY}\n`, { mode: 0o600 });
const CSV = join(tmpRoot, 'contacts.csv');
writeFileSync(CSV, `external_id,name,email\nu1,Ann,ann@example.com\nu2,Bob,not-an-email\n,NoId,x@example.com\n`);
const BAD_CSV = join(tmpRoot, 'bad.csv');
writeFileSync(BAD_CSV, 'name;email\nAnn;ann@example.com\n');

const withDev = { profiles: { dev, other, tw }, activeProfile: 'dev' };
const withTw = { profiles: { dev, other, tw }, activeProfile: 'tw' };

const RUNS: HygieneRun[] = [
  // profile
  { argv: ['profile', 'list'], ...withDev },
  { argv: ['profile', 'show'], ...withDev },
  { argv: ['profile', 'show', 'dev'], ...withDev },
  { argv: ['profile', 'show', 'dev', '--reveal'], ...withDev, reveals: [SECRET, PREV, API_KEY] },
  { argv: ['profile', 'add', 'n1', '--provider', 'chatbase', '--agent-id', 'a', '--secret-stdin'], stdin: `${STDIN_SECRET}\n`, ...withDev },
  { argv: ['profile', 'add', 'n2', '--provider', 'chatbase', '--agent-id', 'a', '--secret-file', SECRET_FILE, '--api-key-file', API_KEY_FILE], ...withDev },
  { argv: ['profile', 'add', 'n3', '--provider', 'chatbase', '--agent-id', 'a', '--secret', FLAG_SECRET], ...withDev },
  { argv: ['profile', 'add', 'dev', '--provider', 'chatbase', '--secret', FLAG_SECRET], ...withDev },
  { argv: ['profile', 'add', 'n4', '--provider', 'teamweb', '--secret', `${FLAG_SECRET}`], ...withDev },
  { argv: ['profile', 'add', 'n5', '--provider', 'bookbag', '--agent-id', 'not-numeric', '--secret-stdin'], stdin: STDIN_SECRET, ...withDev },
  { argv: ['profile', 'use', 'other'], ...withDev },
  { argv: ['profile', 'remove', 'other'], ...withDev },
  { argv: ['profile', 'remove', 'other', '--yes'], ...withDev },
  // secret
  { argv: ['secret', 'show'], ...withDev },
  { argv: ['secret', 'show', '--reveal'], ...withDev, reveals: [SECRET, PREV] },
  { argv: ['secret', 'list'], ...withDev },
  { argv: ['secret', 'set', '--secret-stdin'], stdin: `${STDIN_SECRET}\n`, ...withDev },
  { argv: ['secret', 'set', '--secret-file', SECRET_FILE], ...withDev },
  { argv: ['secret', 'set', '--secret', FLAG_SECRET], ...withDev },
  { argv: ['secret', 'set', '--secret-stdin'], stdin: '', ...withDev },
  { argv: ['secret', 'set', '--secret-stdin'], stdin: `hex:${STDIN_SECRET}`, ...withTw },
  { argv: ['secret', 'rotate', '--secret-stdin', '--grace', '1h'], stdin: STDIN_SECRET, ...withDev },
  { argv: ['secret', 'rotate', '--secret-stdin', '--grace', 'soon'], stdin: STDIN_SECRET, ...withDev },
  { argv: ['secret', 'rotate', '--secret-stdin'], stdin: TW_OTHER_KEY.slice(0, 20), ...withTw },
  // whoami
  { argv: ['whoami'], ...withDev },
  { argv: ['whoami'], ...withDev, env: { CHATID_SECRET: ENV_SECRET, CHATID_API_KEY: ENV_API_KEY } },
  { argv: ['whoami', '--check'], ...withDev, net: 'refused' },
  { argv: ['whoami', '--check'], ...withDev, net: '401' },
  { argv: ['whoami', '--check'], ...withDev, net: '500' },
  // token
  { argv: ['token', 'sign', '--user-id', 'u1'], ...withDev },
  { argv: ['token', 'sign', '--user-id', 'u1', '--secret-stdin'], stdin: STDIN_SECRET, ...withDev },
  { argv: ['token', 'sign', '--user-id', 'u1', '--secret', FLAG_SECRET], ...withDev },
  { argv: ['token', 'sign', '--user-id', 'u1', '--provider', 'generic'], env: { CHATID_SECRET: ENV_SECRET } },
  { argv: ['token', 'sign', '--user-id', 'u1', '--provider', 'generic'], env: { CHATID_SECRET: 'hex:hygNotHex_zz' } },
  { argv: ['token', 'sign', '--user-id', 'u1', '--provider', 'generic'], env: { CHATID_SECRET: 'hygShort_Q8' } },
  { argv: ['token', 'verify', TOKEN_OK], ...withDev },
  { argv: ['token', 'verify', TOKEN_PREV], ...withDev },
  { argv: ['token', 'verify', TOKEN_OTHER], ...withDev },
  { argv: ['token', 'verify', TOKEN_WS], ...withDev },
  { argv: ['token', 'verify', `Bearer ${TOKEN_OK}`], ...withDev },
  { argv: ['token', 'verify', 'not.a.token'], ...withDev },
  { argv: ['token', 'verify', '--secret-file', SECRET_FILE, TOKEN_OK], ...withDev },
  { argv: ['token', 'decode', TOKEN_OK], ...withDev },
  { argv: ['token', 'decode', 'garbage'], ...withDev },
  // hash
  { argv: ['hash', 'u1'], ...withDev },
  { argv: ['hash', 'u1', '--expect', HASH_OTHER], ...withDev },
  { argv: ['hash', 'u1', '--expect', HASH_WS], ...withDev },
  { argv: ['hash', 'u1', '--expect', 'zz-not-a-hash'], ...withDev },
  { argv: ['hash', 'u1', '--secret-stdin', '--expect', HASH_OTHER], stdin: STDIN_SECRET, ...withDev },
  // --batch (ids on stdin, secret from the store or the environment)
  { argv: ['token', 'sign', '--batch', '-'], stdin: 'u1\nu2\n', ...withDev },
  { argv: ['token', 'sign', '--batch', '-', '--provider', 'generic'], stdin: 'u1\n\n', env: { CHATID_SECRET: ENV_SECRET } },
  { argv: ['hash', '--batch', '-'], stdin: 'user_id,email\nu1,a@example.com\n', ...withDev },
  { argv: ['hash', '--batch', '-'], stdin: 'u1\nbad id \n', ...withDev },
  { argv: ['encrypt', '--batch', '-'], stdin: 'u1\nu2\n', ...withTw },
  // TeamWeb
  { argv: ['encrypt', '--id', 'u1'], ...withTw },
  { argv: ['encrypt', '--id', 'u1', '--secret-stdin'], stdin: TW_OTHER_KEY, ...withTw },
  { argv: ['encrypt', '--id', 'u1', '--secret-stdin'], stdin: 'hygNotAKey_Xc81', ...withTw },
  { argv: ['encrypt', '--id', 'u1'], ...withDev },
  { argv: ['decrypt', TW_TOKEN], ...withTw, reveals: [PLAINTEXT_ID, PLAINTEXT_EMAIL] },
  { argv: ['decrypt', TW_TOKEN_OTHER], ...withTw },
  { argv: ['decrypt', TW_TOKEN.slice(0, 30)], ...withTw },
  { argv: ['decrypt', `${TW_TOKEN} `], ...withTw },
  // vendor calls with a failing network
  { argv: ['contacts', 'list'], ...withDev, net: 'refused' },
  { argv: ['contacts', 'list'], ...withDev, net: '401' },
  { argv: ['contacts', 'get', 'u1'], ...withDev, net: '500' },
  { argv: ['contacts', 'delete', 'u1', '--yes'], ...withDev, net: '401' },
  { argv: ['contacts', 'delete', 'u1', '--yes'], ...withDev, net: 'refused' },
  { argv: ['contacts', 'sync', CSV, '--report', join(tmpRoot, 'OUT', 'rejected.csv')], ...withDev, net: 'refused' },
  { argv: ['contacts', 'sync', CSV, '--report', join(tmpRoot, 'OUT', 'rejected.csv')], ...withDev, net: '401' },
  { argv: ['contacts', 'sync', CSV, '--report', join(tmpRoot, 'OUT', 'rejected.csv')], ...withDev, net: '500' },
  { argv: ['contacts', 'sync', CSV, '--dry-run'], ...withDev, net: 'refused' },
  { argv: ['contacts', 'sync', BAD_CSV], ...withDev, net: 'refused' },
  { argv: ['attributes', 'list'], ...withDev, net: '401' },
  { argv: ['chat', 'hello', '--user-id', 'u1'], ...withDev, net: '500' },
  { argv: ['conversations', 'list', '--user-id', 'u1'], ...withDev, net: 'refused' },
];

/** The command a run exercises: its leading words, e.g. `profile add`, `hash`. */
function wordsOf(argv: string[]): string[] {
  const w: string[] = [];
  for (const a of argv) {
    if (a.startsWith('-') || w.length === 2) break;
    w.push(a);
  }
  const groups = new Set(['profile', 'secret', 'token', 'contacts', 'attributes', 'conversations']);
  return groups.has(w[0]!) ? w.slice(0, 2) : w.slice(0, 1);
}

function failNetwork(ctx: TestCtx, net: Net | undefined): void {
  if (!net || net === 'refused') return; // MockAgent with net connect disabled: every request fails to connect
  const pool = ctx.mockAgent.get('http://127.0.0.1:9');
  const body = net === '401' ? { message: 'Unauthorized access', echo: 'no secrets here' } : { message: 'Internal server error' };
  pool.intercept({ path: () => true, method: () => true }).reply(Number(net), body).persist();
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

/** The subcommands a help text lists (`help` left out). */
function commandsIn(help: string): string[] {
  const section = help.split(/^Commands:$/m)[1]?.split(/\n\s*\n/)[0] ?? '';
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!).filter((n) => n !== 'help');
}

/** Every command the CLI registers, as its words: `hash`, `profile add`, … (from --help). */
async function registeredCommands(): Promise<string[]> {
  const out: string[] = [];
  const top = await runCli(['--help'], createTestCtx());
  expect(top.exitCode, top.stderr).toBe(0);
  for (const name of commandsIn(top.stdout)) {
    const sub = await runCli([name, '--help'], createTestCtx());
    expect(sub.exitCode, `chatid ${name} --help\n${sub.stderr}`).toBe(0);
    const subs = commandsIn(sub.stdout);
    out.push(...(subs.length > 0 ? subs.map((s) => `${name} ${s}`) : [name]));
  }
  return out;
}

describe('secret hygiene: no secret in any output unless asked for', () => {
  for (const r of RUNS) {
    for (const json of [false, true]) {
      const argv = [...r.argv, '--verbose', ...(json ? ['--json'] : [])];
      const shown = argv.map((a) => a.replace(tmpRoot, '$TMP')).join(' ');
      it(`chatid ${shown}${r.net ? ` (network: ${r.net})` : ''}`, async () => {
        const cwd = mkdtempSync(join(tmpRoot, 'cwd-'));
        mkdirSync(join(tmpRoot, 'OUT'), { recursive: true });
        const beforeOut = new Set(filesUnder(tmpRoot));
        const ctx = createTestCtx({ profiles: r.profiles, activeProfile: r.activeProfile, env: r.env, stdin: r.stdin, cwd, now: new Date(NOW * 1000) });
        failNetwork(ctx, r.net);
        const res = await runCli(argv, ctx);
        expect(res.stdout + res.stderr, `chatid ${wordsOf(r.argv).join(' ')} is not registered`).not.toContain('ERR_USAGE_UNKNOWN_COMMAND');
        const written = filesUnder(tmpRoot).filter((f) => !beforeOut.has(f));
        const sources: Array<[string, string]> = [
          ['stdout', res.stdout],
          ['stderr', res.stderr],
          ...written.map((f): [string, string] => [`file ${f}`, readFileSync(f, 'latin1')]),
        ];
        const allowed = new Set(r.reveals ?? []);
        const hits: string[] = [];
        for (const [label, value] of Object.entries(SECRETS)) {
          for (const n of needlesOf(label, value)) {
            for (const [where, text] of sources) {
              if (!text.includes(n.value)) continue;
              if (where === 'stdout' && allowed.has(value)) continue;
              hits.push(`${n.label} in ${where}`);
            }
          }
        }
        if (process.env.HYGIENE_TRACE) console.log(`${res.exitCode} ${shown} ${r.net ?? ''} :: ${(res.stdout + res.stderr).replace(/\s+/g, ' ').slice(0, 160)}`);
        expect(hits, `exit ${res.exitCode}\n--- stdout:\n${res.stdout}\n--- stderr:\n${res.stderr}`).toEqual([]);
        // While we are here: --json means exactly one JSON document on stdout, and no run
        // prints a stack trace (except the one --verbose adds on purpose to exit-1 failures).
        if (json && r.argv.includes('--batch')) {
          // NDJSON: one document per line; a final error document is pretty-printed (reported:
          // a line-by-line NDJSON reader trips on it), so the rest must parse as one document.
          const lines = res.stdout.trimEnd().split('\n');
          let i = 0;
          while (i < lines.length && (() => { try { JSON.parse(lines[i]!); return true; } catch { return false; } })()) i++;
          if (i < lines.length) expect(() => JSON.parse(lines.slice(i).join('\n')), `--json --batch output is not NDJSON:\n${res.stdout}`).not.toThrow();
        } else if (json) expect(() => JSON.parse(res.stdout), `--json stdout is not one JSON document:\n${res.stdout}`).not.toThrow();
        if (res.exitCode !== 1) expectNoStackTrace(`chatid ${shown}`, res.stdout, res.stderr);
        // What was asked for is really there (proves the scan can see it).
        for (const v of allowed) {
          if (res.exitCode === 0) expect(res.stdout, `asked-for value missing from stdout`).toContain(v);
        }
        rmSync(join(tmpRoot, 'OUT'), { recursive: true, force: true });
      });
    }
  }
});

describe('secret rotate --generate', () => {
  it('prints the new secret exactly once, on stdout, and nowhere else', async () => {
    for (const json of [false, true]) {
      const ctx = createTestCtx({ ...withDev, randomByte: 0x5a, now: new Date(NOW * 1000) });
      const res = await runCli(['secret', 'rotate', '--generate', '--verbose', ...(json ? ['--json'] : [])], ctx);
      expect(res.exitCode, res.stderr).toBe(0);
      const generated = ctx.memory!.data.profiles.dev!.secret!;
      expect(generated).not.toBe(SECRET);
      const count = res.stdout.split(generated).length - 1;
      expect(count, res.stdout).toBe(1);
      expect(res.stderr).not.toContain(generated);
      for (const n of needlesOf('SECRET', SECRET)) expect(res.stdout + res.stderr).not.toContain(n.value);
    }
  });
});

// The success paths against a real vendor imitation: requests carry the API key, so this is
// where a verbose request log or an echoed header would leak it.
const VENDOR_RUNS: string[][] = [
  ['whoami', '--check'],
  ['contacts', 'sync', CSV, '--report', join(tmpRoot, 'OUT2', 'report.csv')],
  ['contacts', 'sync', CSV, '--dry-run'],
  ['contacts', 'list'],
  ['contacts', 'get', 'u1'],
  ['contacts', 'delete', 'u1', '--yes'],
  ['attributes', 'list'],
  ['attributes', 'create', '--name', 'plan', '--type', 'text'],
  ['chat', 'hello', '--user-id', 'u1'],
  ['conversations', 'list', '--user-id', 'u1'],
];
describe('secret hygiene: vendor calls that succeed (loopback sandbox)', () => {
  for (const argv of VENDOR_RUNS) {
    it(`chatid ${argv.map((a) => a.replace(tmpRoot, '$TMP')).join(' ')} --verbose (human and JSON)`, async () => {
      const sb = await startSandbox({ rateLimit: false, apiKeys: [API_KEY], agentIds: ['agent-hyg'] });
      const agent = new Agent();
      try {
        for (const json of [false, true]) {
          mkdirSync(join(tmpRoot, 'OUT2'), { recursive: true });
          const before = new Set(filesUnder(tmpRoot));
          const ctx = createTestCtx({ profiles: { dev: { ...dev, baseUrl: sb.url } }, activeProfile: 'dev', dispatcher: agent, cwd: tmpRoot, now: new Date(NOW * 1000) });
          const res = await runCli([...argv, '--verbose', ...(json ? ['--json'] : [])], ctx);
          expect(res.stdout + res.stderr, `chatid ${wordsOf(argv).join(' ')} is not registered`).not.toContain('ERR_USAGE_UNKNOWN_COMMAND');
          const written = filesUnder(tmpRoot).filter((f) => !before.has(f));
          if (process.env.HYGIENE_TRACE) console.log(`:: ${res.exitCode} ${argv.join(' ')} ${(res.stdout + res.stderr).replace(/\s+/g, ' ').slice(0, 200)}`);
          const texts: Array<[string, string]> = [['stdout', res.stdout], ['stderr', res.stderr], ...written.map((f): [string, string] => [f, readFileSync(f, 'latin1')])];
          const hits = Object.entries(SECRETS).flatMap(([label, value]) =>
            needlesOf(label, value).flatMap((n) => texts.filter(([, t]) => t.includes(n.value)).map(([w]) => `${n.label} in ${w}`)),
          );
          expect(hits, `exit ${res.exitCode}\n${res.stdout}\n${res.stderr}`).toEqual([]);
          expect([0, 1, 5], `${argv.join(' ')} should reach the sandbox\n${res.stdout}\n${res.stderr}`).toContain(res.exitCode);
          rmSync(join(tmpRoot, 'OUT2'), { recursive: true, force: true });
        }
      } finally {
        await agent.close();
        await sb.close();
      }
    });
  }
});

// "Run every command": a command added to the CLI without a run above fails here, by name.
describe('secret hygiene: coverage', () => {
  // sandbox is a long-running local server that reads no profile, secret or API key.
  const NOT_RUN = new Set(['sandbox']);
  it('runs every command the CLI registers (chatid --help), sandbox aside, and each one it runs is registered', async () => {
    const covered = new Set([...RUNS.map((r) => r.argv), ...VENDOR_RUNS, ['secret', 'rotate']].map((a) => wordsOf(a).join(' ')));
    const registered = await registeredCommands();
    expect(registered.length, 'no commands parsed from chatid --help').toBeGreaterThan(10);
    expect(registered.filter((c) => !covered.has(c) && !NOT_RUN.has(c)), 'commands with no secret-hygiene run').toEqual([]);
    // A run of an unregistered command fails with a usage error, which leaks nothing: catch it here.
    expect([...covered].filter((c) => !registered.includes(c)), 'commands run here but not registered').toEqual([]);
  });
});
