/**
 * Feature-extraction throughput of tf_efficientnet_b6 (outIndices [2, 3], RLR's levels), in this
 * thread (serial) and split over an `@rlr/core/node` worker pool (parallel), with the ratio.
 *
 *   npx tsx bench/extract.ts                       # wasm 256x256 batch 8, then cpu 128x128 batch 2
 *   npx tsx bench/extract.ts --backend wasm --size 256 --batch 8 --runs 5 --workers 2
 *   npx tsx bench/extract.ts --backend wasm --no-serial
 *
 * Weights: the truncated B6 fixture from ../shared when present (real layout, calibrated values),
 * else seeded random weights; the numbers do not depend on the values. The reference is a PyTorch
 * CPU build of the same network on the same 2-core machine: 0.4–0.5 s per image. On a shared
 * machine compare serial and parallel within one run (check `uptime`).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { parseSafetensors } from '@rlr/core';
import { createWorkerPool } from '@rlr/core/node';
import { EfficientNetExtractor, randomEfficientNetWeights, type TensorMap } from '../src/index.js';
import { backboneRecipe } from '../src/node/index.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string' },
    size: { type: 'string' },
    batch: { type: 'string' },
    runs: { type: 'string', default: '3' },
    model: { type: 'string', default: 'tf_efficientnet_b6' },
    workers: { type: 'string', default: 'auto' },
    'no-serial': { type: 'boolean' },
    'no-parallel': { type: 'boolean' },
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

interface Run {
  /** Seconds per batch of each timed run. */
  times: number[];
  /** Process CPU seconds (all threads) per batch. */
  cpu: number[];
}

/** One untimed warm-up (kernel setup, memory growth), then `runs` timed batches. */
async function time(runs: number, once: () => Promise<void>): Promise<Run> {
  await once();
  const r: Run = { times: [], cpu: [] };
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await once();
    const c = process.cpuUsage(c0);
    r.times.push((performance.now() - t0) / 1000);
    r.cpu.push((c.user + c.system) / 1e6);
  }
  return r;
}

function report(label: string, r: Run, batch: number): number {
  const mean = r.times.reduce((a, b) => a + b, 0) / r.times.length;
  const cpu = r.cpu.reduce((a, b) => a + b, 0) / r.cpu.length;
  console.log(
    `  ${label}: ${(batch / mean).toFixed(2)} images/s, ${(mean / batch).toFixed(3)} s/image mean, ` +
      `${(Math.min(...r.times) / batch).toFixed(3)} s/image best of ${r.times.length}; CPU time (all threads) ${(cpu / batch).toFixed(3)} s/image`,
  );
  return batch / mean;
}

async function bench(backend: string, size: number, batch: number, runs: number, model: string): Promise<void> {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} is not available`);
  await tf.ready();
  const { tensors, source } = weights(model);
  const net = new EfficientNetExtractor(model, tensors, { outIndices: [2, 3] });
  const images = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  console.log(`${model} outIndices [2, 3] ${size}x${size} batch ${batch} on ${backend} (${source} weights), load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}:`);
  let serial: number | undefined;
  if (!values['no-serial']) {
    const r = await time(runs, async () => {
      const outs = net.extract(images);
      await Promise.all(outs.map((o) => o.data())); // wait for the work and read back like a caller would
      tf.dispose(outs);
    });
    serial = report('serial (this thread)', r, batch);
  }
  if (!values['no-parallel']) {
    const pool = await createWorkerPool({
      backend,
      backendModule: backend === 'cpu' ? '@tensorflow/tfjs-backend-cpu' : '@tensorflow/tfjs-backend-wasm',
      workers: values.workers === 'auto' ? 'auto' : Number(values.workers),
    });
    try {
      const remote = await pool.createExtractor(await backboneRecipe(net));
      const data = (await images.data()) as Float32Array;
      const r = await time(runs, async () => {
        await remote.extract({ images: data, height: size, width: size });
      });
      const parallel = report(`parallel (${pool.size} workers)`, r, batch);
      if (serial) console.log(`  speed-up: ${(parallel / serial).toFixed(2)}x`);
      await remote.dispose();
    } finally {
      await pool.close();
    }
  }
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
    values.model,
  );
} else {
  await bench('wasm', Number(values.size ?? 256), Number(values.batch ?? 8), runs, values.model);
  await bench('cpu', 128, 2, Math.min(runs, 2), values.model);
}
