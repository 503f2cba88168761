/**
 * Synthetic "backbone features" for training tests: normal images are smooth random fields that
 * share one structure (a fixed mix of low-frequency waves per channel, with small per-image phase
 * and amplitude variation); anomalous images add a strong local perturbation in a few tokens.
 */
import { Rng } from '../src/rng.js';
import type { FeatureLevelShape } from '../src/feature-source.js';
import type { RLRConfig, RLRSpec } from '../src/config.js';

/** The small two-level model the trainer and worker-pool tests train (fast on one core). */
export const tinySpec: RLRSpec = {
  imageSize: [32, 32],
  levels: [
    { grid: [8, 8], channels: 12 },
    { grid: [4, 4], channels: 16 },
  ],
};
export const tinyConfig: Partial<RLRConfig> = { d: [32, 32], heads: 4, layers: 1, window: [3, 3], seed: 7 };
export const tinyLevels: FeatureLevelShape[] = tinySpec.levels.map((l) => ({ grid: l.grid, channels: l.channels }));

export interface SyntheticSet {
  levels: FeatureLevelShape[];
  /** Per level [n, h, w, C]. */
  features: Float32Array[];
  labels: number[];
}

const WAVES = 3;

export function syntheticFeatures(levels: FeatureLevelShape[], count: number, anomalous: boolean[], seed: number): SyntheticSet {
  // The shared structure: per level, channel and wave a frequency vector, phase and weight.
  const structure = new Rng(12345);
  const waves = levels.map((l) =>
    Array.from({ length: l.channels * WAVES }, () => ({
      fy: structure.uniform() * 0.6,
      fx: structure.uniform() * 0.6,
      phase: structure.uniform() * 2 * Math.PI,
      weight: 0.5 + structure.uniform(),
    })),
  );
  const rng = new Rng(seed);
  const features = levels.map((l) => new Float32Array(count * l.grid[0] * l.grid[1] * l.channels));
  for (let k = 0; k < count; k++) {
    const shift = rng.normal() * 0.15;
    const gain = 1 + rng.normal() * 0.05;
    // Anomaly: a square of side ~1/4 of the grid at a random place (in relative coordinates).
    const ay = rng.uniform() * 0.6 + 0.1;
    const ax = rng.uniform() * 0.6 + 0.1;
    levels.forEach((l, li) => {
      const [h, w] = l.grid;
      const C = l.channels;
      const bump = Array.from({ length: C }, () => rng.normal() * 2.5);
      const base = k * h * w * C;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const inside = anomalous[k] && y / h >= ay && y / h < ay + 0.25 && x / w >= ax && x / w < ax + 0.25;
          for (let c = 0; c < C; c++) {
            let v = 0;
            for (let j = 0; j < WAVES; j++) {
              const wv = waves[li][c * WAVES + j];
              v += wv.weight * Math.sin(wv.fy * y * (16 / h) + wv.fx * x * (16 / w) + wv.phase + shift);
            }
            v = gain * v + 0.05 * rng.normal();
            if (inside) v += bump[c];
            features[li][base + (y * w + x) * C + c] = v;
          }
        }
      }
    });
  }
  return { levels, features, labels: anomalous.map((a) => (a ? 1 : 0)) };
}

/** AUROC of scores for binary labels (ties count half). */
export function auroc(scores: ArrayLike<number>, labels: number[]): number {
  let pos = 0;
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j] !== 0) continue;
      total++;
      if (scores[i] > scores[j]) pos += 1;
      else if (scores[i] === scores[j]) pos += 0.5;
    }
  }
  return pos / total;
}
