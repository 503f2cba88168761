import { ChunkedUint32 } from './chunked-uint32.js';
import { keyFromBits, keysToFloats, NON_FINITE_BITS } from './float-key.js';
import { badLabel, checkSameLength, nonFiniteScore, type LabelArray, type ScoreArray } from './input-checks.js';
import { radixSortChunks } from './radix-sort.js';

/**
 * The scores of an evaluation set split by class and sorted ascending: everything a threshold
 * sweep needs, with no per-sample objects. For pixel sets each anomalous score also carries the
 * ground-truth region it belongs to (for AU-PRO).
 */
export interface SortedScores {
  /** Scores of the normal samples (label 0), ascending. */
  negatives: Float32Array | Float64Array;
  /** Scores of the anomalous samples (label 1), ascending. */
  positives: Float32Array | Float64Array;
  /** Region index of each entry of `positives` (same order), when regions were collected. */
  positiveRegions?: Uint32Array;
  /** 1 / pixel count of each region, indexed by region index. */
  regionWeights?: Float64Array;
}

/**
 * Collects float32 scores as sort keys, split by class, in chunked storage (4 bytes per normal
 * sample, 8 per anomalous sample when regions are kept). The caller validates and converts: hot
 * loops push keys directly into {@link negatives} / {@link positives}.
 */
export class KeyCollector {
  readonly negatives = new ChunkedUint32();
  readonly positives = new ChunkedUint32();
  readonly regions: ChunkedUint32 | undefined;

  constructor(withRegions: boolean) {
    this.regions = withRegions ? new ChunkedUint32() : undefined;
  }

  /**
   * Radix-sorts both classes and returns them as floats (the key arrays reinterpreted in place).
   * Empties the collector.
   */
  sort(): Pick<SortedScores, 'negatives' | 'positives' | 'positiveRegions'> {
    const negatives = keysToFloats(radixSortChunks(this.negatives.take()).keys);
    const pos = radixSortChunks(this.positives.take(), this.regions?.take());
    return { negatives, positives: keysToFloats(pos.keys), positiveRegions: pos.values };
  }
}

/**
 * Validates labels and scores and sorts them by class. Float32Array scores take the radix path
 * (fast at pixel scale, values exact); any other array is read as float64 and sorted natively,
 * so image scores keep their full precision.
 */
export function sortScoresByClass(context: string, labels: LabelArray, scores: ScoreArray): SortedScores {
  checkSameLength(context, labels, scores);
  return scores instanceof Float32Array
    ? sortFloat32(context, labels, scores)
    : sortFloat64(context, labels, scores);
}

function sortFloat32(context: string, labels: LabelArray, scores: Float32Array): SortedScores {
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
  return collector.sort();
}

function sortFloat64(context: string, labels: LabelArray, scores: ScoreArray): SortedScores {
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
  return { negatives: neg, positives: pos };
}
