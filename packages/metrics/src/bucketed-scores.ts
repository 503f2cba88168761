import { floatFromKey } from './float-key.js';
import { BucketScratch, RunBuffer, type KeyBuckets } from './key-buckets.js';
import type { ScoreSet, ThresholdVisitor } from './threshold-sweep.js';

/**
 * A score set of float32 keys grouped into buckets by class (see `key-buckets.ts`): the path for
 * pixel maps and large Float32Array score sets. Anomalous keys may carry their ground-truth region,
 * whose weight 1 / size feeds the per-region overlap of AU-PRO.
 */
export class BucketedScores implements ScoreSet {
  /**
   * @param negativeKeys - keys of the normal samples
   * @param positiveKeys - keys of the anomalous samples, tagged with their region when
   *   `regionWeights` is given
   * @param regionWeights - 1 / pixel count of each region
   */
  constructor(
    private readonly negativeKeys: KeyBuckets,
    private readonly positiveKeys: KeyBuckets,
    private readonly regionWeights?: Float64Array,
  ) {}

  get negatives(): number {
    return this.negativeKeys.size;
  }

  get positives(): number {
    return this.positiveKeys.size;
  }

  /**
   * Walks the buckets from the highest, merging the two classes' runs of each bucket (both
   * descending). O(n) plus a few 64k-entry tables; allocates nothing per sample.
   */
  sweep(visitor: ThresholdVisitor): void {
    const neg = this.negativeKeys;
    const pos = this.positiveKeys;
    const weights = this.regionWeights;
    const negRuns = new RunBuffer(neg.largestBucket);
    const posRuns = new RunBuffer(pos.largestBucket);
    const scratch = new BucketScratch();
    let fp = 0;
    let tp = 0;
    let overlap = 0;
    for (let high = 0xffff; high >= 0; high--) {
      if (neg.isEmpty(high) && pos.isEmpty(high)) continue;
      neg.readRuns(high, negRuns, scratch);
      pos.readRuns(high, posRuns, scratch, weights);
      const nn = negRuns.length;
      const pn = posRuns.length;
      const base = high * 65536;
      let i = 0;
      let j = 0;
      while (i < nn || j < pn) {
        // Runs are distinct and descending within each class: take the larger low half.
        const low = j >= pn || (i < nn && negRuns.low[i] >= posRuns.low[j]) ? negRuns.low[i] : posRuns.low[j];
        if (i < nn && negRuns.low[i] === low) fp += negRuns.count[i++];
        if (j < pn && posRuns.low[j] === low) {
          tp += posRuns.count[j];
          if (weights) overlap += posRuns.weight[j];
          j++;
        }
        visitor.visit(fp, tp, overlap, floatFromKey(base + low));
      }
    }
  }
}
