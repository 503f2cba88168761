/**
 * How the engine reports progress: status lines, warnings, machine-readable events and progress
 * tasks. The CLI's `Logger` has this shape (it draws the bars); library callers may pass their own
 * or use {@link silentLog}.
 */

/** One long step (feature extraction, training, evaluation). */
export interface EngineProgress {
  /** `n` more items done; `fields` are shown beside the bar (e.g. `{ epoch: '3/10', loss }`). */
  tick(n?: number, fields?: Record<string, number | string>): void;
  /** Finish the task; returns its seconds. */
  done(): number;
}

/** The reporting channel of the engine. */
export interface EngineLog {
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  /** A machine-readable event (`epoch`, `features`, …). */
  event(event: string, data: Record<string, unknown>): void;
  progress(label: string, total: number, unit?: string): EngineProgress;
}

/** A log that reports nothing (progress tasks still time themselves). */
export const silentLog: EngineLog = {
  info() {},
  warn() {},
  event() {},
  progress() {
    const t0 = performance.now();
    return { tick() {}, done: () => (performance.now() - t0) / 1000 };
  },
};
