import { formatDuration, formatRate } from './format.js';

/** A text sink with an optional TTY flag (process.stderr, or a test double). */
export interface TextSink {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Extra values shown after the bar (e.g. `loss`). */
export type ProgressFields = Record<string, number | string>;

/** How a progress task reports; one renderer per output mode. */
export interface ProgressRenderer {
  update(state: ProgressState, final: boolean): void;
}

/** A snapshot of one long step. */
export interface ProgressState {
  label: string;
  unit: string;
  done: number;
  total: number;
  elapsedS: number;
  /** Items per second, averaged over the task so far. */
  rate: number;
  /** Seconds left at the current rate (NaN before the first item). */
  etaS: number;
  fields: ProgressFields;
}

/**
 * One long step (feature extraction, an epoch, evaluation): call {@link tick} per item (or batch)
 * and {@link done} at the end. Rendering is throttled so ticking per image costs nothing.
 */
export class ProgressTask {
  private doneCount = 0;
  private readonly start: number;
  private lastRender = 0;
  private fields: ProgressFields = {};
  private finished = false;

  constructor(
    readonly label: string,
    readonly total: number,
    readonly unit: string,
    private readonly renderer: ProgressRenderer,
    private readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.start = now();
  }

  /** Advance by `n` items and merge `fields` into the displayed values. */
  tick(n = 1, fields?: ProgressFields): void {
    this.doneCount += n;
    if (fields) this.fields = { ...this.fields, ...fields };
    const t = this.now();
    if (t - this.lastRender >= this.intervalMs) {
      this.lastRender = t;
      this.renderer.update(this.state(), false);
    }
  }

  /** Finish the task (idempotent); returns its elapsed seconds. */
  done(fields?: ProgressFields): number {
    if (fields) this.fields = { ...this.fields, ...fields };
    const s = this.state();
    if (!this.finished) {
      this.finished = true;
      this.renderer.update(s, true);
    }
    return s.elapsedS;
  }

  /** The current snapshot. */
  state(): ProgressState {
    const elapsedS = (this.now() - this.start) / 1000;
    const rate = elapsedS > 0 ? this.doneCount / elapsedS : NaN;
    const etaS = this.doneCount > 0 && rate > 0 ? Math.max(0, this.total - this.doneCount) / rate : NaN;
    return { label: this.label, unit: this.unit, done: this.doneCount, total: this.total, elapsedS, rate, etaS, fields: { ...this.fields } };
  }
}

function fieldText(fields: ProgressFields): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? (Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4)) : v}`)
    .join('  ');
}

/** The one-line text of a progress state, as drawn on a terminal. */
export function progressLine(s: ProgressState, width: number, final: boolean): string {
  const frac = s.total > 0 ? Math.min(1, s.done / s.total) : 0;
  const pct = `${Math.floor(frac * 100)}%`.padStart(4);
  const count = `${s.done}/${s.total}`;
  const rate = `${formatRate(s.rate)} ${s.unit}/s`;
  const time = final ? `in ${formatDuration(s.elapsedS)}` : `ETA ${formatDuration(s.etaS)}`;
  const tail = [pct, count, rate, time, fieldText(s.fields)].filter(Boolean).join('  ');
  const barWidth = Math.max(10, Math.min(30, width - s.label.length - tail.length - 6));
  const filled = Math.round(frac * barWidth);
  return `${s.label} [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${tail}`;
}

/** Redraws one line in place on a terminal; prints whole lines (throttled by the task) otherwise. */
export class TextProgressRenderer implements ProgressRenderer {
  constructor(private readonly sink: TextSink) {}

  update(s: ProgressState, final: boolean): void {
    const width = this.sink.columns ?? 100;
    const line = progressLine(s, width, final);
    if (this.sink.isTTY) {
      // \r + clear-to-end-of-line keeps the bar on one row; the final state gets its newline.
      this.sink.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    } else {
      // Logs and pipes: whole lines, as often as the task's interval allows.
      this.sink.write(`${line}\n`);
    }
  }
}

/** Emits `{"event":"progress",…}` JSON lines. */
export class JsonProgressRenderer implements ProgressRenderer {
  constructor(private readonly emit: (event: string, data: Record<string, unknown>) => void) {}

  update(s: ProgressState, final: boolean): void {
    this.emit('progress', {
      task: s.label,
      done: s.done,
      total: s.total,
      unit: s.unit,
      rate: Number.isFinite(s.rate) ? round(s.rate) : null,
      elapsed_s: round(s.elapsedS),
      eta_s: Number.isFinite(s.etaS) ? round(s.etaS) : null,
      final,
      ...s.fields,
    });
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Draws nothing (`--quiet`). */
export const silentRenderer: ProgressRenderer = { update() {} };
