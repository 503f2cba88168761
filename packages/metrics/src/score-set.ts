import { BucketedScores } from './bucketed-scores.js';
import { ChunkedUint32 } from './chunked-uint32.js';
import { keyFromBits, NON_FINITE_BITS } from './float-key.js';
import { badLabel, checkSameLength, nonFiniteScore, type LabelArray, type ScoreArray } from './input-checks.js';
import { KeyBuckets } from './key-buckets.js';
import { SortedArrays } from './sorted-arrays.js';
import type { ScoreSet } from './threshold-sweep.js';

/**
 * Collects float32 scores as sort keys, split by class, in chunked storage (4 bytes per normal
 * sample, 8 per anomalous sample when regions are kept). The caller validates and converts: hot
 * loops push keys directly into {@link negatives} / {@link positives} / {@link regions}.
 */
export class KeyCollector {
  readonly negatives = new ChunkedUint32();
  readonly positives = new ChunkedUint32();
  readonly regions: ChunkedUint32 | undefined;

  constructor(withRegions: boolean) {
    this.regions = withRegions ? new ChunkedUint32() : undefined;
  }

  /**
   * Groups the collected keys into buckets (see `key-buckets.ts`) and empties the collector.
   *
   * @param regionWeights - 1 / size of each region, when regions were collected
   */
  toScoreSet(regionWeights?: Float64Array): BucketedScores {
    const negatives = new KeyBuckets(this.negatives.take());
    const positives = new KeyBuckets(this.positives.take(), this.regions?.take());
    return new BucketedScores(negatives, positives, regionWeights);
  }
}

/**
 * Below this many scores the bucketed path's fixed cost (65536-entry bucket tables, ~ms) exceeds
 * a native sort; float32 values are exact in float64, so both paths give identical results.
 */
const BUCKETED_MIN = 1 << 16;

/**
 * Validates labels and scores and splits them by class into a {@link ScoreSet}. Large
 * Float32Array scores take the bucketed key path (fast at pixel scale, values exact); anything
 * else is read as float64 and sorted natively, so image scores keep their full precision.
 */
export function splitByClass(context: string, labels: LabelArray, scores: ScoreArray): ScoreSet {
  checkSameLength(context, labels, scores);
  return scores instanceof Float32Array && scores.length >= BUCKETED_MIN
    ? splitFloat32(context, labels, scores)
    : splitFloat64(context, labels, scores);
}

function splitFloat32(context: string, labels: LabelArray, scores: Float32Array): ScoreSet {
  const bits = new Uint32Array(scores.buffer, scores.byteOffset, scores.length);
  const collector = new KeyCollector(false);
  const neg = collector.negatives;
  const pos = collector.positives;
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i];
    if ((b & NON_FINITE_BITS) === NON_FINITE_BITS) throw nonFiniteScore(context, `at index ${i}`, scores[i]);
    const label = labels[i];
    if (label === 0) neg.push(keyFromBits(b));
    else if (label === 1) pos.push(keyFromBits(b));
    else throw badLabel(context, i, label);
  }
  return collector.toScoreSet();
}

function splitFloat64(context: string, labels: LabelArray, scores: ScoreArray): ScoreSet {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (label === 1) positives++;
    else if (label !== 0) throw badLabel(context, i, label);
    const s = scores[i];
    if (typeof s !== 'number' || !Number.isFinite(s)) throw nonFiniteScore(context, `at index ${i}`, s);
  }
  const neg = new Float64Array(labels.length - positives);
  const pos = new Float64Array(positives);
  let n = 0;
  let p = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 1) pos[p++] = scores[i];
    else neg[n++] = scores[i];
  }
  // Typed-array sort without a comparator is numeric; -0 and +0 compare equal in the sweep.
  neg.sort();
  pos.sort();
  return new SortedArrays(neg, pos);
}
