// Runs the chatid sandbox (bundled from src/sandbox by bench/sync.mjs) in its own process, so
// the server's work is not counted in the client's figures. Talks to the parent over IPC:
// sends {ready,url,…}; answers {cmd:'stats'} with the contacts writes it saw; {cmd:'close'} ends it.
const [bundle, optionsJson] = process.argv.slice(2);
const { startSandbox, SANDBOX_API_KEY } = await import(bundle);
const sb = await startSandbox({ port: 0, ...JSON.parse(optionsJson) });
process.send({ ready: true, url: sb.url, agentId: sb.agentIds[0], apiKey: sb.apiKeys[0] ?? SANDBOX_API_KEY });
process.on('message', async (m) => {
  if (m.cmd === 'stats') {
    const statuses = {};
    const writes = [];
    for (const r of sb.requests) {
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      if (r.method === 'POST' && /\/contacts$/.test(r.path)) writes.push([r.at, r.status, r.items ?? 0]);
    }
    sb.requests.length = 0;
    process.send({ stats: { statuses, writes } });
  } else if (m.cmd === 'close') {
    await sb.close();
    process.exit(0);
  }
});
