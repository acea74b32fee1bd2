import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { SANDBOX_API_KEY } from '../../src/sandbox/index.js';
import { createTestCtx, runCli, type TestCtx } from '../helpers/test-ctx.js';

/** Run `chatid sandbox …` in-process until `use` is done, then press Ctrl-C (abort ctx.signal). */
async function withSandbox(argv: string[], use: (doc: any, ctx: TestCtx) => Promise<void>, ctx = createTestCtx()) {
  const ac = new AbortController();
  ctx.signal = ac.signal;
  const done = runCli(['sandbox', '--port', '0', '--json', ...argv], ctx);
  let doc: any;
  for (let i = 0; i < 200 && doc === undefined; i++) {
    await new Promise((r) => setTimeout(r, 10));
    if (ctx.stdout.text.trim().endsWith('}')) doc = JSON.parse(ctx.stdout.text);
  }
  expect(doc).toBeDefined();
  try {
    await use(doc, ctx);
  } finally {
    ac.abort();
  }
  return done;
}

describe('chatid sandbox', () => {
  it('prints one JSON document, serves until Ctrl-C and exits 0', async () => {
    const r = await withSandbox(['--provider', 'bookbag', '--rate-limit', '5/1m', '--attribute', 'seats:number', '--verbose'], async (doc) => {
      expect(doc).toMatchObject({ provider: 'bookbag', apiKey: SANDBOX_API_KEY, agentId: '1001', agentIds: ['1001'], rateLimit: { limit: 5, windowMs: 60000 }, faultRate: 0, faults: [] });
      expect(doc.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(doc.env).toEqual({ CHATID_PROVIDER: 'bookbag', CHATID_BASE_URL: doc.url, CHATID_API_KEY: SANDBOX_API_KEY, CHATID_AGENT_ID: '1001' });
      const res = await request(`${doc.url}/api/v1/chatbots/1001/custom-attributes`, { headers: { authorization: `Bearer ${doc.apiKey}` } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBe('5');
      expect(((await res.body.json()) as any).data[0]).toMatchObject({ name: 'seats', type: 'number' });
    });
    expect(r.exitCode).toBe(0);
    expect(r.json().url).toMatch(/^http:/);
    expect(r.stderr).toContain('export CHATID_PROVIDER=bookbag CHATID_BASE_URL=http://127.0.0.1:');
    expect(r.stderr).toContain('[verbose] GET /api/v1/chatbots/1001/custom-attributes → 200');
    expect(r.stderr).toContain('Sandbox stopped after 1 request(s)');
  });

  it('keeps state in --data across runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chatid-sbcmd-'));
    const ctx = createTestCtx({ cwd: dir });
    const r = await withSandbox(['--data', 'state.json'], async (doc) => {
      const res = await request(`${doc.url}/api/v1/chatbots/${doc.agentId}/contacts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${doc.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ users: [{ external_id: 'u1', name: 'Ann' }] }),
      });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    }, ctx);
    expect(r.exitCode).toBe(0);
    expect(r.json().dataFile).toBe(join(dir, 'state.json'));
    const saved = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8'));
    expect(saved.agents[0].contacts.map((c: any) => c.external_id)).toEqual(['u1']);
    const again = await withSandbox(['--data', join(dir, 'state.json')], async (doc) => {
      const res = await request(`${doc.url}/api/v1/chatbots/${doc.agentId}/contacts/u1`, { headers: { authorization: `Bearer ${doc.apiKey}` } });
      expect(((await res.body.json()) as any).data.name).toBe('Ann');
    });
    expect(again.exitCode).toBe(0);
  });

  it('stops with a typed error, not a bug report, when --data can no longer be saved', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chatid-sbcmd-'));
    const sub = join(dir, 'gone');
    await import('node:fs/promises').then((fs) => fs.mkdir(sub));
    const r = await withSandbox(['--data', join(sub, 'state.json')], async (doc) => {
      await import('node:fs/promises').then((fs) => fs.rm(sub, { recursive: true }));
      const res = await request(`${doc.url}/api/v1/chatbots/${doc.agentId}/contacts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${doc.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ users: [{ external_id: 'u1', name: 'Ann' }] }),
      });
      await res.body.dump();
    });
    expect(r.exitCode).toBe(1);
    // NDJSON: the document printed when listening, then the error, one line each.
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.map((l) => Object.keys(JSON.parse(l))[0])).toEqual(['url', 'error']);
    expect(r.stdout).toContain('"ERR_SANDBOX_DATA_SAVE"');
    expect(r.stdout).not.toContain('ERR_INTERNAL');
    expect(r.stdout).toContain(join(sub, 'state.json'));
    expect(r.stderr).not.toContain('state saved to');
  });

  it('one sandbox per --data file: a second is refused while the first runs; a dead one\'s lock is taken over', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chatid-sbcmd-'));
    const data = join(dir, 'state.json');
    const r = await withSandbox(['--data', data], async () => {
      const second = await runCli(['sandbox', '--port', '0', '--json', '--data', data]);
      expect([second.exitCode, second.json().error.code]).toEqual([2, 'ERR_SANDBOX_DATA_IN_USE']);
      expect(second.json().error.message).toContain(`pid ${process.pid}, serving ${data} since `);
      expect(second.json().error.hint).toContain('--data');
    });
    expect(r.exitCode).toBe(0);
    expect(existsSync(`${data}.lock`)).toBe(false);
    // A lock left by a sandbox killed with -9: its process is gone, so the next one starts.
    const dead = spawn(process.execPath, ['-e', '']);
    const deadPid = await new Promise<number>((res) => dead.on('exit', () => res(dead.pid!)));
    await import('node:fs/promises').then((fs) => fs.writeFile(`${data}.lock`, JSON.stringify({ pid: deadPid, host: hostname(), since: 'x' })));
    const again = await withSandbox(['--data', data], async () => {
      expect(JSON.parse(await readFile(`${data}.lock`, 'utf8')).pid).toBe(process.pid);
    });
    expect(again.exitCode).toBe(0);
    expect(existsSync(`${data}.lock`)).toBe(false);
    // A lock naming this very pid that this process does not hold: a container restarted after
    // kill -9 runs the sandbox as pid 1 again, on the same host name. Taken over too.
    await import('node:fs/promises').then((fs) => fs.writeFile(`${data}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), since: 'x' })));
    const restarted = await withSandbox(['--data', data], async () => undefined);
    expect(restarted.exitCode).toBe(0);
  });

  it('exits 2 with a clear error for each bad flag value', async () => {
    const cases: Array<[string[], string]> = [
      [['--port', 'abc'], '--port'],
      [['--port', '70000'], '--port'],
      [['--provider', 'intercom'], '--provider'],
      [['--latency', 'fast'], '--latency'],
      [['--latency', '50'], '--latency'],
      [['--fault-rate', '1.5'], '--fault-rate'],
      [['--fault-rate', 'x'], '--fault-rate'],
      [['--fault-rate', '0.1', '--faults', '429,boom'], 'boom'],
      [['--faults', '429'], '--fault-rate'],
      [['--rate-limit', '100'], '--rate-limit'],
      [['--rate-limit', '0/10s'], '--rate-limit'],
      [['--retry-after', '1.5'], '--retry-after'],
      [['--provider', 'bookbag', '--agent-id', 'abc'], 'numeric'],
      [['--agent-id', 'abc def'], 'has a space inside'],
      [['--agent-id', 'abc\u200bdef'], 'an invisible character (U+200B)'],
      [['--attribute', 'age:int'], '--attribute'],
      [['--seed', '-1'], '--seed'],
      [['--retry-after-format', 'date'], '--retry-after-format'],
      [['--scoped-key', 'k1'], '--scoped-key'],
      [['--scoped-key', 'k1='], '--scoped-key'],
      [['--api-key', 'sk t'], '--api-key holds a space at character 3 of 4'],
      [['--latency', '30d'], '--latency must be at most 1h'],
      [['--data', '/nonexistent/chatid-dir/state.json'], 'the directory does not exist'],
      [['--api-key', 'sk_t\u00e9st'], '--api-key holds U+00E9'],
      [['--identity-secret', ''], '--identity-secret is empty'],
      [['--identity-secret', '   '], '--identity-secret is only whitespace'],
      [['--identity-secret', 'test-secret\n'], '--identity-secret has a trailing newline'],
      [['--identity-secret', 'sk_\u2026'], '--identity-secret holds "…"'],
    ];
    // A pipe hung the start for good, a device would be replaced by the first save.
    const fifoDir = await mkdtemp(join(tmpdir(), 'chatid-data-fifo-'));
    execFileSync('mkfifo', [join(fifoDir, 'state.json')]);
    cases.push([['--data', join(fifoDir, 'state.json')], 'it is not a regular file'], [['--data', fifoDir], 'it is a directory']);
    for (const [argv, needle] of cases) {
      const r = await runCli(['sandbox', '--json', ...argv]);
      expect([argv, r.exitCode]).toEqual([argv, 2]);
      expect(r.json().error.code).toBe('ERR_USAGE_BAD_VALUE');
      expect(r.json().error.message).toContain(needle);
      expect(r.json().error.hint).toBeTruthy();
    }
  });

  it('accepts the documented forms', async () => {
    const r = await withSandbox(['--latency', '5ms', '--fault-rate', '20%', '--faults', '429,500,reset-after', '--rate-limit', '100/10s', '--api-key', 'k1', '--api-key', 'k2', '--agent-id', 'a1', '--agent-id', 'a2', '--seed', '3', '--retry-after', '2'], async (doc) => {
      expect(doc).toMatchObject({ apiKey: 'k1', agentIds: ['a1', 'a2'], faultRate: 0.2, faults: ['429', '500', 'reset-after'], latencyMs: 5, rateLimit: { limit: 100, windowMs: 10000 } });
    });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('Faults:    20% of requests (429, 500, reset-after)');
    // An explicit --rate-limit is one window on every path.
    expect(r.stderr).toContain('Limits:    100 requests / 10s per key, 1000');
  });

  it("without --rate-limit, announces each vendor's window", async () => {
    const r = await withSandbox([], async (doc) => {
      expect(doc).toMatchObject({ rateLimit: { limit: 100, windowMs: 10000 }, rateLimitPerMinutePaths: { limit: 100, windowMs: 60000 } });
    });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('Limits:    100 requests / 10s per key (Replyful, OpenCX: 100 / 60s)');
  });

  it('serves scoped and read-only keys', async () => {
    const r = await withSandbox(['--provider', 'bookbag', '--agent-id', '1', '--agent-id', '2', '--scoped-key', 'oc_one=1', '--read-only-key', 'ocx_ro'], async (doc) => {
      const other = await request(`${doc.url}/api/v2/agents/2/users/u/conversations`, { headers: { authorization: 'Bearer oc_one' } });
      expect([other.statusCode, ((await other.body.json()) as any).error.code]).toEqual([403, 'AUTH_INSUFFICIENT_PERMISSIONS']);
      const own = await request(`${doc.url}/api/v2/agents/1/users/u/conversations`, { headers: { authorization: 'Bearer oc_one' } });
      expect(own.statusCode).toBe(200);
      await own.body.dump();
      const write = await request(`${doc.url}/widget/authenticate-user`, { method: 'POST', headers: { authorization: 'Bearer ocx_ro', 'content-type': 'application/json' }, body: '{"email":"a@example.com"}' });
      expect(write.statusCode).toBe(403);
      await write.body.dump();
    });
    expect(r.exitCode).toBe(0);
  });

  it('exits 1 with a clear error when the port is in use', async () => {
    const blocker = createServer();
    await new Promise<void>((res) => blocker.listen(0, '127.0.0.1', () => res()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await runCli(['sandbox', '--port', String(port), '--json']);
      expect(r.exitCode).toBe(1);
      expect(r.json().error).toMatchObject({ code: 'ERR_SANDBOX_PORT_IN_USE' });
      // The next port up, not a fixed 4011 (which may be the busy one).
      expect(r.json().error.hint).toContain(`--port ${port === 65535 ? 4010 : port + 1},`);
    } finally {
      blocker.close();
    }
  });

  it('exits 2 when --data is not sandbox data', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chatid-sbcmd-'));
    const ctx = createTestCtx({ cwd: dir });
    await import('node:fs/promises').then((fs) => fs.writeFile(join(dir, 'x.json'), '[1,2]'));
    const r = await runCli(['sandbox', '--port', '0', '--json', '--data', 'x.json'], ctx);
    expect([r.exitCode, r.json().error.code]).toEqual([2, 'ERR_SANDBOX_DATA']);
  });

  it('exits 2 naming the damaged part when a --data file holds malformed agents, contacts or attributes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chatid-sbcmd-'));
    const agent = (extra: object) => JSON.stringify({ version: 1, agents: [{ id: 'a1', ...extra }] });
    const cases: Array<[string, string]> = [
      [agent({ contacts: 5 }), 'agent "a1": contacts is not a list'],
      [agent({ contacts: [null] }), 'agent "a1": contact 1 is not an object with an external_id'],
      [agent({ contacts: [{ external_id: 'u1' }, { name: 'x' }] }), 'agent "a1": contact 2 is not an object with an external_id'],
      [agent({ contacts: [{ external_id: 7 }] }), 'agent "a1": contact 1 is not an object with an external_id'],
      [agent({ attributes: [7] }), 'agent "a1": attribute 1 is not an object with a name and a type (text, number, boolean or date)'],
      [agent({ attributes: [{ name: 'plan', type: 'color' }] }), 'agent "a1": attribute 1 is not an object with a name and a type (text, number, boolean or date)'],
      [agent({ conversations: {} }), 'agent "a1": conversations is not a list'],
    ];
    for (const [text, why] of cases) {
      await import('node:fs/promises').then((fs) => fs.writeFile(join(dir, 'x.json'), text));
      const r = await runCli(['sandbox', '--port', '0', '--json', '--data', 'x.json', '--agent-id', 'a1'], createTestCtx({ cwd: dir }));
      expect([text, r.exitCode, r.json().error.code, r.json().error.message]).toEqual([text, 2, 'ERR_SANDBOX_DATA', `Cannot load sandbox data from ${join(dir, 'x.json')}: ${why}`]);
    }
  });

  /** The built CLI's sandbox in a child process: its JSON document, stderr so far, and SIGINT → exit code. */
  async function builtSandbox(args: string[] = []) {
    const child = spawn(process.execPath, ['bin/chatid.js', 'sandbox', '--port', '0', '--json', ...args], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    for (let i = 0; i < 300 && !out.trim().endsWith('}'); i++) await new Promise((r) => setTimeout(r, 20));
    const doc = JSON.parse(out);
    const interrupt = () => {
      child.kill('SIGINT');
      return new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    };
    return { doc, stderr: () => err, interrupt };
  }

  it.runIf(existsSync(join(process.cwd(), 'dist')))('the built CLI stops cleanly on SIGINT with exit 0', async () => {
    const { doc, stderr, interrupt } = await builtSandbox();
    const res = await request(`${doc.url}/api/v2/health`);
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    const code = await interrupt();
    expect([code, stderr()]).toEqual([0, expect.stringContaining('Sandbox stopped')]);
  });

  it.runIf(existsSync(join(process.cwd(), 'dist')))('stops with exit 0 and at once on SIGINT while a request waits out --latency', async () => {
    const { doc, stderr, interrupt } = await builtSandbox(['--latency', '20s']);
    // More waiting requests than Node's default of 10 listeners per signal.
    const pending = Promise.all(
      Array.from({ length: 12 }, () =>
        request(`${doc.url}/api/v1/chatbots/${doc.agentId}/custom-attributes`, { headers: { authorization: `Bearer ${doc.apiKey}` } }).then(
          () => 'answered',
          () => 'cut off',
        ),
      ),
    ).then((all) => [...new Set(all)].join());
    await new Promise((r) => setTimeout(r, 300)); // the request is in its 20 s wait
    const code = await interrupt();
    // Before the fix the latency timer held the process until the 2 s fallback exited 130.
    expect(code).toBe(0);
    expect(await pending).toBe('cut off');
    expect(stderr()).not.toContain('MaxListenersExceededWarning');
  });
});
