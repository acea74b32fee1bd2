import { SingleBar } from 'cli-progress';
import type { Io } from '../../cli/context.js';
import { ago } from '../../core/jwt-time.js';

/** The shortest span the rate behind "time left" is measured over (see RateWindow). */
export const MIN_RATE_SPAN_MS = 10_000;
const BAR_WIDTH = 40;
const MIN_BAR_WIDTH = 10;

/**
 * Rows done over time, for the "time left" estimate. The rule, with W the rate-limit window
 * the client keeps (its --rate-limit, else the vendor's; at least {@link MIN_RATE_SPAN_MS}):
 *
 * - No estimate until the bar has run for one whole W.
 * - Then: rows left ÷ the rate since the bar started; once it has run for 4 W, the rate over
 *   the last 3 W.
 * - No row done in the last W: no estimate either ("stalled", e.g. a long Retry-After).
 *
 * Why: after a quiet spell the limiter lets a burst (half the limit) start at once, then
 * holds the next requests until the pace catches up, so that no W holds more than the limit.
 * A rate over less than W took the burst for speed: `--rate-limit 100/10s` showed "3s left"
 * for a sync that took a minute. Measured from the start over at least W, the burst and the
 * wait after it (W/2 at most) average out to the sustained rate. A span that starts inside
 * them would not: one starting just after the burst sees only the wait (a sliding W halved
 * the rate). So the sliding span starts no earlier than W after the start, and is 3 W long
 * to follow a rate that changes (a stricter server's 429 pauses, a slower network) within a
 * few windows while smoothing a later burst after a pause.
 */
export class RateWindow {
  /** W */
  readonly windowMs: number;
  private readonly startMs: number;
  /** (time, rows done) oldest first; the first one is the rows done at the span's start. */
  private readonly samples: Array<{ t: number; rows: number }>;
  private changedAt: number;

  constructor(o: { startMs: number; rows: number; windowMs: number | undefined }) {
    this.windowMs = Math.max(MIN_RATE_SPAN_MS, o.windowMs ?? 0);
    this.startMs = o.startMs;
    this.samples = [{ t: o.startMs, rows: o.rows }];
    this.changedAt = o.startMs;
  }

  add(t: number, rows: number): void {
    if (rows !== this.samples[this.samples.length - 1]!.rows) this.changedAt = t;
    this.samples.push({ t, rows });
    this.prune(t);
  }

  /** Seconds left (rounded up), 'estimating' before one W, 'stalled' if no row was done in the last W. */
  secondsLeft(now: number, total: number): number | 'estimating' | 'stalled' {
    if (now - this.startMs < this.windowMs) return 'estimating';
    if (now - this.changedAt >= this.windowMs) return 'stalled';
    const from = this.prune(now);
    const first = this.samples[0]!;
    const last = this.samples[this.samples.length - 1]!;
    const rate = (last.rows - first.rows) / (now - from);
    if (!(rate > 0)) return 'stalled';
    return Math.ceil(Math.max(0, total - last.rows) / rate / 1000);
  }

  /**
   * Drop samples before the span ending at `now`, keeping the last one at or before its start
   * (the rows done then); returns the span's start.
   */
  private prune(now: number): number {
    const from = now - 3 * this.windowMs >= this.startMs + this.windowMs ? now - 3 * this.windowMs : this.startMs;
    let drop = 0;
    while (drop + 1 < this.samples.length && this.samples[drop + 1]!.t <= from) drop++;
    if (drop > 0) this.samples.splice(0, drop);
    return from;
  }
}

/**
 * The bar's text for a terminal `columns` wide: at most `columns - 1` characters, so it never
 * wraps (a line that fills the last column leaves the cursor pending a wrap, which some
 * terminals carry out). Narrower terminals get a narrower bar, then no bar, then fewer
 * words; a number is never cut ("1200/500" would be a wrong total).
 */
