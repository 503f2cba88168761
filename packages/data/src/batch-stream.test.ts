import { describe, expect, it } from 'vitest';
import { streamBatches, type LoadedSample } from './batch-stream.js';
import type { Sample } from './types.js';

const samples: Sample[] = Array.from({ length: 10 }, (_, i) => ({ path: `img${i}`, category: 'c', label: (i % 3 === 0 ? 1 : 0), defectType: i % 3 ? 'good' : 'x' }));
const indexOf = (s: Sample) => Number(s.path.slice(3));

/** A 1x2 image whose pixels encode the sample index; anomalous samples get a mask. */
function fake(s: Sample): LoadedSample {
  const v = indexOf(s) / 10;
  const image = { data: new Float32Array([v, v, v, v, v, v]), height: 1, width: 2 };
  return s.label ? { image, mask: { data: new Uint8Array([1, 0]), height: 1, width: 2 } } : { image };
}

const tick = () => new Promise((r) => setTimeout(r, 1));

async function collect(stream: AsyncIterable<{ samples: Sample[] }>) {
  const out: number[][] = [];
  for await (const b of stream) out.push(b.samples.map(indexOf));
  return out;
}

describe('streamBatches', () => {
  it('keeps the given order and packs images, masks and mask flags', async () => {
    const batches = [];
    for await (const b of streamBatches(samples, async (s) => fake(s), { batchSize: 4 })) batches.push(b);
    expect(batches.map((b) => b.samples.map(indexOf))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    const first = batches[0];
    expect([first.height, first.width]).toEqual([1, 2]);
    expect(first.images.length).toBe(4 * 2 * 3);
    expect(first.images[6]).toBeCloseTo(0.1); // sample 1, first pixel
    expect(first.hasMask).toEqual([true, false, false, true]);
    expect([...first.masks]).toEqual([1, 0, 0, 0, 0, 0, 1, 0]);
  });

  it('drops a short last batch on request', async () => {
    expect(await collect(streamBatches(samples, async (s) => fake(s), { batchSize: 4, dropLast: true }))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
  });

  it('shuffles by seed and epoch, reproducibly', async () => {
    const run = (seed: number, epoch: number) => collect(streamBatches(samples, async (s) => fake(s), { batchSize: 3, shuffle: true, seed, epoch }));
    const a = (await run(1, 0)).flat();
    expect([...a].sort((x, y) => x - y)).toEqual(samples.map(indexOf));
    expect((await run(1, 0)).flat()).toEqual(a);
    expect((await run(2, 0)).flat()).not.toEqual(a);
    expect((await run(1, 1)).flat()).not.toEqual(a);
  });

  it('never decodes more than concurrency at once nor more than prefetch batches ahead', async () => {
    const many = Array.from({ length: 60 }, (_, i) => ({ ...samples[0], path: `img${i}`, label: 0 as const }));
    let active = 0;
    let maxActive = 0;
    let loaded = 0;
    let consumed = 0;
    let maxAhead = 0;
    const load = async (s: Sample) => {
      active++;
      maxActive = Math.max(maxActive, active);
      await tick();
      active--;
      loaded++;
      maxAhead = Math.max(maxAhead, loaded - consumed);
      return fake(s);
    };
    for await (const b of streamBatches(many, load, { batchSize: 4, prefetch: 2, concurrency: 3 })) {
      await tick(); // a slow consumer lets the workers run as far ahead as they may
      await tick();
      consumed += b.samples.length;
    }
    expect(consumed).toBe(60);
    expect(maxActive).toBe(3);
    // The held batch plus two prefetched ones: at most 3 batches of 4 decoded and not yet consumed.
    expect(maxAhead).toBeLessThanOrEqual(12);
    expect(maxAhead).toBeGreaterThan(4);
  });

  it('works without prefetch', async () => {
    expect((await collect(streamBatches(samples, async (s) => fake(s), { batchSize: 4, prefetch: 0 }))).flat()).toHaveLength(10);
  });

  it('fails at the batch holding a failed sample, after yielding the earlier ones', async () => {
    const seen: number[][] = [];
    const load = async (s: Sample) => {
      if (indexOf(s) === 5) throw new Error('img5: broken');
      return fake(s);
    };
    await expect(
      (async () => {
        for await (const b of streamBatches(samples, load, { batchSize: 4 })) seen.push(b.samples.map(indexOf));
      })(),
    ).rejects.toThrow('img5: broken');
    expect(seen).toEqual([[0, 1, 2, 3]]);
  });

  it('stops decoding when the consumer stops early', async () => {
    const many = Array.from({ length: 100 }, (_, i) => ({ ...samples[0], path: `img${i}` }));
    let loads = 0;
    for await (const _ of streamBatches(many, async (s) => (loads++, await tick(), fake(s)), { batchSize: 5, prefetch: 1, concurrency: 2 })) break;
    await tick();
    const after = loads;
    await new Promise((r) => setTimeout(r, 20));
    expect(loads).toBe(after);
    expect(loads).toBeLessThanOrEqual(10 + 2);
  });

  it('rejects images of different sizes in one batch, naming the sample and the fix', async () => {
    const load = async (s: Sample) => (indexOf(s) === 1 ? { image: { data: new Float32Array(3), height: 1, width: 1 } } : fake(s));
    await expect(collect(streamBatches(samples, load, { batchSize: 4 }))).rejects.toThrow(/img1: decodes to 1x1 .* Pass a crop/);
  });

  it('rejects bad options by name', () => {
    expect(() => streamBatches(samples, async (s) => fake(s), { batchSize: 0 })).toThrow(/batchSize/);
    expect(() => streamBatches(samples, async (s) => fake(s), { batchSize: 2, concurrency: 0 })).toThrow(/concurrency/);
  });
});
