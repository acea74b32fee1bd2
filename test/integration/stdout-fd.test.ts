// stdout without a stream (src/cli/real-context.ts fdOutput), in real processes of the
// shipped build: a pipe closed early, a slow reader, and a non-blocking pipe that is full when
// chatid writes. What must hold: the output is complete and in order, and a closed pipe ends
// chatid quietly with status 0, as it did when every write went through process.stdout.
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCliBundle, removeCliBundle } from './store-bundle.js';

const SECRET = 'stdout-test-secret-0123456789abcdef-0123456789';
const hmac = (id: string): string => createHmac('sha256', SECRET).update(id).digest('hex');
const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `user_${String(i + 1).padStart(7, '0')}`);

let bin: string | undefined;
let dir = '';
let env: Record<string, string>;
beforeAll(async () => {
  bin = await buildCliBundle();
  dir = mkdtempSync(join(tmpdir(), 'chatid-stdout-'));
  const { CI: _ci, NODE_EXTRA_CA_CERTS: _ca, ...base } = process.env as Record<string, string>;
  env = { ...base, NO_COLOR: '1', CHATID_SECRET: SECRET, CHATID_PROVIDER: 'chatbase', CHATID_CONFIG_DIR: join(dir, 'config'), BIN: bin, NODE: process.execPath };
}, 60_000);
// Every test waits for the processes it starts.
afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  await removeCliBundle(bin);
});

/** Run a bash script (chatid is `"$NODE" "$BIN"`) in the test's directory. */
function bash(script: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', script], { cwd: dir, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('stdout written with writeSync (real processes)', () => {
  it('`hash --batch big | head -1`: first hash, then a quiet exit 0 when head closes the pipe', () => {
    // 300 000 hashes (19.5 MB): far more than the pipe holds when head exits.
    writeFileSync(join(dir, 'big.txt'), `${ids(300_000).join('\n')}\n`);
    const r = bash('"$NODE" "$BIN" hash --batch big.txt 2>err.txt | head -1; echo "status=${PIPESTATUS[0]}"; cat err.txt');
    expect(r.stdout).toBe(`${hmac('user_0000001')}\nstatus=0\n`);
    expect(r.stderr).toBe('');
  });

  it('a short output into a pipe already closed (or closing): exit 0, nothing on stderr', () => {
    const r = bash('for i in 1 2 3 4 5; do "$NODE" "$BIN" hash user_123 2>>err.txt | true; echo "${PIPESTATUS[0]}"; done; cat err.txt');
    expect(r.stdout).toBe('0\n0\n0\n0\n0\n');
  });

  it('stdout on a full disk (/dev/full): one error line with a next step and exit 1, no stack trace', () => {
    writeFileSync(join(dir, 'many.txt'), `${ids(20_000).join('\n')}\n`);
    // --version answers in src/bin.ts before the CLI loads: the same line, from there.
    for (const args of ['--version', 'hash --help', 'hash user_123', 'hash user_123 --json', 'hash --batch many.txt', 'token sign user_123 --json']) {
      const r = bash(`"$NODE" "$BIN" ${args} >/dev/full; echo "status=$?"`);
      expect(r.stdout, args).toBe('status=1\n');
      expect(r.stderr, args).toBe(
        'error: Cannot write the output to stdout (ENOSPC: no space left on device); what it holds is incomplete. (ERR_OUTPUT_WRITE)\n' +
          'hint: Free space where stdout goes (or send it elsewhere) and run the command again.\n',
      );
    }
  });

  it('stderr that cannot be written (a full disk, a closed pipe): the result still comes out, exit 0', () => {
    // --secret in argv makes chatid warn on stderr before it prints the hash.
    for (const redirect of ['2>/dev/full >out.txt', '2>&1 >out.txt | true']) {
      const r = bash(`rm -f out.txt; "$NODE" "$BIN" hash user_123 --secret "$CHATID_SECRET" ${redirect}; echo "status=\${PIPESTATUS[0]}"; cat out.txt`);
      expect(r.stdout, redirect).toBe(`status=0\n${hmac('user_123')}\n`);
    }
  });

  it('a slow reader gets every line, in order, across the switch from writeSync to the stream', async () => {
    const list = ids(20_000); // 1.3 MB: the first 64 KiB synchronously, the rest through the stream
    writeFileSync(join(dir, 'ids.txt'), `${list.join('\n')}\n`);
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [bin!, 'hash', '--batch', 'ids.txt'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const chunks: Buffer[] = [];
      let stderr = '';
      // Read a chunk, then stop reading for 20 ms (the first 30 times): chatid finds the pipe full.
      let pauses = 30;
      child.stdout.on('data', (c: Buffer) => {
        chunks.push(c);
        if (pauses-- > 0) {
          child.stdout.pause();
          setTimeout(() => child.stdout.resume(), 20);
        }
      });
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout: Buffer.concat(chunks).toString('utf8'), stderr }));
    });
    expect(out.stderr).toBe('hashed 20000 user ids\n');
    expect(out.code).toBe(0);
    expect(out.stdout === `${list.map(hmac).join('\n')}\n`).toBe(true);
  });

  it('a non-blocking pipe that is full (EAGAIN): the output waits in the stream and arrives whole, after what was there', () => {
    // A sibling process sets O_NONBLOCK on the shared pipe (Node does, creating process.stdout
    // on a pipe) and fills it; it says how many bytes it wrote, and holds the pipe open while
    // chatid runs. The reader starts only after chatid has tried to write.
    const filler = [
      "const fs = require('node:fs');",
      'void process.stdout;',
      'let n = 0;',
      "try { for (;;) n += fs.writeSync(1, Buffer.alloc(4096, 'x')); } catch (e) { if (e.code !== 'EAGAIN') throw e; }",
      "fs.writeFileSync('filled.txt', String(n));",
      'setTimeout(() => {}, 3000);',
    ].join('\n');
    writeFileSync(join(dir, 'filler.cjs'), filler);
    const r = bash(
      [
        'rm -f filled.txt chatid.status',
        '{',
        '  "$NODE" filler.cjs &',
        '  while [ ! -s filled.txt ]; do sleep 0.05; done',
        '  "$NODE" "$BIN" hash user_123 2>chatid.err; echo $? > chatid.status',
        '  wait',
        '} | { sleep 1; cat; }',
      ].join('\n'),
    );
    expect(r.status).toBe(0);
    const filled = Number(readFileSync(join(dir, 'filled.txt'), 'utf8'));
    expect(filled).toBeGreaterThan(0);
    expect(r.stdout.length).toBe(filled + 65);
    expect(r.stdout.slice(0, filled)).toBe('x'.repeat(filled));
    expect(r.stdout.slice(filled)).toBe(`${hmac('user_123')}\n`);
    expect(readFileSync(join(dir, 'chatid.status'), 'utf8')).toBe('0\n');
    expect(readFileSync(join(dir, 'chatid.err'), 'utf8')).toBe('');
  });
});
