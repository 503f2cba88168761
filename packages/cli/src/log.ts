import {
  JsonProgressRenderer,
  ProgressTask,
  TextProgressRenderer,
  silentRenderer,
  type TextSink,
} from './progress.js';

/**
 * How a command talks: `human` (text and progress bars on stderr, results on stdout), `json` (one
 * JSON object per line on stdout, nothing else), `quiet` (only results and errors).
 */
export type OutputMode = 'human' | 'json' | 'quiet';

/** The output channel every command writes through. */
export class Logger {
  constructor(
    readonly mode: OutputMode,
    private readonly out: TextSink = process.stdout,
    private readonly err: TextSink = process.stderr,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** A status line (hidden with --quiet; an `info` event with --json). */
  info(message: string, data: Record<string, unknown> = {}): void {
    if (this.mode === 'human') this.err.write(`${message}\n`);
    else if (this.mode === 'json') this.event('info', { message, ...data });
  }

  /** A warning (shown even with --quiet). */
  warn(message: string, data: Record<string, unknown> = {}): void {
    if (this.mode === 'json') this.event('warning', { message, ...data });
    else this.err.write(`warning: ${message}\n`);
  }

  /** An error line (always shown). */
  error(text: string, data: Record<string, unknown> = {}): void {
    if (this.mode === 'json') this.event('error', { message: text.split('\n')[0], detail: text, ...data });
    else this.err.write(`${text}\n`);
  }

  /**
   * A machine-readable event: a JSON line with --json, nothing otherwise. `event` names what
   * happened (`epoch`, `checkpoint`, `prediction`, …).
   */
  event(event: string, data: Record<string, unknown>): void {
    if (this.mode !== 'json') return;
    this.out.write(`${JSON.stringify({ event, time: this.now().toISOString(), ...data })}\n`);
  }

  /**
   * The command's result: `text` on stdout in human and quiet modes, a `result` event with `data`
   * in JSON mode.
   */
  result(text: string, data: Record<string, unknown>): void {
    if (this.mode === 'json') this.event('result', data);
    else this.out.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** A progress task for a long step of `total` items. */
  progress(label: string, total: number, unit = 'it'): ProgressTask {
    if (this.mode === 'json') return new ProgressTask(label, total, unit, new JsonProgressRenderer((e, d) => this.event(e, d)), 1000);
    if (this.mode === 'quiet') return new ProgressTask(label, total, unit, silentRenderer, Infinity);
    return new ProgressTask(label, total, unit, new TextProgressRenderer(this.err), this.err.isTTY ? 100 : 10_000);
  }
}
