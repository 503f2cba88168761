/**
 * Float32 scores as unsigned 32-bit sort keys.
 *
 * Grouping by key bits needs keys whose unsigned order equals the numeric order of the floats.
 * IEEE-754 bits almost have it: flip every bit of a negative number, and only the sign bit of a
 * positive one. -0 is first mapped to +0 so that the two zeros form one threshold, as they do in
 * scikit-learn (`np.diff` sees no difference between them). The transform is exact and
 * invertible: no score value is changed.
 */

/** Exponent bits all set: the float is ±Infinity or NaN. */
export const NON_FINITE_BITS = 0x7f800000;

const SIGN = 0x80000000;

/**
 * Sort key of the float whose IEEE bits are `bits` (unsigned); the caller has already rejected
 * non-finite values.
 */
export function keyFromBits(bits: number): number {
  if (bits === SIGN) bits = 0; // -0 -> +0
  // (bits >> 31) is -1 for negatives (flip all bits) and 0 for positives (flip the sign only).
  return (bits ^ ((bits >> 31) | SIGN)) >>> 0;
}

/** IEEE bits of the float whose sort key is `key` (inverse of {@link keyFromBits}). */
export function bitsFromKey(key: number): number {
  // key >= 2^31 came from a positive float (flip the sign back), otherwise flip everything.
  return (key ^ (((key >> 31) ^ -1) | SIGN)) >>> 0;
}

const floatView = new Float32Array(1);
const bitsView = new Uint32Array(floatView.buffer);

/** The float32 value whose sort key is `key`. */
export function floatFromKey(key: number): number {
  bitsView[0] = bitsFromKey(key);
  return floatView[0];
}
