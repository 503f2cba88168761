import type * as tf from '@tensorflow/tfjs-core';
import { checkLevelShapes, levelElements, type FeatureLevelShape, type FeatureSource } from './feature-source.js';

/**
 * Training features held in memory: per level one growable Float32Array of all images' smoothed
 * maps, [N, h, w, C]. Fill it with {@link append} (e.g. batch by batch from a backbone) and hand
 * it to `Trainer.fit`.
 */
export class FeatureBank implements FeatureSource {
  readonly levels: FeatureLevelShape[];
  private data: Float32Array[];
  private count = 0;

  constructor(levels: FeatureLevelShape[], initialCapacity = 16) {
    if (!levels.length) throw new Error('FeatureBank: give at least one level');
    this.levels = levels.map((l) => ({ grid: [l.grid[0], l.grid[1]], channels: l.channels }));
    this.data = this.levels.map((l) => new Float32Array(Math.max(1, initialCapacity) * levelElements(l)));
  }

  /** A bank over existing arrays (one [N, h, w, C] array per level; not copied). */
  static fromArrays(levels: FeatureLevelShape[], arrays: Float32Array[]): FeatureBank {
    if (arrays.length !== levels.length) throw new Error(`FeatureBank.fromArrays: ${arrays.length} arrays for ${levels.length} levels`);
    const n = arrays[0].length / levelElements(levels[0]);
    arrays.forEach((a, i) => {
      if (a.length !== n * levelElements(levels[i])) {
        throw new Error(`FeatureBank.fromArrays: level ${i} holds ${a.length} values, not ${n} maps of ${levelElements(levels[i])}`);
      }
    });
    const bank = new FeatureBank(levels, 1);
    bank.data = arrays;
    bank.count = n;
    return bank;
  }

  get size(): number {
    return this.count;
  }

  /** The filled part of level `i`: [size, h, w, C]. */
  level(i: number): Float32Array {
    return this.data[i].subarray(0, this.count * levelElements(this.levels[i]));
  }

  /**
   * Append a batch of maps, one [B, h, w, C] per level (tensors are read, not disposed).
   */
  async append(levelFeatures: (tf.Tensor | Float32Array)[]): Promise<void> {
    if (levelFeatures.length !== this.levels.length) {
      throw new Error(`FeatureBank.append: got ${levelFeatures.length} maps, the bank has ${this.levels.length} levels`);
    }
    const arrays: Float32Array[] = [];
    for (let i = 0; i < levelFeatures.length; i++) {
      const f = levelFeatures[i];
      if (f instanceof Float32Array) arrays.push(f);
      else {
        const [, h, w, c] = f.shape;
        checkLevelShapes([{ grid: [h, w], channels: c }], [this.levels[i]], `FeatureBank.append level ${i}`);
        arrays.push((await f.data()) as Float32Array);
      }
    }
    const per = levelElements(this.levels[0]);
    const b = arrays[0].length / per;
    arrays.forEach((a, i) => {
      if (!Number.isInteger(b) || a.length !== b * levelElements(this.levels[i])) {
        throw new Error(`FeatureBank.append: level ${i} holds ${a.length} values, not ${b} maps of ${levelElements(this.levels[i])}`);
      }
    });
    for (let i = 0; i < arrays.length; i++) {
      const need = (this.count + b) * levelElements(this.levels[i]);
      if (need > this.data[i].length) {
        const grown = new Float32Array(Math.max(need, this.data[i].length * 2));
        grown.set(this.level(i));
        this.data[i] = grown;
      }
      this.data[i].set(arrays[i], this.count * levelElements(this.levels[i]));
    }
    this.count += b;
  }

  async read(indices: ArrayLike<number>): Promise<Float32Array[]> {
    return this.levels.map((l, i) => {
      const per = levelElements(l);
      const out = new Float32Array(indices.length * per);
      for (let j = 0; j < indices.length; j++) {
        const k = indices[j];
        if (!(k >= 0 && k < this.count)) throw new Error(`FeatureBank.read: index ${k} is outside 0..${this.count - 1}`);
        out.set(this.data[i].subarray(k * per, (k + 1) * per), j * per);
      }
      return out;
    });
  }
}
