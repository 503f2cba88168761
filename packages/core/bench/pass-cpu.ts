/**
 * CPU time of one gradient pass and of one reconstruction of each official paper level (or the
 * fast preset's), on `--images` images in this thread: the numbers `compare-passes.sh` alternates
 * between two source trees. Prints one JSON line.
 *
 *   npx tsx bench/pass-cpu.ts [--src ../src] [--preset paper|fast] [--images 2] [--iters 2]
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const src = resolve(arg('src', new URL('../src', import.meta.url).pathname));
const presetName = arg('preset', 'paper');
const images = Number(arg('images', '2'));
const iters = Number(arg('iters', '2'));

interface Level {
  /** Present from the commit that added the inference cache on (the workers' replicas turn it on). */
  cacheReference?: boolean;
  config: { grid: [number, number]; channels: number };
  lossAndGradients(x: tf.Tensor, t: tf.Tensor): { loss: tf.Scalar; grads: Map<string, tf.Tensor> };
  reconstruct(x: tf.Tensor): tf.Tensor2D;
}
interface Core {
  createRLR(spec: unknown, config: unknown): { levels: Level[]; dispose(): void };
  presets: Record<string, Record<string, unknown>>;
}

const cpuMs = async (fn: () => Promise<void>) => {
  const c0 = process.cpuUsage();
  await fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function main() {
  await tf.setBackend('wasm');
  await tf.ready();
  const core = (await import(pathToFileURL(`${src}/index.ts`).href)) as Core;
  const fast = presetName === 'fast';
  // paper: 256² B6 taps 2, 3 (72 and 200 channels); fast: 256² B0 taps 2, 3 (40 and 112).
  const channels = fast ? [40, 112] : [72, 200];
  const spec = { imageSize: [256, 256], levels: [{ grid: [32, 32], channels: channels[0], reduction: 8 }, { grid: [16, 16], channels: channels[1], reduction: 16 }] };
  const model = core.createRLR(spec, core.presets[presetName]);
  const out: Record<string, number> = {};
  let seed = 1;
  for (const [li, level] of model.levels.entries()) {
    const { grid, channels } = level.config;
    const rows = images * grid[0] * grid[1];
    const x = tf.randomNormal([rows, channels], 0, 1, 'float32', seed++);
    const t = tf.randomNormal([rows, channels], 0, 1, 'float32', seed++);
    const train = async () => {
      const r = level.lossAndGradients(x, t);
      await r.loss.data();
      r.loss.dispose();
      for (const g of r.grads.values()) g.dispose();
    };
    if ('cacheReference' in level && !process.argv.includes('--no-cache')) level.cacheReference = true;
    const infer = async () => {
      const y = level.reconstruct(x);
      await y.data();
      y.dispose();
    };
    for (const [name, fn] of [['train', train], ['infer', infer]] as const) {
      await fn();
      const ms: number[] = [];
      for (let k = 0; k < iters; k++) ms.push(await cpuMs(fn));
      out[`${name}${li}`] = median(ms);
    }
    tf.dispose([x, t]);
  }
  model.dispose();
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
