// Crash safety through the real CLI (issue 6): many `chatid profile add` processes at once,
// some SIGKILLed mid-flight. Every add that exited 0 must be in the store afterwards, and
// the store must always parse and validate.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import { validateStoreData } from '../../src/store/validate.js';
import { describeBuilt, spawnCli } from '../corpus/harness.js';

const tmp = mkdtempSync(join(tmpdir(), 'chatid-crash-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Small seeded PRNG so the kill schedule is the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describeBuilt('crash safety: the real CLI (profile add) under SIGKILL', () => {
  it('keeps every profile whose `chatid profile add` exited 0, with processes killed around it', async () => {
    const dir = join(tmp, 'cli-store');
    const rand = mulberry32(7);
    const committed: string[] = [];
    for (let round = 0; round < 4; round++) {
      const runs: Array<Promise<void>> = [];
      const kills: Array<Promise<unknown>> = [];
      for (let j = 0; j < 6; j++) {
        const name = `c${round}x${j}`;
        let pid = -1;
        const p = spawnCli(['profile', 'add', name, '--provider', 'generic', '--no-input', '--json'], {
          env: { CHATID_CONFIG_DIR: dir },
          onSpawn: (x) => (pid = x),
        }).then((res) => {
          if (res.exitCode === 0) committed.push(name);
          else if (res.signal !== 'SIGKILL') throw new Error(`profile add ${name} failed: ${res.exitCode}\n${res.stdout}\n${res.stderr}`);
        });
        runs.push(p);
        if (j % 2 === 1) {
          kills.push(
            delay(50 + Math.floor(rand() * 250)).then(() => {
              try {
                process.kill(pid, 'SIGKILL');
              } catch {
                /* already gone */
              }
            }),
          );
        }
      }
      await Promise.all([...runs, ...kills]);
      if (existsSync(join(dir, 'config.json'))) {
        const text = readFileSync(join(dir, 'config.json'), 'utf8');
        const data = validateStoreData(JSON.parse(text), 'config.json');
        expect(committed.filter((n) => !(n in data.profiles)), `round ${round}: profiles reported added but missing`).toEqual([]);
      }
      rmSync(join(dir, 'config.json.lock'), { recursive: true, force: true });
    }
    expect(committed.length).toBeGreaterThanOrEqual(12);
  }, 60_000);
});
