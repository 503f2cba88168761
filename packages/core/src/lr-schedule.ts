/** How the learning rate moves over training (see {@link scheduledLr}). */
export type LrScheduleKind = 'constant' | 'cosine';

/** The learning-rate schedule kinds, for validating user input. */
export const LR_SCHEDULES: readonly LrScheduleKind[] = ['constant', 'cosine'];

/**
 * Learning rate of optimizer step `step` (0-based) out of `totalSteps`, with peak `peak`:
 * - during the first `warmupSteps` steps it rises linearly, `peak · (step + 1) / warmupSteps`;
 * - then `constant` keeps `peak`, and `cosine` decays as
 *   `peak · ½ (1 + cos(π · (step − warmupSteps) / (totalSteps − warmupSteps)))`, from `peak` at
 *   the first step after the warm-up to nearly 0 at the last step.
 * `constant` without warm-up returns `peak` for every step (the paper's recipe). Steps past
 * `totalSteps` (a run resumed with fewer epochs) get the last step's rate.
 */
export function scheduledLr(kind: LrScheduleKind, peak: number, step: number, totalSteps: number, warmupSteps = 0): number {
  const t = Math.min(Math.max(0, step), Math.max(0, totalSteps - 1));
  if (warmupSteps > 0 && t < warmupSteps) return (peak * (t + 1)) / warmupSteps;
  if (kind === 'constant') return peak;
  const span = totalSteps - warmupSteps;
  if (span <= 0) return peak;
  return peak * 0.5 * (1 + Math.cos((Math.PI * (t - warmupSteps)) / span));
}
