import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';

/** A seeded random stream (xoroshiro128+ from `pure-rand`): same seed, same numbers, everywhere. */
export interface Random {
  /** Uniform in [0, 1). */
  float(): number;
  /** Uniform in [min, max). */
  range(min: number, max: number): number;
  /** Uniform integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
}

/** A new random stream for a 32-bit integer seed. */
export function createRandom(seed: number): Random {
  const rng = xoroshiro128plus(seed | 0);
  const float = () => uniformFloat64(rng);
  return {
    float,
    range: (min, max) => min + (max - min) * float(),
    int: (min, max) => uniformInt(rng, min, max),
    normal: () => {
      const u = 1 - float();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * float());
    },
    pick: (items) => items[uniformInt(rng, 0, items.length - 1)],
  };
}

/**
 * Mixes a seed with any number of labels (strings or numbers) into a new 32-bit seed (FNV-1a,
 * then a murmur3 finaliser). Used to give every category, split and image its own stream, so
 * one image does not change when others are added or removed.
 */
export function deriveSeed(seed: number, ...parts: (string | number)[]): number {
  let h = 0x811c9dc5 ^ (seed | 0);
  const text = parts.join('\u0000');
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** A shuffled copy of `items` (Fisher-Yates), deterministic for a given seed. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = items.slice();
  const rnd = createRandom(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = rnd.int(0, i);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
