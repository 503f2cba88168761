/**
 * Speed of the RLR part at the official configuration (SPEC section 5): levels 32x32x72 and
 * 16x16x200 (tf_efficientnet_b6 stages 2 and 3 at 256x256), d 256/512, 8 heads, 4 layers,
 * batch 4. Prints milliseconds per image for a training step (both levels: jitter, forward,
 * backward, Adam) and for inference (reconstruction, token scores, maps, image scores).
 *
 *   npx tsx bench/rlr-speed.ts [--backend wasm|cpu] [--iters 3] [--warmup 3] [--batch 4] [--layers 4]
 *                              [--levels 0,1] [--no-infer] [--parallel]
 *
 * `--parallel` trains each level in its own process at the same time (levels share nothing, so
 * `Trainer({ levels: [i] })` in two workers gives the same model as one joint run) and reports
 * the slower level: the train step per image a 2-core machine gets that way.
 *
 * The first batches are slower (the wasm heap grows, V8 optimises the JavaScript around the
 * kernels), so `--warmup` batches are run and discarded first.
 *
 * Reference on the 2-core development machine: PyTorch CPU ~700 ms (train step) and ~230 ms
 * (inference) per image. On a shared machine wall time includes waiting for other processes;
 * the best batch and the process CPU time are the better estimates of the speed on an idle one.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import { createRLR, FeatureBank, presets, Trainer, type RLRSpec } from '../src/index.js';
import { Rng } from '../src/rng.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const backend = arg('backend', 'wasm');
const iters = Number(arg('iters', '3'));
const warmup = Number(arg('warmup', '3'));
const batch = Number(arg('batch', '4'));
const layers = Number(arg('layers', '4'));
const onlyLevels = process.argv.includes('--levels') ? arg('levels', '0,1').split(',').map(Number) : undefined;
const infer = !process.argv.includes('--no-infer');
const json = process.argv.includes('--json');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const best = (xs: number[]) => Math.min(...xs);
const summary = (wall: number[], cpu: number[]) =>
  `best ${best(wall).toFixed(0)} / median ${median(wall).toFixed(0)} ms per image wall; ` +
  `best ${best(cpu).toFixed(0)} / median ${median(cpu).toFixed(0)} ms per image cpu (${wall.length} batches)`;

async function main() {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} failed to initialise`);
  await tf.ready();
  const spec: RLRSpec = {
    imageSize: [256, 256],
    levels: [
      { grid: [32, 32], channels: 72, reduction: 8 },
      { grid: [16, 16], channels: 200, reduction: 16 },
    ],
  };
  const model = createRLR(spec, { ...presets.paper, layers });
  console.log(`backend ${tf.getBackend()}, batch ${batch}, levels ${model.levelConfigs.map((l) => `${l.grid[0]}x${l.grid[1]}x${l.channels} d${l.d} w${l.window}`).join(' + ')}, ${layers} layers, 8 heads`);

  // Random features standing in for smoothed backbone maps.
  const rng = new Rng(1);
  const levels = spec.levels.map((l) => ({ grid: l.grid, channels: l.channels }));
  const count = batch * (iters + warmup);
  const bank = FeatureBank.fromArrays(
    levels,
    levels.map((l) => rng.fillNormal(new Float32Array(count * l.grid[0] * l.grid[1] * l.channels))),
  );

  // Training: one epoch of warmup + iters batches. Wall time is what a
  // user sees; process CPU time is also printed because on a shared machine wall time includes
  // waiting for other processes (this process computes on one thread).
  const stepMs: number[] = [];
  const stepCpuMs: number[] = [];
  let cpu = process.cpuUsage();
  let wall = performance.now();
  const trainer = new Trainer(model, {
    epochs: 1,
    batchSize: batch,
    levels: onlyLevels,
    onBatch: (r) => {
      const c = process.cpuUsage(cpu);
      const cpuMs = (c.user + c.system) / 1000 / batch;
      const ms = (performance.now() - wall) / batch;
      if (r.batch > warmup) {
        stepMs.push(ms);
        stepCpuMs.push(cpuMs);
      }
      if (!json) console.log(`  train batch ${r.batch}/${r.batches}: ${ms.toFixed(0)} ms/image wall, ${cpuMs.toFixed(0)} ms/image cpu (losses ${r.losses.map((x) => x.toFixed(3)).join(', ')})`);
      cpu = process.cpuUsage();
      wall = performance.now();
    },
  });
  await trainer.fit(bank);
  trainer.dispose();
  if (json) {
    console.log(JSON.stringify({ levels: onlyLevels ?? [0, 1], wall: stepMs, cpu: stepCpuMs }));
    model.dispose();
    return;
  }
  console.log(`train step${onlyLevels ? ` (levels ${onlyLevels.join(',')})` : ''}: ${summary(stepMs, stepCpuMs)}`);
  if (!infer) {
    model.dispose();
    return;
  }

  // Inference on the same features.
  const feats = levels.map((l, i) =>
    tf.tensor4d(bank.level(i).subarray(0, batch * l.grid[0] * l.grid[1] * l.channels), [batch, l.grid[0], l.grid[1], l.channels]),
  );
  const inferMs: number[] = [];
  const inferCpuMs: number[] = [];
  for (let k = 1 - warmup; k <= iters; k++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await model.predict(feats, { batchSize: batch });
    const ms = (performance.now() - t0) / batch;
    const c = process.cpuUsage(c0);
    const cpuMs = (c.user + c.system) / 1000 / batch;
    if (k > 0) {
      inferMs.push(ms);
      inferCpuMs.push(cpuMs);
    }
    console.log(`  inference ${k <= 0 ? '(warm-up)' : k}: ${ms.toFixed(0)} ms/image wall, ${cpuMs.toFixed(0)} ms/image cpu`);
  }
  tf.dispose(feats);
  model.dispose();
  // On a shared machine the best batch is the closest to the speed on an idle one.
  console.log(`inference:  ${summary(inferMs, inferCpuMs)}`);
}

/** Train each level in its own process at the same time; report per level and the slower one. */
async function parallel() {
  const { spawn } = await import('node:child_process');
  const args = process.argv.slice(2).filter((a) => a !== '--parallel');
  const runs = await Promise.all(
    [0, 1].map(
      (level) =>
        new Promise<{ levels: number[]; wall: number[]; cpu: number[] }>((resolve, reject) => {
          const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...args, '--levels', String(level), '--no-infer', '--json'], {
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          let out = '';
          child.stdout.on('data', (d) => (out += d));
          child.on('exit', (code) => {
            const line = out.split('\n').find((l) => l.startsWith('{'));
            if (code !== 0 || !line) reject(new Error(`level ${level} worker failed (exit ${code})`));
            else resolve(JSON.parse(line));
          });
        }),
    ),
  );
  for (const r of runs) console.log(`train step, level ${r.levels[0]} in its own process: ${summary(r.wall, r.cpu)}`);
  const slower = (pick: (r: { wall: number[]; cpu: number[] }) => number[], f: (x: number[]) => number) => Math.max(...runs.map((r) => f(pick(r))));
  console.log(
    `train step, levels in parallel: best ${slower((r) => r.wall, best).toFixed(0)} / median ${slower((r) => r.wall, median).toFixed(0)} ms per image wall; ` +
      `best ${slower((r) => r.cpu, best).toFixed(0)} / median ${slower((r) => r.cpu, median).toFixed(0)} ms per image cpu (the slower level)`,
  );
}

(process.argv.includes('--parallel') ? parallel() : main()).catch((e) => {
  console.error(e);
  process.exit(1);
});
