import { SingleBar } from 'cli-progress';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Capture } from '../../../test/helpers/test-ctx.js';
import { RateLimiter } from '../../vendors/http.js';
import { barLine, MIN_RATE_SPAN_MS, RateWindow, SyncBar } from './sync-bar.js';

/**
 * When each request of a sync completes, with the client's real limiter (its burst, then its
 * pace): `requests` requests of `rowsPer` rows, `concurrency` in flight, `latencyMs` each.
 */
function simulatedSync(o: { limit: number; windowMs: number; requests: number; rowsPer: number; concurrency: number; latencyMs: number }): Array<{ t: number; rows: number }> {
  const limiter = new RateLimiter({ limit: o.limit, windowMs: o.windowMs });
  const ends: number[] = [];
  let t = 0;
  for (let i = 0; i < o.requests; i++) {
    t = limiter.earliest(Math.max(t, ends[i - o.concurrency] ?? 0));
    limiter.record(t);
    ends.push(t + o.latencyMs);
  }
  return ends.sort((a, b) => a - b).map((end, i) => ({ t: end, rows: (i + 1) * o.rowsPer }));
}

describe('RateWindow: time left', () => {
  // The tester's case: a limit whose window lets a burst through at once, a few thousand rows.
  const sync = simulatedSync({ limit: 95, windowMs: 10_000, requests: 500, rowsPer: 10, concurrency: 4, latencyMs: 30 });
  const total = 5000;
  const end = sync[sync.length - 1]!.t;

  function estimates(windowMs: number | undefined): Array<{ t: number; left: ReturnType<RateWindow['secondsLeft']> }> {
    const w = new RateWindow({ startMs: 0, rows: 0, windowMs });
    const out: Array<{ t: number; left: ReturnType<RateWindow['secondsLeft']> }> = [];
    let i = 0;
    for (let t = 0; t < end; t += 250) {
      for (; i < sync.length && sync[i]!.t <= t; i++) w.add(sync[i]!.t, sync[i]!.rows);
      out.push({ t, left: w.secondsLeft(t, total) });
    }
    return out;
  }

  it('the simulated burst is real: a rate taken over its first second promises a few seconds for about a minute', () => {
    const firstSecond = sync.filter((s) => s.t <= 1000).length * 10;
    expect(firstSecond).toBeGreaterThan(400);
    expect(end).toBeGreaterThan(50_000);
    expect((total - firstSecond) / firstSecond).toBeLessThan(15); // seconds, at that rate
  });

  it('says nothing before one window, then stays within 10% (or 2 s) of the real time left', () => {
    const all = estimates(10_000);
    expect(all.filter((e) => e.t < 10_000).every((e) => e.left === 'estimating')).toBe(true);
    const after = all.filter((e) => e.t >= 10_000);
    expect(after.length).toBeGreaterThan(100);
    for (const e of after) {
      const truth = (end - e.t) / 1000;
      expect(typeof e.left, `at ${e.t} ms`).toBe('number');
      expect(Math.abs((e.left as number) - truth), `at ${e.t} ms: ${String(e.left)} s left, really ${truth} s`).toBeLessThanOrEqual(Math.max(2, truth * 0.1));
    }
  });

  it('waits for the longer window of --rate-limit, and for at least 10 s', () => {
    expect(new RateWindow({ startMs: 0, rows: 0, windowMs: 60_000 }).windowMs).toBe(60_000);
    expect(new RateWindow({ startMs: 0, rows: 0, windowMs: 1000 }).windowMs).toBe(MIN_RATE_SPAN_MS);
    expect(new RateWindow({ startMs: 0, rows: 0, windowMs: undefined }).windowMs).toBe(MIN_RATE_SPAN_MS);
    const w = new RateWindow({ startMs: 0, rows: 0, windowMs: 60_000 });
    w.add(30_000, 1000);
    expect(w.secondsLeft(59_999, 3000)).toBe('estimating');
    expect(w.secondsLeft(60_000, 3000)).toBe(120); // 1000 rows a minute, 2000 to go
  });

  it('counts only the rows done since the bar started (--resume starts it at the rows done before)', () => {
    const w = new RateWindow({ startMs: 5000, rows: 4000, windowMs: 10_000 });
    w.add(15_000, 4100);
    expect(w.secondsLeft(15_000, 5000)).toBe(90); // 100 rows in 10 s, 900 to go
  });

  it('measures over the last 3 windows once it has run longer, so a slower rate shows', () => {
    const w = new RateWindow({ startMs: 0, rows: 0, windowMs: 10_000 });
    for (let t = 1000; t <= 60_000; t += 1000) w.add(t, t < 30_000 ? t / 10 : 2900 + (t - 29_000) / 100); // 100 rows/s, then 10 rows/s
    // The last 30 s: 2910 → 3210 rows, 10 rows/s; since the start it would be 53.5 rows/s (127 s).
    expect(w.secondsLeft(60_000, 10_000)).toBe(679);
  });

  it('says "stalled" when no row was done in the last window (a long Retry-After), and resumes after', () => {
    const w = new RateWindow({ startMs: 0, rows: 0, windowMs: 10_000 });
    w.add(5000, 500);
    expect(w.secondsLeft(14_999, 1000)).toBe(Math.ceil(500 / (500 / 14_999) / 1000));
    expect(w.secondsLeft(15_000, 1000)).toBe('stalled');
    w.add(16_000, 600);
    expect(w.secondsLeft(16_000, 1000)).toBe(Math.ceil(400 / (600 / 16_000) / 1000));
  });
});