export function barLine(o: { rows: number; total: number; left: string; columns: number }): string {
  const progress = o.total > 0 ? Math.min(1, o.rows / o.total) : 1;
  const pct = `${Math.floor(progress * 100)}%`;
  const text = `${pct} | ${o.rows}/${o.total} rows | ${o.left}`;
  const room = Math.max(1, o.columns - 1);
  const width = Math.min(BAR_WIDTH, room - 2 - text.length);
  if (width >= MIN_BAR_WIDTH) {
    const done = Math.round(progress * width);
    return ` ${'█'.repeat(done)}${'░'.repeat(width - done)} ${text}`;
  }
  const shorter = [text, `${pct} | ${o.rows}/${o.total} rows`, `${pct} | ${o.rows}/${o.total}`].find((t) => t.length <= room);
  return shorter ?? (pct.length <= room ? pct : ''); // '45%' cut to '4' would be a wrong number
}

/**
 * The `contacts sync` progress bar on stderr at a terminal, drawn by cli-progress: its
 * SingleBar redraws on its own schedule (10 a second, only when the text changed; so "time
 * left" also follows the clock during a wait), hides the cursor while it runs and clears the
 * line when stopped. The text is ours: `format` is a function returning {@link barLine} for
 * the current width, with the time left from {@link RateWindow} on the injected clock
 * (cli-progress's own `{eta}` reads Date.now() over its last 10 updates, which took the
 * limiter's burst for speed).
 *
 * Resizing must not leave pieces of an old bar. A terminal that reflows (tmux, VTE, iTerm2)
 * wraps the old, longer line over more rows when it narrows, with the cursor, which
 * cli-progress leaves at the line's end, on the last of them; its redraw (cursor to column 1,
 * the text, clear to the end of the row) then rewrote only that row. So after each draw
 * ('redraw-post') the cursor is parked back at the start of the bar and the rest of the
 * screen is erased (ESC[J): a reflow keeps a cursor at a line's start on that line's first
 * row, and a terminal that does not reflow keeps the one row; the next draw starts there and
 * ESC[J erases every row the old line wrapped to (nothing is printed below the bar while it
 * runs: a warning stops it first). A 'resize' redraws at once. The park also re-saves the
 * cursor (ESC 7): cli-progress saved it at start() and restores it before clearing the line
 * at stop(), and a reflow of the lines above may have moved the bar since. Rows a reflow
 * pushes above the top of the screen are out of reach.
 */
export class SyncBar {
  private readonly stream: Io['stderr'];
  private readonly bar: SingleBar;
  private readonly rates: RateWindow;
  private readonly now: () => number;
  private stopped = false;
  private readonly onResize = (): void => this.bar.render();

  /** `windowMs`: the rate-limit window the client keeps (RateWindow). */
  constructor(o: { stream: Io['stderr']; total: number; rows: number; now: () => number; windowMs: number | undefined }) {
    this.stream = o.stream;
    this.now = o.now;
    this.rates = new RateWindow({ startMs: o.now(), rows: o.rows, windowMs: o.windowMs });
    this.bar = new SingleBar({
      stream: o.stream,
      format: (_options, params) => this.line(params.value, params.total),
      hideCursor: true,
      clearOnComplete: true,
      // Line wrapping off while the bar runs (cli-progress's default; stop() turns it back on;
      // Ctrl-C aborts the sync, which stops the bar). Node learns of a resize from SIGWINCH,
      // after the terminal has reflowed: a frame drawn in between, at the old width, wrapped
      // at the new one and left the cursor, and so the next draw, rows below the bar's start.
      // Unwrapped, the extra text overwrites the row's last column and the next draw fixes it.
      linewrap: false,
      // Drawn on cli-progress's schedule only; its update()-time draw reads Date.now().
      synchronousUpdate: false,
    });
    this.bar.on('redraw-post', () => this.stream.write('\x1b[J\r\x1b7'));
    this.stream.on('resize', this.onResize);
    this.bar.start(o.total, o.rows);
  }

  update(rows: number): void {
    if (this.stopped) return;
    this.rates.add(this.now(), rows);
    this.bar.update(rows);
  }

  /** Erase the bar and show the cursor again; later updates are ignored. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stream.off('resize', this.onResize);
    this.bar.stop();
  }

  private line(rows: number, total: number): string {
    const s = this.rates.secondsLeft(this.now(), total);
    const left = s === 'estimating' ? 'estimating time left' : s === 'stalled' ? `no rows done in ${Math.round(this.rates.windowMs / 1000)}s` : `${ago(s)} left`;
    return barLine({ rows, total, left, columns: this.stream.columns || 80 });
  }
}
