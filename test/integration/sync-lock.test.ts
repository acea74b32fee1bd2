// One run per checkpoint, with real processes of the built CLI: a second `contacts sync` of the
// same file refuses while the first runs (it used to start over under it, delete its temp
// files and fail at the end), the first still finishes, and the lock of a SIGKILLed run is
// taken over at once by the next run, --resume included.
//
// The first run is held at a gate (an HTTP proxy in front of the sandbox that keeps each
// request until opened), so "it is still running" is a fact of the test, not a matter of timing.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_API_KEY, type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { buildCliBundle, removeCliBundle } from './store-bundle.js';

let BIN = '';
beforeAll(async () => {
  BIN = await buildCliBundle();
}, 60_000);
afterAll(() => removeCliBundle(BIN));

const ROWS = 600;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A proxy to `target` that holds every request until open() (the first run's writes wait there). */
async function gate(target: string): Promise<{ url: string; arrival(): Promise<void>; open(): void; hold(): void; close(): Promise<void> }> {
  let opened = false;
  const waiting: Array<() => void> = [];
  let arrived: (() => void) | undefined;
  const server: Server = createServer((req: IncomingMessage, res) => {
    void (async () => {
      const body = Buffer.concat(await req.toArray());
      arrived?.();
      if (!opened) await new Promise<void>((r) => waiting.push(r));
      const up = await request(`${target}${req.url ?? '/'}`, {
        method: req.method as 'POST',
        headers: { authorization: req.headers.authorization ?? '', 'content-type': req.headers['content-type'] ?? 'application/json' },
        body: body.length ? body : undefined,
      });
      const out = Buffer.from(await up.body.arrayBuffer());
      res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? 'application/json'), 'content-length': String(out.length) });
      res.end(out);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Resolves at the next request to arrive. */
    arrival: () => new Promise<void>((r) => (arrived = r)),
    open() {
      opened = true;
      for (const w of waiting.splice(0)) w();
    },
    hold() {
      opened = false;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('contacts sync: one run per checkpoint (real processes)', () => {
  let sb: Sandbox;
  let dir: string;
  beforeAll(async () => {
    sb = await startSandbox({ port: 0, rateLimit: false });
  });
  afterAll(async () => {
    await sb.close();
  });

  const start = async (name: string): Promise<void> => {
    dir = await mkdtemp(join(tmpdir(), `chatid-lock-${name}-`));
    const lines = ['external_id,name'];
    for (let i = 0; i < ROWS; i++) lines.push(`${name}${i},N${i}`);
    await writeFile(join(dir, 'in.csv'), `${lines.join('\n')}\n`);
  };
  const spawnSync = (baseUrl: string, extra: string[] = []): { child: ChildProcess; done: Promise<Run> } => {
    const env = { PATH: process.env.PATH ?? '', HOME: dir, CHATID_CONFIG_DIR: join(dir, 'config'), CHATID_PROVIDER: 'chatbase', CHATID_BASE_URL: baseUrl, CHATID_API_KEY: SANDBOX_API_KEY, CHATID_AGENT_ID: sb.agentIds[0]! };
    const child = spawn(process.execPath, [BIN, 'contacts', 'sync', 'in.csv', '--batch-size', '50', '--concurrency', '2', '--json', ...extra], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const done = new Promise<Run>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
    return { child, done };
  };
  const leftovers = async (): Promise<string[]> => (await readdir(dir)).filter((n) => n.includes('checkpoint'));
  const storedWith = (prefix: string): number => sb.state.contacts(sb.agentIds[0]!).filter((c) => c.external_id.startsWith(prefix)).length;

  it('a second run refuses while the first holds the checkpoint (exit 2, naming it); the first finishes whole', async () => {
    await start('two');
    const g = await gate(sb.url);
    try {
      const arrived = g.arrival();
      const first = spawnSync(g.url);
      await arrived; // the first run holds the lock and its checkpoint, and waits at the gate
      const before = sb.requests.length;
      const cp = join(dir, 'in.csv.chatid-checkpoint.json');
      const cpText = await readFile(cp, 'utf8');

      const second = await spawnSync(sb.url).done;
      expect(second.code, second.stderr).toBe(2);
      const err = JSON.parse(second.stdout).error;
      expect(err).toMatchObject({ code: 'ERR_SYNC_CHECKPOINT_LOCKED', holder: { pid: first.child.pid, input: 'in.csv' }, lock: `${cp}.lock` });
      expect(err.message).toContain(`pid ${first.child.pid}`);
      expect(err.hint).toMatch(/--checkpoint <path>.*--shard/);
      // It sent nothing and touched nothing of the first run's.
      expect(sb.requests.length).toBe(before);
      expect(await readFile(cp, 'utf8')).toBe(cpText);
      expect(existsSync(`${cp}.lock`)).toBe(true);

      // A run with a checkpoint of its own (what the hint says) goes ahead meanwhile.
      const own = await spawnSync(sb.url, ['--checkpoint', 'own.json']).done;
      expect(own.code, own.stderr).toBe(0);
      expect(JSON.parse(own.stdout)).toMatchObject({ read: ROWS, synced: ROWS });

      g.open();
      const r = await first.done;
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ read: ROWS, synced: ROWS, resumed: false });
      expect(storedWith('two')).toBe(ROWS);
      expect(await leftovers()).toEqual([]);
    } finally {
      await g.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('the lock of a SIGKILLed run is taken over at once: --resume, and a fresh run, go ahead', async () => {
    await start('kill');
    const g = await gate(sb.url);
    try {
      for (const extra of [['--resume'], []]) {
        g.hold();
        const arrived = g.arrival();
        const held = spawnSync(g.url);
        await arrived;
        held.child.kill('SIGKILL');
        expect((await held.done).signal).toBe('SIGKILL');
        expect(existsSync(join(dir, 'in.csv.chatid-checkpoint.json.lock'))).toBe(true); // a dead run's lock stays behind

        // Through the gate, opened: --resume wants the same target as the run it continues.
        g.open();
        const next = await spawnSync(g.url, extra).done;
        expect(next.code, `${extra.join(' ')}: ${next.stdout}${next.stderr}`).toBe(0);
        expect(JSON.parse(next.stdout)).toMatchObject({ read: ROWS, synced: ROWS });
        if (extra.length === 0) expect(next.stderr).toContain('holds the checkpoint of an interrupted run; starting over');
        expect(await leftovers()).toEqual([]);
      }
      expect(storedWith('kill')).toBe(ROWS);
    } finally {
      await g.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
