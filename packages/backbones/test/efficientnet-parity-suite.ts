/**
 * Parity with timm (fixtures/efficientnet, made by timm 1.0.29): every stage of B0 and stages 0–3
 * of B6 (the truncated checkpoint), at 256x256 and 224x320.
 * Tolerance: max |actual − expected| ≤ 1e-3 · max |expected| per stage.
 * One file per backend (`efficientnet-parity-<backend>.test.ts`) so that vitest can run them in
 * parallel: the pure-JS cpu backend needs about a minute for B6.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireShared, useBackend, type TestBackend } from '@rlr/testing';
import { serializeSafetensors } from '@rlr/core';
import { EfficientNetExtractor } from '../src/efficientnet/efficientnet.js';
import { denormalizeImagenet, maxErrors, readTensors } from './helpers.js';

export const PARITY_TOLERANCE = 1e-3;

interface Case {
  case: string;
  weights: string;
  model: string;
  expected: string;
  stages: Record<string, number[]>;
}

export function defineParitySuite(backend: TestBackend, { float16 = false } = {}): void {
  const dir = requireShared('fixtures/efficientnet/manifest.json') ? requireShared('fixtures/efficientnet') : undefined;
  const cases: Case[] = dir ? (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { cases: Case[] }).cases : [];

  describe.skipIf(!dir)(`EfficientNet parity with timm on ${backend}`, () => {
    beforeAll(() => useBackend(backend));

    for (const c of cases) {
      it(`${c.case}: every stage within ${PARITY_TOLERANCE} x max|expected|`, () => {
        const stageNames = Object.keys(c.stages);
        const outIndices = stageNames.map((s) => Number(s.replace('stage', '')));
        const extractor = new EfficientNetExtractor(c.model, readTensors(dir!, c.weights), { outIndices, smooth: false });
        const expected = readTensors(dir!, c.expected);
        const images = denormalizeImagenet(expected.get('input')!);
        const outs = extractor.extract(images);
        try {
          outs.forEach((out, k) => {
            const name = stageNames[k];
            expect(out.shape, name).toEqual(c.stages[name]);
            const { maxAbsErr, maxAbs } = maxErrors(out.dataSync(), expected.get(name)!.data);
            expect(maxAbsErr, `${c.case} ${name}: max error ${maxAbsErr}, max |expected| ${maxAbs}`).toBeLessThanOrEqual(
              PARITY_TOLERANCE * maxAbs,
            );
          });
        } finally {
          tf.dispose([...outs, images]);
          extractor.dispose();
        }
      });
    }

    if (float16)
      it('loads a float16 checkpoint (B0): stages within 2e-2 x max|expected| (weights rounded to 11 bits)', () => {
        const f32 = readTensors(dir!, 'tf_efficientnet_b0.safetensors');
        const half = new Map(
          [...f32].map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array, dtype: 'F16' as const }]),
        );
        const extractor = new EfficientNetExtractor('tf_efficientnet_b0', serializeSafetensors(half), {
          outIndices: [0, 2, 4],
          smooth: false,
        });
        const expected = readTensors(dir!, 'tf_efficientnet_b0_256x256.expected.safetensors');
        const images = denormalizeImagenet(expected.get('input')!);
        const outs = extractor.extract(images);
        try {
          ['stage0', 'stage2', 'stage4'].forEach((name, k) => {
            const { maxAbsErr, maxAbs } = maxErrors(outs[k].dataSync(), expected.get(name)!.data);
            expect(maxAbsErr, name).toBeLessThanOrEqual(2e-2 * maxAbs);
            expect(maxAbsErr, `${name}: float16 weights should not give the float32 result exactly`).toBeGreaterThan(0);
          });
        } finally {
          tf.dispose([...outs, images]);
          extractor.dispose();
        }
      });
  });
}
