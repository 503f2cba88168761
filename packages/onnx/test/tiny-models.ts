/** A tiny generated tfjs layers backbone (MobileNet-like) for fixture-free tests. */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { TfjsModelBackbone, type TfjsModelDefinition } from '@rlr/backbones';

const DEF: TfjsModelDefinition = {
  format: 'layers',
  taps: ['tap1', 'tap2'],
  reductions: [2, 4],
  channels: [8, 12],
  preprocessing: 'signed-unit',
  freeInputSize: true,
};

/**
 * conv 3x3/2 (no bias) → BN → relu6 [tap1] → zero-pad → depthwise 3x3/2 valid → BN → ReLU(6) →
 * conv 1x1 with bias and relu [tap2]; seeded weights and BatchNorm statistics.
 */
export async function tinyLayersBackbone(seed: number): Promise<TfjsModelBackbone> {
  const input = tfl.input({ shape: [null, null, 3] });
  let x = tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'c1' }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: 'bn1', epsilon: 1e-3 }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.activation({ activation: 'relu6', name: 'tap1' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: 'pad2' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'valid', useBias: false, name: 'dw2' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: 'bn2' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reLU({ maxValue: 6, name: 'relu2' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 12, kernelSize: 1, activation: 'relu', name: 'tap2' }).apply(x) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: x });
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0) continue;
    layer.setWeights(
      ws.map((w, i) => {
        const n = w.size;
        const isVar = layer.getClassName() === 'BatchNormalization' && i === 3;
        const isGamma = layer.getClassName() === 'BatchNormalization' && i === 0;
        return tf.tensor(Float32Array.from({ length: n }, () => (isVar ? 0.5 + rand() : isGamma ? 0.5 + rand() : rand() - 0.5)), w.shape);
      }),
    );
  }
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler((a) => {
      artifacts = a;
      return Promise.resolve({ modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) });
    }),
  );
  model.dispose();
  return TfjsModelBackbone.load('tiny', DEF, tf.io.fromMemory(artifacts!), { weightsSource: 'generated' });
}
