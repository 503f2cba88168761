/**
 * Float32 sort keys grouped by their top 16 bits, from which the distinct keys of each group come
 * out in descending order with their counts: exactly what a threshold sweep consumes, without
 * ever fully sorting.
 *
 * Why not a full sort: the metrics only need, per distinct score, how many samples have it (and,
 * for AU-PRO, their summed region weights). One scatter pass puts each key's low 16 bits into the
 * bucket of its high 16 bits (2 bytes per sample instead of 4); a bucket is then reduced by
 * counting into a 65536-entry table when it is dense, or by sorting its few entries natively when
 * it is sparse. Against a 4-pass LSD radix sort this does one scatter instead of four, holds
 * 2 bytes per key instead of 8 while sorting, and never needs a second full-size buffer.
 * Typical maps (values in [0, 1)) fill ~1000 buckets with ~1e5 keys each: all dense.
 */

const BUCKETS = 1 << 16;
const TWO_32 = 4294967296;
/** A bucket is counted densely when its range of low halves is at most this many times its size. */
const DENSE_RATIO = 8;
/** Hence sparse buckets hold fewer than 65536 / 8 keys: the size of the sort scratch. */
const SPARSE_MAX = BUCKETS / DENSE_RATIO;

/** The distinct keys of one bucket, descending, with their counts (and summed weights). */
export class RunBuffer {
  /** Low 16 bits of each distinct key, descending. */
  readonly low: Uint16Array;
  /** Number of keys equal to each. */
  readonly count: Uint32Array;
  /** Sum of the weights of those keys (weighted buckets only). */
  readonly weight: Float64Array;
  /** Number of runs filled by the last read. */
  length = 0;

  /** @param capacity - the most runs a bucket can yield: its size, at most 65536 */
  constructor(capacity = BUCKETS) {
    const n = Math.min(BUCKETS, Math.max(1, capacity));
    this.low = new Uint16Array(n);
    this.count = new Uint32Array(n);
    this.weight = new Float64Array(n);
  }
}

/**
 * Zeroed tables and scratch space shared by the reads of one sweep, allocated on first use so
 * that small sets (all sparse buckets) never pay for the 64k-entry tables.
 */
export class BucketScratch {
  private countTable: Uint32Array | undefined;
  private weightTable: Float64Array | undefined;
  private lowScratch: Uint16Array | undefined;
  private packedScratch: Float64Array | undefined;

  /** `[65536]` per-low-half counts, all zero between reads. */
  get counts(): Uint32Array {
    return (this.countTable ??= new Uint32Array(BUCKETS));
  }

  /** `[65536]` per-low-half weight sums, all zero between reads. */
  get weights(): Float64Array {
    return (this.weightTable ??= new Float64Array(BUCKETS));
  }

  /** Sort scratch for the low halves of a sparse bucket. */
  get low(): Uint16Array {
    return (this.lowScratch ??= new Uint16Array(SPARSE_MAX));
  }

  /** Sort scratch for the packed (low half, tag) pairs of a sparse bucket. */
  get packed(): Float64Array {
    return (this.packedScratch ??= new Float64Array(SPARSE_MAX));
  }
}

/** Uint32 keys (with an optional uint32 tag each) grouped by their high 16 bits. */
export class KeyBuckets {
  /** Number of keys. */
  readonly size: number;
  /** Keys in the fullest bucket (bounds the runs one bucket can yield). */
  readonly largestBucket: number;
  /** `[65537]` bucket h holds entries start[h] .. start[h + 1]. */
  private readonly start: Uint32Array;
  /** `[size]` low 16 bits of each key, grouped by bucket (unordered within a bucket). */
  private readonly low: Uint16Array;
  /** `[size]` tag of each key (e.g. its ground-truth region), same order as `low`. */
  private readonly tags: Uint32Array | undefined;

  /**
   * Groups keys given as chunks (and tags in chunks of the same lengths). Both lists are
   * emptied, each chunk let go as soon as it has been scattered, so the peak is the chunks plus
   * 2 bytes (6 with tags) per key.
   */
  constructor(keyChunks: Uint32Array[], tagChunks?: Uint32Array[]) {
    let n = 0;
    for (const c of keyChunks) n += c.length;
    if (tagChunks) {
      let m = 0;
      for (const c of tagChunks) m += c.length;
      if (m !== n || tagChunks.length !== keyChunks.length) {
        throw new Error(`KeyBuckets: ${n} keys but ${m} tags in differently sized chunks`);
      }
    }
    this.size = n;
    const start = new Uint32Array(BUCKETS + 1);
    for (const c of keyChunks) countHigh(c, start);
    let sum = 0;
    for (let h = 0; h < BUCKETS; h++) {
      const c = start[h];
      start[h] = sum;
      sum += c;
    }
    start[BUCKETS] = sum;
    let largest = 0;
    for (let h = 0; h < BUCKETS; h++) largest = Math.max(largest, start[h + 1] - start[h]);
    this.largestBucket = largest;
    const next = start.slice(0, BUCKETS);
    this.low = new Uint16Array(n);
    this.tags = tagChunks ? new Uint32Array(n) : undefined;
    for (let c = 0; c < keyChunks.length; c++) {
      if (this.tags && tagChunks) {
        scatterTagged(keyChunks[c], tagChunks[c], next, this.low, this.tags);
        tagChunks[c] = EMPTY;
      } else {
        scatter(keyChunks[c], next, this.low);
      }
      keyChunks[c] = EMPTY;
    }
    keyChunks.length = 0;
    if (tagChunks) tagChunks.length = 0;
    this.start = start;
  }

