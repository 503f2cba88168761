import { describe, expect, it } from 'vitest';
import { scheduledLr } from './lr-schedule.js';

describe('scheduledLr', () => {
  it('constant without warm-up is the peak at every step (the paper)', () => {
    for (const step of [0, 1, 50, 99]) expect(scheduledLr('constant', 1e-4, step, 100)).toBe(1e-4);
  });

  it('warms up linearly, then decays along a cosine from the peak to nearly 0', () => {
    const peak = 1e-3;
    const total = 110;
    const warm = 10;
    expect(scheduledLr('cosine', peak, 0, total, warm)).toBeCloseTo(peak / 10, 12);
    expect(scheduledLr('cosine', peak, 4, total, warm)).toBeCloseTo(peak / 2, 12);
    expect(scheduledLr('cosine', peak, 9, total, warm)).toBeCloseTo(peak, 12);
    expect(scheduledLr('cosine', peak, 10, total, warm)).toBeCloseTo(peak, 12);
    // Halfway through the decay: cos(π/2) = 0, half the peak.
    expect(scheduledLr('cosine', peak, 60, total, warm)).toBeCloseTo(peak / 2, 12);
    expect(scheduledLr('cosine', peak, 35, total, warm)).toBeCloseTo(peak * 0.5 * (1 + Math.cos(Math.PI / 4)), 12);
    const last = scheduledLr('cosine', peak, total - 1, total, warm);
    expect(last).toBeGreaterThan(0);
    expect(last).toBeLessThan(peak * 1e-3);
    // Past the end (fewer epochs on resume): the last step's rate.
    expect(scheduledLr('cosine', peak, total + 5, total, warm)).toBe(last);
  });

  it('constant with warm-up rises, then holds the peak', () => {
    expect(scheduledLr('constant', 2e-4, 1, 50, 4)).toBeCloseTo(1e-4, 15);
    expect(scheduledLr('constant', 2e-4, 30, 50, 4)).toBe(2e-4);
  });
});