describe('barLine', () => {
  it('is the 40-wide bar and the numbers when they fit', () => {
    expect(barLine({ rows: 1250, total: 5000, left: '45s left', columns: 120 })).toBe(` ${'█'.repeat(10)}${'░'.repeat(30)} 25% | 1250/5000 rows | 45s left`);
  });

  it('never reaches the last column, at any width; narrows the bar, then drops it, then words, never cutting a number', () => {
    for (let columns = 1; columns <= 130; columns++) {
      const line = barLine({ rows: 1200, total: 5000, left: 'estimating time left', columns });
      expect(line.length, `${columns} columns: ${line}`).toBeLessThanOrEqual(Math.max(1, columns - 1));
      if (line.includes('/')) expect(line).toContain('1200/5000');
    }
    expect(barLine({ rows: 1200, total: 5000, left: '4s left', columns: 50 })).toBe(` ${'█'.repeat(4)}${'░'.repeat(13)} 24% | 1200/5000 rows | 4s left`);
    expect(barLine({ rows: 1200, total: 5000, left: '4s left', columns: 40 })).toBe('24% | 1200/5000 rows | 4s left');
    expect(barLine({ rows: 1200, total: 5000, left: '4s left', columns: 25 })).toBe('24% | 1200/5000 rows');
    expect(barLine({ rows: 1200, total: 5000, left: '4s left', columns: 16 })).toBe('24% | 1200/5000');
    expect(barLine({ rows: 1200, total: 5000, left: '4s left', columns: 10 })).toBe('24%');
    expect(barLine({ rows: 1200, total: 5000, left: '4s left', columns: 4 })).toBe('24%');
    expect(barLine({ rows: 1200, total: 5000, left: '4s left', columns: 3 })).toBe(''); // not '24'
  });
});

/**
 * A terminal that reflows on resize, as tmux, VTE and iTerm2 do: it keeps logical lines and
 * the cursor's place in its line, and wraps them again at the new width. It knows what
 * cli-progress and the bar write (text, \r, \n, ESC[1G, ESC[J, ESC[K, ESC[0K, ESC[2K, ESC 7 and
 * ESC 8, line wrapping off and on, cursor show/hide): with wrapping off, text past the end of a
 * row overwrites its last column. ESC 7 saves a screen position (row, column), as a terminal does,
 * so a reflow of the lines above makes ESC 8 land elsewhere.
 */
