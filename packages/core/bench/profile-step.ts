/**
 * Where the time of one gradient pass goes: runs `lossAndGradients` of each official level on
 * `--images` images (2 = one worker's share of a batch of 4 on 2 workers) in this thread, prints
 * the wall time per pass and then, from `tf.profile`, the kernels that took the most time,
 * grouped by kernel name and input shapes.
 *
 *   npx tsx bench/profile-step.ts [--images 2] [--iters 2] [--top 40] [--levels 0,1] [--no-profile]
 *       [--preset paper|fast] [--infer [--no-cache]]
 *
 * --preset fast: the fast preset's widths at 256² EfficientNet-B0 levels (40 and 112 channels);
 * --infer: profile a reconstruction (inference, reference side cached as the workers' replicas
 * do; --no-cache: recomputed per call, as before the cache) instead of a gradient pass.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { loadavg } from 'node:os';
import { createRLR, presets, type RLRSpec } from '../src/index.js';
import { disposeGradients } from '../src/gradients.js';
import { Rng } from '../src/rng.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const images = Number(arg('images', '2'));
const iters = Number(arg('iters', '2'));
const top = Number(arg('top', '40'));
const levelsArg = arg('levels', '0,1').split(',').map(Number);
const profile = !process.argv.includes('--no-profile');
const presetName = arg('preset', 'paper') === 'fast' ? 'fast' : 'paper';
const infer = process.argv.includes('--infer');
const channels = presetName === 'fast' ? [40, 112] : [72, 200];

const spec: RLRSpec = {
  imageSize: [256, 256],
  levels: [
    { grid: [32, 32], channels: channels[0], reduction: 8 },
    { grid: [16, 16], channels: channels[1], reduction: 16 },
  ],
};

async function main() {
  await tf.setBackend('wasm');
  await tf.ready();
  console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const model = createRLR(spec, presets[presetName]);
  const rng = new Rng(1);
  for (const li of levelsArg) {
    const level = model.levels[li];
    const { grid, channels } = level.config;
    const rows = images * grid[0] * grid[1];
    const x = tf.tensor2d(rng.fillNormal(new Float32Array(rows * channels)), [rows, channels]);
    const t = tf.tensor2d(rng.fillNormal(new Float32Array(rows * channels)), [rows, channels]);
    level.cacheReference = infer && !process.argv.includes('--no-cache');
    const pass = async () => {
      if (infer) {
        const y = level.reconstruct(x);
        await y.data();
        y.dispose();
        return;
      }
      const r = level.lossAndGradients(x, t);
      await r.loss.data();
      r.loss.dispose();
      disposeGradients(r.grads);
    };
    await pass(); // warm-up
    const walls: number[] = [];
    const cpus: number[] = [];
    for (let k = 0; k < iters; k++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      await pass();
      const c = process.cpuUsage(c0);
      walls.push(performance.now() - t0);
      cpus.push((c.user + c.system) / 1000);
    }
    console.log(`level ${li} (${grid[0]}x${grid[1]}, ${images} images, ${presetName}, ${infer ? 'inference' : 'training'}): ${walls.map((w) => w.toFixed(0)).join(', ')} ms per pass wall, cpu ${cpus.map((w) => w.toFixed(0)).join(', ')}`);
    if (profile) {
      const tp = performance.now();
      const info = await tf.profile(pass);
      console.log(`  profiled pass ${(performance.now() - tp).toFixed(0)} ms wall`);
      const groups = new Map<string, { ms: number; count: number }>();
      let total = 0;
      for (const k of info.kernels) {
        const ms = k.kernelTimeMs as number;
        total += ms;
        const key = `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join(' ')}`;
        const g = groups.get(key) ?? { ms: 0, count: 0 };
        g.ms += ms;
        g.count += 1;
        groups.set(key, g);
      }
      const byName = new Map<string, number>();
      for (const k of info.kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + (k.kernelTimeMs as number));
      console.log(`  ${info.kernels.length} kernels, ${total.toFixed(0)} ms in kernels`);
      console.log(`  by kernel: ${[...byName].sort((a, b) => b[1] - a[1]).map(([n, ms]) => `${n} ${ms.toFixed(0)}`).join(', ')}`);
      for (const [key, g] of [...groups].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
        console.log(`  ${g.ms.toFixed(1).padStart(8)} ms ${String(g.count).padStart(4)}x  ${key}`);
      }
    }
    tf.dispose([x, t]);
  }
  model.dispose();
  console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
