/**
 * Seeded pseudo-random numbers for everything RLR draws: parameter initialisation, the jitter
 * noise and the epoch shuffles. Training is reproducible (and resumable with identical losses)
 * because every draw comes from a generator whose seed is derived only from the run seed and the
 * position in training (epoch, step, level) — never from how many numbers were drawn before.
 * The one generator of the repository: backbones (random weights) and data (synthetic images,
 * shuffles, hold-outs) draw from it too, through the tfjs-free subpath `@rlr/core/rng`.
 */

/**
 * Mix seed parts into one well-spread 32-bit seed (murmur3 finaliser on a running hash). Numbers
 * are folded as their low and high 32 bits; a string as its length and UTF-16 code units, so
 * labels give every category, split and image its own stream (`deriveSeed(seed, 'defect', i)`).
 */
export function deriveSeed(...parts: (number | string)[]): number {
  let h = 0x9e3779b9;
  const mix = (word: number) => {
    h = Math.imul(h ^ word, 0x85ebca6b);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  };
  for (const part of parts) {
    if (typeof part === 'string') {
      mix((0x80000000 | part.length) >>> 0);
      for (let i = 0; i < part.length; i++) mix(part.charCodeAt(i));
      continue;
    }
    if (!Number.isFinite(part)) throw new Error(`deriveSeed: seed part ${part} is not a finite number`);
    // Fold the low and high 32 bits so seeds above 2^32 still matter.
    mix(part >>> 0);
    mix(Math.floor(part / 4294967296) >>> 0);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Small fast generator (sfc32: 128-bit state, passes PractRand to large sizes) with uniform and
 * standard-normal draws. Not cryptographic.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined;

  constructor(seed: number) {
    this.a = deriveSeed(seed, 1);
    this.b = deriveSeed(seed, 2);
    this.c = deriveSeed(seed, 3);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Uniform in [min, max). */
  range(min: number, max: number): number {
    return min + (max - min) * this.uniform();
  }

  /** Uniform integer in [min, max], both included. */
  intIn(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: the array is empty');
    return items[this.int(items.length)];
  }

  /** Standard normal draw (Box–Muller, both values used). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fill `out` with N(mean, std²) draws and return it. */
  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** Fill `out` with U(lo, hi) draws and return it. */
  fillUniform(out: Float32Array, lo: number, hi: number): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * this.uniform();
    return out;
  }
}

/** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** A shuffled copy of `items` (Fisher–Yates with `rng`). */
export function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}