class ReflowingTerminal {
  lines = [''];
  y = 0;
  x = 0; // offset in the logical line
  /** The row's last column was just written: the cursor waits there for the next character. */
  pending = false;
  saved = { row: 0, column: 0 };
  wrap = true;
  private width: number;
  constructor(columns: number) {
    this.width = columns;
  }
  get columns(): number {
    return this.width;
  }
  set columns(c: number) {
    [this.width, this.pending] = [c, false];
  }
  write(s: string): void {
    // eslint-disable-next-line no-control-regex -- escape sequences are what it reads
    for (const [, esc, ch] of s.matchAll(/(\x1b\[[?\d]*[A-Za-z]|\x1b[78])|([\s\S])/g)) {
      const line = this.lines[this.y]!;
      const start = this.rowStart();
      if (esc === '\x1b[J') this.lines.splice(this.y, this.lines.length, line.slice(0, this.x));
      else if (esc === '\x1b[K' || esc === '\x1b[0K') this.lines[this.y] = line.slice(0, this.x) + line.slice(start + this.columns);
      else if (esc === '\x1b[2K') this.lines[this.y] = (line.slice(0, start) + ' '.repeat(Math.max(0, Math.min(this.columns, line.length - start))) + line.slice(start + this.columns)).trimEnd();
      else if (esc === '\x1b7') this.saved = { row: this.lines.slice(0, this.y).reduce((n, l) => n + inRows(l, this.columns).length, 0) + start / this.columns, column: this.x - start };
      else if (esc === '\x1b8') this.restore();
      else if (esc === '\x1b[?7l' || esc === '\x1b[?7h') this.wrap = esc === '\x1b[?7h';
      else if (esc === '\x1b[1G' || ch === '\r') [this.x, this.pending] = [start, false];
      else if (esc) continue;
      else if (ch === '\n') [this.y, this.x, this.pending] = [this.y + 1, 0, false];
      else {
        if (this.pending && !this.wrap) this.x--; // wrapping off: overwrite the row's last column
        this.lines[this.y] = line.padEnd(this.x).slice(0, this.x) + ch + line.slice(this.x + 1);
        this.x++;
        this.pending = this.x % this.columns === 0;
      }
      this.lines[this.y] ??= '';
    }
  }
  /** Offset of the first column of the row the cursor is on. */
  rowStart(): number {
    return this.pending ? this.x - this.columns : Math.floor(this.x / this.columns) * this.columns;
  }
  /** What the screen shows: each logical line in rows of `columns`. */
  rows(): string[] {
    return this.lines.flatMap((l) => inRows(l, this.columns));
  }
  private restore(): void {
    let row = this.saved.row;
    for (let y = 0; y < this.lines.length; y++) {
      const n = inRows(this.lines[y]!, this.columns).length;
      if (row < n || y === this.lines.length - 1) [this.y, this.x, this.pending] = [y, Math.min(row, n - 1) * this.columns + this.saved.column, false];
      if (row < n) return;
      row -= n;
    }
  }
}

function inRows(line: string, columns: number): string[] {
  return line.length ? (line.match(new RegExp(`.{1,${columns}}`, 'gsu')) ?? []) : [''];
}

/** A terminal stream `columns` wide whose writes reach `term` (and are kept in `text`). */
function terminalStream(term: ReflowingTerminal): Capture {
  const stream = new Capture(true);
  stream.columns = term.columns;
  stream.write = ((chunk: string) => {
    term.write(chunk);
    stream.text += chunk;
    return true;
  }) as Capture['write'];
  return stream;
}

describe('SyncBar at a terminal (drawn by cli-progress)', () => {
  // cli-progress draws on its own timer (every 100 ms) and reads Date.now(); the time left reads `now`.
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const frame = (): void => void vi.advanceTimersByTime(100);

  function setup(columns: number, lines = ['Started a local sandbox.']) {
    const term = new ReflowingTerminal(columns);
    for (const l of lines) term.write(`${l}\n`);
    const stream = terminalStream(term);
    let now = 0;
    const bar = new SyncBar({ stream, total: 5000, rows: 0, now: () => now, windowMs: undefined });
    return { term, stream, bar, at: (ms: number) => (now = ms), resize: (c: number) => ((term.columns = stream.columns = c), stream.emit('resize')) };
  }

  it('shows "estimating time left" for the first window, then a time left from the fake clock, and follows the clock without progress', () => {
    const { stream, bar, at } = setup(120);
    at(1000);
    bar.update(470); // the burst
    frame();
    expect(stream.text).toContain('470/5000 rows | estimating time left');
    expect(stream.text).not.toMatch(/\ds left/);
    at(10_000);
    bar.update(940);
    frame();
    expect(stream.text).toContain('940/5000 rows | 44s left'); // 94 rows/s, 4060 to go
    at(20_000); // a long Retry-After: no progress, only cli-progress's next frame
    frame();
    expect(stream.text).toContain('940/5000 rows | no rows done in 10s');
    bar.stop();
  });

  it('a narrower terminal leaves no piece of the old bar, wider again neither, and stop erases it all', () => {
    const { term, stream, bar, at, resize } = setup(120);
    at(1000);
    bar.update(1200);
    frame();
    expect(term.rows().filter((r) => r.includes('rows'))).toHaveLength(1);
    for (const columns of [50, 30, 90, 20, 120, 45, 15, 100]) {
      resize(columns); // redrawn at once, without waiting for a frame
      expect(term.rows(), `${columns} columns`).toEqual([...inRows('Started a local sandbox.', columns), barLine({ rows: 1200, total: 5000, left: 'estimating time left', columns })]);
    }
    bar.stop();
    expect(term.rows()).toEqual(['Started a local sandbox.', '']);
    expect(stream.text).toContain('\x1b[?25h'); // the cursor is shown again
    expect(stream.text.lastIndexOf('\x1b[?7h')).toBeGreaterThan(stream.text.lastIndexOf('\x1b[?7l')); // line wrapping is on again
  });

  it('a frame drawn after the terminal reflowed but before Node heard of it (SIGWINCH) leaves no piece either', () => {
    const { term, stream, bar, at } = setup(120);
    at(1000);
    bar.update(1200);
    frame();
    for (const [columns, rows] of [[45, 1300], [15, 1400], [100, 1500], [20, 1600]] as const) {
      term.columns = columns; // the terminal has reflowed; stream.columns is still the old width
      bar.update(rows);
      frame(); // drawn at the old width
      stream.columns = columns;
      stream.emit('resize');
      expect(term.rows(), `${columns} columns`).toEqual([...inRows('Started a local sandbox.', columns), barLine({ rows, total: 5000, left: 'estimating time left', columns })]);
    }
    bar.stop();
  });

  it('stop clears the bar where it is now, though the lines above it reflowed since the bar started', () => {
    const long = 'Started a local sandbox at http://127.0.0.1:43210 (agent agt_sandbox_0001).';
    const { term, bar, at, resize } = setup(120, [long]);
    at(1000);
    bar.update(1200);
    frame();
    resize(30); // the line above now takes 3 rows, so the bar moved 2 rows down
    bar.stop();
    expect(term.rows()).toEqual([...inRows(long, 30), '']);
  });

  it("cli-progress's own redraw (cursor left at the end of the bar, ESC[1G, clear to the end of the row) leaves a piece: what the terminal model catches", () => {
    const term = new ReflowingTerminal(120);
    const stream = terminalStream(term);
    const bar = new SingleBar({ stream, linewrap: null, format: () => barLine({ rows: 1200, total: 5000, left: '45s left', columns: stream.columns }) });
    bar.start(5000, 1200);
    term.columns = stream.columns = 50;
    bar.render();
    bar.stop();
    expect(term.rows().filter((r) => r.includes('█')).length).toBeGreaterThan(1);
  });

  it('ignores updates once stopped (a warning stops it) and stops listening for resizes', () => {
    const { stream, bar, at, resize } = setup(80);
    bar.stop();
    const text = stream.text;
    at(500);
    bar.update(100);
    resize(40);
    frame();
    expect(stream.text).toBe(text);
    expect(stream.listenerCount('resize')).toBe(0);
  });
});
