/** The README's example must keep running. */
import { describe, expect, it } from 'vitest';
import { quickstart } from '../examples/quickstart.js';

describe('examples/quickstart.ts', () => {
  it('trains, scores, saves and loads', async () => {
    const lines: string[] = [];
    const { scores, loss } = await quickstart((l) => lines.push(l));
    expect(loss).toHaveLength(3);
    expect(loss[2]).toBeLessThan(loss[0]);
    expect(scores).toHaveLength(2);
    expect(lines.some((l) => l.includes('config.json + weights.safetensors') || l.includes('weights.safetensors'))).toBe(true);
  });
});
