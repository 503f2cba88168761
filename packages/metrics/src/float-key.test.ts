import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bitsFromKey, floatFromKey, keyFromBits } from './float-key.js';

const bitsOf = (x: number): number => new Uint32Array(Float32Array.of(x).buffer)[0];

describe('float32 sort keys', () => {
  it('order like the floats they encode, -0 and +0 sharing one key', () => {
    const values = [-3.4e38, -1, -1e-45, -0, 0, 1e-45, 1e-38, 0.5, 1, 3.4e38];
    const keys = values.map((v) => keyFromBits(bitsOf(v)));
    for (let i = 1; i < keys.length; i++) {
      if (values[i] === values[i - 1]) expect(keys[i]).toBe(keys[i - 1]);
      else expect(keys[i]).toBeGreaterThan(keys[i - 1]);
    }
  });

  it('compare as unsigned integers exactly as their floats compare', () => {
    const f32 = fc.float({ noNaN: true, noDefaultInfinity: true });
    fc.assert(
      fc.property(f32, f32, (a, b) => {
        const ka = keyFromBits(bitsOf(a));
        const kb = keyFromBits(bitsOf(b));
        expect(Math.sign(ka - kb)).toBe(Math.sign(a - b));
      }),
      { numRuns: 1000 },
    );
  });

  it('round-trip exactly for every finite float32 (-0 comes back as +0)', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const key = keyFromBits(bitsOf(x));
        expect(bitsFromKey(key)).toBe(x === 0 ? 0 : bitsOf(x));
        expect(Object.is(floatFromKey(key), x === 0 ? 0 : x)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
