// Ctrl-C (SIGINT) while `chatid chat` streams an answer: a cancellation (exit 130), not a
// broken connection (exit 1), and the partial answer on stdout ends its line.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCliBundle, removeCliBundle } from './store-bundle.js';

let bin: string;
let server: Server;
let base: string;
beforeAll(async () => {
  bin = await buildCliBundle();
  // An answer that never ends by itself: a word every 50 ms until the client goes away.
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ type: 'start', messageId: 'm1' })}\n\n`);
      let i = 0;
      const t = setInterval(() => res.write(`data: ${JSON.stringify({ type: 'text-delta', id: 't', delta: `word${i++} ` })}\n\n`), 50);
      res.on('close', () => clearInterval(t));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await removeCliBundle(bin);
});

describe('chat interrupted mid-stream', () => {
  it('SIGINT after the first words: exit 130, "Cancelled.", the partial line ended', async () => {
    const { CI: _ci, ...env } = process.env;
    const child = spawn(process.execPath, [bin, 'chat', 'hi', '--user-id', 'u1'], {
      env: { ...env, NO_COLOR: '1', CHATID_CONFIG_DIR: '/nonexistent-chatid-test', CHATID_PROVIDER: 'chatbase', CHATID_BASE_URL: base, CHATID_API_KEY: 'k_test', CHATID_AGENT_ID: 'bot1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    await new Promise<void>((r) =>
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString('utf8');
        if (stdout.includes('word2 ')) r();
      }),
    );
    child.kill('SIGINT');
    expect(await closed).toBe(130);
    expect(stderr).toMatch(/^Cancelled\./m);
    expect(stderr).not.toContain('ERR_NETWORK');
    expect(stdout).toMatch(/^word0 word1 word2 .*\n$/s);
  });
});
