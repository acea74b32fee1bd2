// Helpers shared by the benchmark sections: process timing, statistics, machine facts.
// Nothing here asserts on time; bench/run.mjs prints figures and PASS/MISS, never fails a test.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { delimiter, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/**
 * The CLI under test: a snapshot of bin/ and dist/ taken at start, so others rebuilding dist/
 * during a long run cannot swap chunks under it. It lives in node_modules/.cache (ignored by
 * git, ESLint and vitest) so that dist's external packages still resolve from node_modules; a
 * package.json marks it ESM, since Node's package scope lookup stops at node_modules.
 */
export const CLI = snapshotCli();

function snapshotCli() {
  const dir = join(ROOT, 'node_modules', '.cache', 'chatid-bench', `cli-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'bin', 'chatid.js');
}
export const NODE = process.execPath;

/** @param {number[]} xs */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Integer from an environment variable, or the default. */
export function envInt(name, dflt) {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${v}`);
  return Math.round(n);
}

export function log(msg) {
  process.stderr.write(`[bench] ${msg}\n`);
}

/** Temp dirs to remove at exit (one listener for all of them). */
const tempDirs = [];
process.on('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A temp dir removed at exit. */
export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/**
 * The environment for a child: the bench's own minus NODE_EXTRA_CA_CERTS (as on a user's
 * machine) unless `ca` is true, plus `extra`.
 */
export function childEnv({ ca = false, extra = {} } = {}) {
  const env = { ...process.env, ...extra };
  if (!ca) delete env.NODE_EXTRA_CA_CERTS;
  // A TTY-less child never prompts or colours anyway; make it explicit.
  env.CI = 'true';
  delete env.FORCE_COLOR;
  return env;
}

/**
 * Wall time of one whole process in ms (spawnSync, so fork/exec cost is the same for every
 * command and its baseline). Throws when the exit status is not `expectCode`.
 */
export function timeProcess(cmd, args, { env, input, expectCode = 0 } = {}) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env, input, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  const ms = performance.now() - t0;
  if (r.error) throw r.error;
  if (r.status !== expectCode) {
    const err = new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}, expected ${expectCode}: ${String(r.stderr).slice(0, 400)}`);
    err.reason = reasonOf(String(r.stderr)) ?? `exit ${r.status ?? r.signal}`;
    throw err;
  }
  return { ms, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** The first `error:` line of a chatid stderr (or its first line), for "skipped: …" notes. */
export function reasonOf(stderr) {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  return (lines.find((l) => l.startsWith('error:')) ?? lines[0])?.slice(0, 200);
}

/**
 * Run a process to completion asynchronously with stdout to a file descriptor (e.g. /dev/null)
 * or captured ('pipe'), and stderr captured; returns wall ms, exit code and stderr. With `rss` true and GNU time
 * present, also the peak resident set size in MB of the process (VmHWM).
 */
export function runProcess(cmd, args, { env, cwd, stdout = 'ignore', stdin = 'ignore', rss = false, onSpawn } = {}) {
  return new Promise((resolve, reject) => {
    let file = cmd;
    let argv = args;
    let rssFile;
    if (rss && existsSync('/usr/bin/time')) {
      rssFile = join(tmpdir(), `chatid-bench-rss-${process.pid}-${Math.floor(performance.now())}`);
      file = '/usr/bin/time';
      argv = ['-f', '%M', '-o', rssFile, cmd, ...args];
    }
    const t0 = performance.now();
    const child = spawn(file, argv, { env, cwd, stdio: [stdin, stdout, 'pipe'] });
    let stderr = '';
    let out = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (d) => {
      out += d;
      if (out.length > 1 << 22) out = out.slice(-(1 << 21));
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.length > 1 << 20) stderr = stderr.slice(-(1 << 19));
    });
    let peak = 0;
    // Without GNU time, poll VmHWM (the kernel's own high-water mark) while it runs.
    const poll = rss && !rssFile
      ? setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) peak = Math.max(peak, Number(m[1]));
          } catch {
            // exited between polls
          }
        }, 20)
      : undefined;
    onSpawn?.(child);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const ms = performance.now() - t0;
      if (poll) clearInterval(poll);
      let rssMb;
      if (rssFile) {
        try {
          const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
          rssMb = Number(lines[lines.length - 1]) / 1024;
        } catch {
          rssMb = undefined;
        }
        rmSync(rssFile, { force: true });
      } else if (rss) {
        rssMb = peak / 1024;
      }
      // GNU time prints "Command exited with non-zero status" into -o file, and passes the code on.
      resolve({ ms, code: code ?? (signal ? 128 : 1), signal, stdout: out, stderr, rssMb });
    });
  });
}

/** Absolute path of an executable on PATH, or undefined. */
export function which(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** One line per fact about the machine and runtime, for the table's header. */
export function machineDescription() {
  const cpu = cpus();
  const model = cpu[0]?.model?.trim() ?? 'unknown CPU';
  const gib = (b) => `${(b / 2 ** 30).toFixed(1)} GiB`;
  const [l1, l5] = loadavg();
  let os = `${process.platform} ${process.arch}`;
  try {
    const pretty = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'));
    if (pretty) os = `${pretty[1]} (${process.arch})`;
  } catch {
    // not Linux
  }
  return {
    cpu: `${model}, ${cpu.length} logical cores`,
    memory: `${gib(totalmem())} total, ${gib(freemem())} free`,
    os,
    node: process.version,
    ca: process.env.NODE_EXTRA_CA_CERTS ? `NODE_EXTRA_CA_CERTS set in this shell (${process.env.NODE_EXTRA_CA_CERTS})` : 'NODE_EXTRA_CA_CERTS not set in this shell',
    nodeOptions: process.env.NODE_OPTIONS ? `NODE_OPTIONS=${process.env.NODE_OPTIONS}` : undefined,
    load: `load average ${l1.toFixed(2)} (1 min), ${l5.toFixed(2)} (5 min) at start`,
  };
}

export function loadNow() {
  return loadavg()[0];
}

/** 1234567.8 → "1 234 568" (thin groups, as in the issue). */
export function fmtInt(n) {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}
