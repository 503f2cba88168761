/**
 * Feature-extraction throughput of tf_efficientnet_b6 (outIndices [2, 3], RLR's levels).
 *
 *   npx tsx bench/extract.ts                       # wasm 256x256 batch 8, then cpu 128x128 batch 2
 *   npx tsx bench/extract.ts --backend wasm --size 256 --batch 8 --runs 5
 *
 * Weights: the truncated B6 fixture from ../shared when present (real layout, calibrated values),
 * else seeded random weights; the numbers do not depend on the values. The reference is a PyTorch
 * CPU build of the same network on the same 2-core machine: 0.4–0.5 s per image.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseSafetensors } from '@rlr/core';
import { EfficientNetExtractor, randomEfficientNetWeights, type TensorMap } from '../src/index.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string' },
    size: { type: 'string' },
    batch: { type: 'string' },
    runs: { type: 'string', default: '3' },
    model: { type: 'string', default: 'tf_efficientnet_b6' },
  },
});

const here = fileURLToPath(new URL('.', import.meta.url));
const fixture = resolve(here, '../../../../shared/fixtures/efficientnet/tf_efficientnet_b6.stages0-3.safetensors');

function weights(model: string): { tensors: TensorMap; source: string } {
  const path = process.env.RLR_SHARED_DIR
    ? join(process.env.RLR_SHARED_DIR, 'fixtures/efficientnet/tf_efficientnet_b6.stages0-3.safetensors')
    : fixture;
  if (model === 'tf_efficientnet_b6' && existsSync(path)) {
    return { tensors: parseSafetensors(new Uint8Array(readFileSync(path)), path).tensors, source: 'fixture' };
  }
  return { tensors: randomEfficientNetWeights(model, { seed: 0 }), source: 'random' };
}

async function bench(backend: string, size: number, batch: number, runs: number, model: string): Promise<void> {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} is not available`);
  await tf.ready();
  const { tensors, source } = weights(model);
  const net = new EfficientNetExtractor(model, tensors, { outIndices: [2, 3] });
  const images = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const once = () => {
    const outs = net.extract(images);
    outs[outs.length - 1].dataSync(); // wait for the work and read back like a caller would
    tf.dispose(outs);
  };
  once(); // warm-up: kernel setup, memory growth
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    once();
    const c = process.cpuUsage(c0);
    times.push((performance.now() - t0) / 1000);
    cpuTimes.push((c.user + c.system) / 1e6);
  }
  const cpu = cpuTimes.reduce((a, b) => a + b, 0) / cpuTimes.length;
  const best = Math.min(...times);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  console.log(
    `${model} outIndices [2, 3] ${size}x${size} batch ${batch} on ${backend} (${source} weights): ` +
      `${(batch / mean).toFixed(2)} images/s, ${(mean / batch).toFixed(3)} s/image mean, ` +
      `${(best / batch).toFixed(3)} s/image best of ${runs}; CPU time ${(cpu / batch).toFixed(3)} s/image ` +
      `(on a shared machine CPU time is the steadier number)`,
  );
  tf.dispose(images);
  net.dispose();
}

const runs = Number(values.runs);
if (values.backend) {
  const backend = values.backend;
  await bench(
    backend,
    Number(values.size ?? (backend === 'cpu' ? 128 : 256)),
    Number(values.batch ?? (backend === 'cpu' ? 2 : 8)),
    runs,
    values.model!,
  );
} else {
  await bench('wasm', Number(values.size ?? 256), Number(values.batch ?? 8), runs, values.model!);
  await bench('cpu', 128, 2, Math.min(runs, 2), values.model!);
}
