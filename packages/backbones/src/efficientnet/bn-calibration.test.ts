import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@rlr/testing';
import { imagenetNormalize } from '../preprocessing.js';
import { calibrateBatchNorm } from './bn-calibration.js';
import { runBlocks, type EfficientNetOps } from './efficientnet-blocks.js';
import { efficientNetArchitecture, TF_BN_EPS } from './efficientnet-variants.js';
import { randomEfficientNetWeights } from './efficientnet-random-init.js';
import { foldEfficientNetWeights } from './efficientnet-weights.js';
import { FoldedOps } from './folded-ops.js';
import { EfficientNetExtractor } from './efficientnet.js';
import { testImages } from '../../test/helpers.js';

beforeAll(() => useBackend('wasm'));

const NAME = 'tf_efficientnet_b0';
const BLOCKS = 11; // through stage 3

/** Per-channel mean and variance of every BN output, measured on the folded inference path. */
function bnOutputStats(weights: ReturnType<typeof randomEfficientNetWeights>, images: tf.Tensor4D) {
  const arch = efficientNetArchitecture(NAME);
  const folded = new FoldedOps(foldEfficientNetWeights(arch, weights, BLOCKS, 'calibrated'));
  const stats: { bn: string; mean: Float32Array; variance: Float32Array }[] = [];
  const recording: EfficientNetOps = {
    convBn(x, spec) {
      const y = folded.convBn(x, spec); // conv with the BN folded in = the BN's output
      const m = tf.moments(y, [0, 1, 2]);
      stats.push({ bn: spec.bn, mean: m.mean.dataSync() as Float32Array, variance: m.variance.dataSync() as Float32Array });
      return y;
    },
    squeezeExciteGate: (x, block) => folded.squeezeExciteGate(x, block),
    gatedConvBn(x, gate, spec) {
      const y = folded.gatedConvBn(x, gate, spec);
      const m = tf.moments(y, [0, 1, 2]);
      stats.push({ bn: spec.bn, mean: m.mean.dataSync() as Float32Array, variance: m.variance.dataSync() as Float32Array });
      return y;
    },
  };
  const x = imagenetNormalize(images);
  runBlocks(recording, arch, x, BLOCKS, () => false);
  x.dispose();
  folded.dispose();
  return stats;
}

describe('seeded random weights (timm init)', () => {
  it('are reproducible per seed and follow N(0, sqrt(2/fan_out)) for convs', () => {
    const scope = { blockCount: BLOCKS, head: false };
    const a = randomEfficientNetWeights(NAME, { seed: 7, ...scope });
    const b = randomEfficientNetWeights(NAME, { seed: 7, ...scope });
    const c = randomEfficientNetWeights(NAME, { seed: 8, ...scope });
    const w = a.get('blocks.4.0.conv_pw.weight')!.data as Float32Array; // [480, 80, 1, 1]: fan_out 480
    expect(w).toEqual(b.get('blocks.4.0.conv_pw.weight')!.data);
    expect(w).not.toEqual(c.get('blocks.4.0.conv_pw.weight')!.data);
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(std).toBeCloseTo(Math.sqrt(2 / 480), 3);
    const dw = a.get('blocks.4.0.conv_dw.weight')!.data as Float32Array; // depthwise 5x5: fan_out 25
    expect(Math.sqrt(dw.reduce((s, v) => s + v * v, 0) / dw.length)).toBeCloseTo(Math.sqrt(2 / 25), 2);
    expect(a.get('blocks.4.0.bn1.weight')!.data.every((v) => v === 1)).toBe(true);
    expect(a.get('blocks.4.0.bn1.running_var')!.data.every((v) => v === 1)).toBe(true);
    expect(a.get('blocks.4.0.bn1.running_mean')!.data.every((v) => v === 0)).toBe(true);
  });
});

describe('BatchNorm calibration', () => {
  it('gives every BN output ~zero mean and unit variance per channel on the calibration set', () => {
    const images = testImages(6, 64, 64, 3);
    const random = randomEfficientNetWeights(NAME, { seed: 11, blockCount: BLOCKS, head: false });
    const { weights, layers } = calibrateBatchNorm(NAME, random, images, { blockCount: BLOCKS });
    expect(layers.length).toBe(1 + 2 + 3 * (BLOCKS - 1)); // stem, ds block, 3 per ir block
    expect(random.get('bn1.running_mean')!.data.every((v) => v === 0)).toBe(true); // input untouched

    const stats = bnOutputStats(weights, images);
    expect(stats.map((s) => s.bn)).toEqual(layers.map((l) => l.bn));
    for (const [k, s] of stats.entries()) {
      const inVar = layers[k].inputVariance;
      for (let c = 0; c < s.mean.length; c++) {
        // Exactly: mean β = 0 and variance σ²/(σ²+ε); allow float32 rounding.
        expect(Math.abs(s.mean[c]), `${s.bn}[${c}] mean`).toBeLessThan(2e-3);
        expect(s.variance[c], `${s.bn}[${c}] variance`).toBeCloseTo(inVar[c] / (inVar[c] + TF_BN_EPS), 2);
      }
      const unit = [...s.variance].filter((v) => v > 0.9).length / s.variance.length;
      expect(unit, `${s.bn}: share of channels with unit variance`).toBeGreaterThan(0.9);
    }
    images.dispose();
  });

  it('turns vanishing random features (variance ~1e-5 at stride 16) into unit-scale ones', () => {
    const images = testImages(4, 64, 64, 5);
    const random = randomEfficientNetWeights(NAME, { seed: 2, blockCount: BLOCKS, head: false });
    const { weights } = calibrateBatchNorm(NAME, random, images, { blockCount: BLOCKS });
    const stage3Variance = (w: typeof random) => {
      const net = new EfficientNetExtractor(NAME, w, { outIndices: [3], smooth: false });
      const [out] = net.extract(images);
      const v = tf.tidy(() => tf.moments(out).variance.dataSync()[0]);
      out.dispose();
      net.dispose();
      return v;
    };
    expect(stage3Variance(random)).toBeLessThan(1e-3);
    const calibrated = stage3Variance(weights);
    expect(calibrated).toBeGreaterThan(0.2);
    expect(calibrated).toBeLessThan(20);
    images.dispose();
  });

  it('is idempotent: calibrating calibrated weights on the same images changes nothing', () => {
    const images = testImages(3, 48, 48, 9);
    const once = calibrateBatchNorm(NAME, randomEfficientNetWeights(NAME, { seed: 4, blockCount: 5, head: false }), images, {
      blockCount: 5,
    });
    const twice = calibrateBatchNorm(NAME, once.weights, images, { blockCount: 5 });
    twice.layers.forEach((l, k) => {
      const a = once.layers[k].inputVariance;
      l.inputVariance.forEach((v, c) => expect(v).toBeCloseTo(a[c], 4));
    });
    images.dispose();
  });
});
