import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TfjsModelBackbone } from '@rlr/backbones';
import { useBackend } from '@rlr/testing';
import { createRLR, specFromFeatureInfo } from '@rlr/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportDetector, METADATA_KEYS, readOnnxMetadata } from '../src/index.js';
import { OnnxDetector } from '../src/node/index.js';
import { tinyLayersBackbone } from './tiny-models.js';

describe('opening a damaged model.onnx', () => {
  let dir: string;
  let bytes: Uint8Array;
  beforeAll(async () => {
    await useBackend('wasm');
    dir = mkdtempSync(join(tmpdir(), 'rlr-onnx-bad-'));
    const backbone = await tinyLayersBackbone(1);
    const model = createRLR(specFromFeatureInfo(backbone.featureInfo, [32, 32]), { heads: 2, layers: 1, ffnRatio: 2, alpha: 2, jitterScale: 4, seed: 1, dPerStride: 4 });
    bytes = await exportDetector(backbone, model, { postProcessing: { threshold: 1.5 } });
    model.dispose();
    backbone.dispose();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses an attention variant other than the paper layer, naming the level and the variant', async () => {
    const backbone = await tinyLayersBackbone(1);
    const model = createRLR(specFromFeatureInfo(backbone.featureInfo, [32, 32]), { heads: 2, layers: 1, ffnRatio: 2, alpha: 2, jitterScale: 4, seed: 1, dPerStride: 4, attention: 'cross+mlka' });
    await expect(exportDetector(backbone, model)).rejects.toThrow(/level 0 uses the attention variant "cross\+mlka"; only the paper's layer \(mlka\+lca\) is exported/);
    model.dispose();
    backbone.dispose();
  });

  it('reads back the metadata of an intact export', () => {
    const info = readOnnxMetadata(bytes, 'model.onnx');
    expect(info.imageSize).toEqual([32, 32]);
    expect(info.threshold).toBe(1.5);
    expect(info.metadata[METADATA_KEYS.model]).toBe('rlr');
    expect(info.inputs).toEqual(['image']);
    expect(info.outputs).toEqual(['score', 'map', 'normalized_score', 'label']);
  });

  for (const [what, cut] of [
    ['truncated to a third', (b: Uint8Array) => b.subarray(0, Math.floor(b.length / 3))],
    ['cut after 100 bytes', (b: Uint8Array) => b.subarray(0, 100)],
    ['not protobuf at all', () => new TextEncoder().encode('this is not a model\n')],
    ['empty', () => new Uint8Array(0)],
  ] as const) {
    it(`${what}: an error naming the file and the export command`, async () => {
      const path = join(dir, `${what.replace(/\W+/g, '-')}.onnx`);
      writeFileSync(path, cut(bytes));
      const err = await OnnxDetector.open(path).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).toContain(path);
      expect(err?.message).toMatch(/truncated|corrupt/);
      expect(err?.message).toContain('rlr export --format onnx');
    });
  }

  it('a missing file names the path', async () => {
    await expect(OnnxDetector.open(join(dir, 'absent.onnx'))).rejects.toThrow(/cannot read the ONNX model .*absent\.onnx/);
  });
});

describe('backbones the exporter cannot translate', () => {
  it('a layer of an unsupported class is refused with its name and class', async () => {
    await useBackend('wasm');
    const input = tfl.input({ shape: [null, null, 3] });
    const c = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c1' }).apply(input) as tfl.SymbolicTensor;
    const pooled = tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool' }).apply(c) as tfl.SymbolicTensor;
    const tap = tfl.layers.conv2d({ filters: 4, kernelSize: 1, name: 'tap' }).apply(pooled) as tfl.SymbolicTensor;
    const m = tfl.model({ inputs: input, outputs: tap });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await m.save(
      tf.io.withSaveHandler((a) => {
        artifacts = a;
        return Promise.resolve({ modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) });
      }),
    );
    m.dispose();
    const backbone = await TfjsModelBackbone.load('pooled', { format: 'layers', taps: ['tap'], reductions: [2], channels: [4], preprocessing: 'none' }, tf.io.fromMemory(artifacts!));
    const model = createRLR(specFromFeatureInfo(backbone.featureInfo, [16, 16]), { heads: 2, layers: 1, ffnRatio: 2, alpha: 2, jitterScale: 4, seed: 1, d: 4 });
    await expect(exportDetector(backbone, model)).rejects.toThrow(/layer pool is a MaxPooling2D, which the exporter does not support/);
    model.dispose();
    backbone.dispose();
  });
});
