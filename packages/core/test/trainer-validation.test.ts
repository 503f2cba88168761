/**
 * The trainer's validation, early stopping, best-by-validation weights, learning-rate schedule
 * and budget, on the tiny synthetic model.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@rlr/testing';
import { memoryStore } from '../src/blob-store.js';
import { FeatureBank } from '../src/feature-bank.js';
import type { FeatureSource } from '../src/feature-source.js';
import { scheduledLr } from '../src/lr-schedule.js';
import { modelToOfficialTensors } from '../src/model-io.js';
import { createRLR } from '../src/rlr-model.js';
import { BEST_WEIGHTS_BLOB, Trainer } from '../src/trainer.js';
import { syntheticFeatures, tinyConfig as config, tinyLevels as levels, tinySpec as spec } from './synthetic-features.js';

function bankOf(count: number, seed: number): FeatureBank {
  return FeatureBank.fromArrays(levels, syntheticFeatures(levels, count, new Array(count).fill(false), seed).features);
}

/**
 * Validation features whose scale changes from one epoch's validation to the next (`scales[k]`
 * at the k-th validation), so the validation loss follows the scales whatever the (nearly
 * frozen) model does: a loss curve chosen by the test.
 */
function scriptedValidation(base: FeatureBank, scales: number[]): FeatureSource & { calls: number } {
  const src = {
    size: base.size,
    levels: base.levels,
    calls: 0,
    async read(indices: ArrayLike<number>) {
      const s = scales[Math.min(src.calls, scales.length - 1)];
      src.calls += 1;
      return (await base.read(indices)).map((a) => a.map((v) => v * s));
    },
  };
  return src;
}

async function weights(model: ReturnType<typeof createRLR>): Promise<number[]> {
  return [...(await modelToOfficialTensors(model)).values()].flatMap((t) => Array.from(t.data.subarray(0, 4)));
}

describe('Trainer validation, early stop, schedule and budget (wasm)', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('reports validation every epoch, stops early on a plateau and keeps the best epoch', async () => {
    const train = bankOf(8, 1);
    // Validation losses fall until epoch 3, then rise: best epoch 3, patience 2 stops after epoch 5.
    const val = scriptedValidation(bankOf(4, 2), [3, 2, 1, 1.5, 2, 2.5, 3, 3.5]);
    const model = createRLR(spec, config);
    const store = memoryStore();
    let atBest: number[] = [];
    const trainer = new Trainer(model, {
      epochs: 8,
      lr: 1e-3,
      batchSize: 4,
      validation: val,
      earlyStopPatience: 2,
      store,
      onEpoch: async (r) => {
        if (r.epoch === 3) atBest = await weights(model);
      },
    });
    const result = await trainer.fit(train);
    expect(result.stopReason).toBe('early-stop');
    expect(result.stopped).toBe(false);
    expect(result.epochsCompleted).toBe(5);
    expect(result.best?.epoch).toBe(3);
    expect(result.history.map((h) => h.bestVal)).toEqual([true, true, true, false, false]);
    const losses = result.history.map((h) => h.val!.loss);
    expect(losses[2]).toBeLessThan(losses[1]);
    expect(losses[3]).toBeGreaterThan(losses[2]);
    for (const h of result.history) {
      const s = h.val!.scores;
      expect(h.val!.images).toBe(4);
      expect(s.p50).toBeLessThanOrEqual(s.p95);
      expect(s.p95).toBeLessThanOrEqual(s.max);
    }
    expect(await store.exists(BEST_WEIGHTS_BLOB)).toBe(true);
    // The last weights differ from the best epoch's; restoreBest brings those back.
    expect(await weights(model)).not.toEqual(atBest);
    expect(trainer.restoreBest()).toBe(true);
    expect(await weights(model)).toEqual(atBest);

    // Resumed from the checkpoint: the best record and weights come back from the store.
    const again = createRLR(spec, config);
    const resumed = new Trainer(again, { epochs: 8, batchSize: 4, store, validation: val });
    await resumed.resume();
    expect(resumed.bestValidation?.epoch).toBe(3);
    expect(resumed.restoreBest()).toBe(true);
    expect(await weights(again)).toEqual(atBest);
    for (const t of [trainer, resumed]) t.dispose();
    model.dispose();
    again.dispose();
  });

  it('steps with the scheduled learning rate; a budget stops with a checkpoint; marks fire before they pass', async () => {
    const train = bankOf(8, 3);
    const model = createRLR(spec, config);
    const store = memoryStore();
    // A fake clock that advances one second per reading: the budget is a number of readings.
    let t = 0;
    const marks: [number, number][] = [];
    const trainer = new Trainer(model, {
      epochs: 6,
      lr: 1e-3,
      batchSize: 4,
      lrSchedule: 'cosine',
      warmupEpochs: 1,
      clock: () => t++,
      maxSeconds: 11,
      marks: [6],
      onMark: (m, r) => {
        marks.push([m, r.epoch]);
      },
      store,
    });
    const result = await trainer.fit(train);
    expect(result.stopReason).toBe('budget');
    expect(result.stopped).toBe(true);
    expect(await store.exists('checkpoint.json')).toBe(true);
    // 2 batches per epoch, 12 steps: each epoch reports the rate of its last step.
    result.history.forEach((h) => expect(h.lr).toBeCloseTo(scheduledLr('cosine', 1e-3, h.epoch * 2 - 1, 12, 2), 12));
    expect(result.history[0].lr).toBeCloseTo(1e-3, 12);
    expect(result.epochsCompleted).toBeGreaterThanOrEqual(1);
    expect(result.epochsCompleted).toBeLessThan(6);
    // The mark fired once, at an epoch whose end was before it and whose successor would pass it.
    expect(marks).toHaveLength(1);
    const [, epoch] = marks[0];
    const end = result.history[epoch - 1].clockSeconds!;
    expect(end).toBeLessThanOrEqual(6);
    trainer.dispose();
    // The checkpoint keeps the peak rate (not the scheduled one) for the continuation.
    const again = createRLR(spec, config);
    const resumed = new Trainer(again, { epochs: 6, batchSize: 4, lrSchedule: 'cosine', warmupEpochs: 1, store });
    await resumed.resume();
    expect(resumed.options.lr).toBe(1e-3);
    const rest = await resumed.fit(train);
    expect(rest.stopReason).toBe('done');
    expect(rest.epochsCompleted).toBe(6);
    expect(rest.history.at(-1)!.lr).toBeCloseTo(scheduledLr('cosine', 1e-3, 11, 12, 2), 12);
    resumed.dispose();
    model.dispose();
    again.dispose();
  });

  it('rejects a patience below 1 and early stopping without validation', () => {
    const model = createRLR(spec, config);
    expect(() => new Trainer(model, { earlyStopPatience: 0, validation: bankOf(2, 4) })).toThrow(/earlyStopPatience/);
    expect(() => new Trainer(model, { earlyStopPatience: 2 })).toThrow(/validation/);
    expect(() => new Trainer(model, { lrSchedule: 'linear' as 'cosine' })).toThrow(/lrSchedule/);
    model.dispose();
  });
});