  /** Whether bucket `high` holds no key. */
  isEmpty(high: number): boolean {
    return this.start[high] === this.start[high + 1];
  }

  /**
   * Fills `out` with the distinct keys of bucket `high`, descending, with their counts; with
   * `tagWeights`, also the sum of `tagWeights[tag]` over the keys of each run.
   */
  readRuns(high: number, out: RunBuffer, scratch: BucketScratch, tagWeights?: Float64Array): void {
    const s = this.start[high];
    const e = this.start[high + 1];
    const m = e - s;
    out.length = 0;
    if (m === 0) return;
    const low = this.low;
    let min = 0xffff;
    let max = 0;
    for (let i = s; i < e; i++) {
      const l = low[i];
      if (l < min) min = l;
      if (l > max) max = l;
    }
    const tags = this.tags;
    if (max - min + 1 <= DENSE_RATIO * m) {
      if (tags && tagWeights) denseWeighted(low, tags, tagWeights, s, e, min, max, scratch, out);
      else dense(low, s, e, min, max, scratch, out);
    } else if (tags && tagWeights) {
      sparseWeighted(low, tags, tagWeights, s, e, scratch, out);
    } else {
      sparse(low, s, e, scratch, out);
    }
  }
}

const EMPTY = new Uint32Array(0);

// Each hot loop is its own small function so that V8 optimises it on its own.

function countHigh(keys: Uint32Array, hist: Uint32Array): void {
  for (let i = 0; i < keys.length; i++) hist[keys[i] >>> 16]++;
}

function scatter(keys: Uint32Array, next: Uint32Array, low: Uint16Array): void {
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    low[next[k >>> 16]++] = k & 0xffff;
  }
}

function scatterTagged(keys: Uint32Array, tagsIn: Uint32Array, next: Uint32Array, low: Uint16Array, tags: Uint32Array): void {
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const at = next[k >>> 16]++;
    low[at] = k & 0xffff;
    tags[at] = tagsIn[i];
  }
}

function dense(low: Uint16Array, s: number, e: number, min: number, max: number, scratch: BucketScratch, out: RunBuffer): void {
  const counts = scratch.counts;
  for (let i = s; i < e; i++) counts[low[i]]++;
  let n = 0;
  for (let l = max; l >= min; l--) {
    const c = counts[l];
    if (c === 0) continue;
    out.low[n] = l;
    out.count[n] = c;
    n++;
    counts[l] = 0; // leave the table zeroed for the next bucket
  }
  out.length = n;
}

function denseWeighted(
  low: Uint16Array,
  tags: Uint32Array,
  tagWeights: Float64Array,
  s: number,
  e: number,
  min: number,
  max: number,
  scratch: BucketScratch,
  out: RunBuffer,
): void {
  const { counts, weights } = scratch;
  for (let i = s; i < e; i++) {
    const l = low[i];
    counts[l]++;
    weights[l] += tagWeights[tags[i]];
  }
  let n = 0;
  for (let l = max; l >= min; l--) {
    const c = counts[l];
    if (c === 0) continue;
    out.low[n] = l;
    out.count[n] = c;
    out.weight[n] = weights[l];
    n++;
    counts[l] = 0;
    weights[l] = 0;
  }
  out.length = n;
}

function sparse(low: Uint16Array, s: number, e: number, scratch: BucketScratch, out: RunBuffer): void {
  const sorted = scratch.low.subarray(0, e - s);
  sorted.set(low.subarray(s, e));
  sorted.sort();
  let n = 0;
  for (let i = sorted.length - 1; i >= 0; ) {
    const l = sorted[i];
    let j = i;
    while (j >= 0 && sorted[j] === l) j--;
    out.low[n] = l;
    out.count[n] = i - j;
    n++;
    i = j;
  }
  out.length = n;
}

function sparseWeighted(
  low: Uint16Array,
  tags: Uint32Array,
  tagWeights: Float64Array,
  s: number,
  e: number,
  scratch: BucketScratch,
  out: RunBuffer,
): void {
  // (low, tag) packed into one exact float64 (< 2^48) so that a native sort orders both.
  const packed = scratch.packed.subarray(0, e - s);
  for (let i = s; i < e; i++) packed[i - s] = low[i] * TWO_32 + tags[i];
  packed.sort();
  let n = 0;
  for (let i = packed.length - 1; i >= 0; ) {
    const l = Math.floor(packed[i] / TWO_32);
    let count = 0;
    let weight = 0;
    for (; i >= 0; i--) {
      const v = packed[i];
      const vl = Math.floor(v / TWO_32);
      if (vl !== l) break;
      count++;
      weight += tagWeights[v - vl * TWO_32];
    }
    out.low[n] = l;
    out.count[n] = count;
    out.weight[n] = weight;
    n++;
  }
  out.length = n;
}
