/**
 * Speed of the RLR part at the official configuration (SPEC section 5): levels 32x32x72 and
 * 16x16x200 (tf_efficientnet_b6 stages 2 and 3 at 256x256), d 256/512, 8 heads, 4 layers,
 * batch 4. Prints milliseconds per image for a training step (both levels: jitter, forward,
 * backward, Adam) and for inference (reconstruction, token scores, maps, image scores), first in
 * this thread (serial) and then split over a worker pool (`@rlr/core/node`, one backend per
 * worker thread), with the ratio.
 *
 *   npx tsx bench/rlr-speed.ts [--backend wasm|cpu] [--iters 3] [--warmup 1] [--batch 4] [--layers 4]
 *                              [--workers auto|<n>] [--levels 0,1] [--no-serial] [--no-parallel] [--no-infer]
 *
 * The first batches are slower (the wasm heap grows, V8 optimises the JavaScript around the
 * kernels), so `--warmup` batches are run and discarded first.
 *
 * Reference on the 2-core development machine: PyTorch CPU ~700 ms (train step) and ~230 ms
 * (inference) per image. On a shared machine wall time includes waiting for other processes:
 * compare serial and parallel within one run (the ratio), and check `uptime` first. CPU time is
 * the process's (all threads); a parallel run with W workers ideally shows W times its wall time.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import { loadavg } from 'node:os';
import { createRLR, FeatureBank, presets, Trainer, type RLRModel, type RLRSpec, type TrainingPool } from '../src/index.js';
import { createWorkerPool, ParallelTrainingSession, type WorkerPool } from '../src/node/index.js';
import { Rng } from '../src/rng.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const backend = arg('backend', 'wasm');
const iters = Number(arg('iters', '3'));
const warmup = Number(arg('warmup', '1'));
const batch = Number(arg('batch', '4'));
const layers = Number(arg('layers', '4'));
const workersArg = arg('workers', 'auto');
const onlyLevels = process.argv.includes('--levels') ? arg('levels', '0,1').split(',').map(Number) : undefined;
const infer = !process.argv.includes('--no-infer');
const serial = !process.argv.includes('--no-serial');
const parallel = !process.argv.includes('--no-parallel');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const best = (xs: number[]) => Math.min(...xs);

interface Timing {
  wall: number[];
  cpu: number[];
}
const summary = (t: Timing) =>
  `best ${best(t.wall).toFixed(0)} / median ${median(t.wall).toFixed(0)} ms per image wall; ` +
  `median ${median(t.cpu).toFixed(0)} ms per image cpu, all threads (${t.wall.length} batches)`;

const spec: RLRSpec = {
  imageSize: [256, 256],
  levels: [
    { grid: [32, 32], channels: 72, reduction: 8 },
    { grid: [16, 16], channels: 200, reduction: 16 },
  ],
};
const levels = spec.levels.map((l) => ({ grid: l.grid, channels: l.channels }));

/** One epoch of warmup + iters batches; per-batch wall and process CPU time per image. */
async function trainSteps(model: RLRModel, bank: FeatureBank, pool?: TrainingPool, phases?: () => string): Promise<Timing> {
  const t: Timing = { wall: [], cpu: [] };
  let cpu = process.cpuUsage();
  let wall = performance.now();
  const trainer = new Trainer(model, {
    epochs: 1,
    batchSize: batch,
    levels: onlyLevels,
    pool,
    onBatch: (r) => {
      const c = process.cpuUsage(cpu);
      const cpuMs = (c.user + c.system) / 1000 / batch;
      const ms = (performance.now() - wall) / batch;
      if (r.batch > warmup) {
        t.wall.push(ms);
        t.cpu.push(cpuMs);
      }
      console.log(`  train batch ${r.batch}/${r.batches}${r.batch <= warmup ? ' (warm-up)' : ''}: ${ms.toFixed(0)} ms/image wall, ${cpuMs.toFixed(0)} ms/image cpu (losses ${r.losses.map((x) => x.toFixed(4)).join(', ')})${phases ? `; ${phases()}` : ''}`);
      cpu = process.cpuUsage();
      wall = performance.now();
    },
  });
  await trainer.fit(bank);
  trainer.dispose();
  return t;
}

/** Inference of one batch, warmup + iters times. */
async function inferSteps(run: () => Promise<unknown>): Promise<Timing> {
  const t: Timing = { wall: [], cpu: [] };
  for (let k = 1 - warmup; k <= iters; k++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await run();
    const ms = (performance.now() - t0) / batch;
    const c = process.cpuUsage(c0);
    const cpuMs = (c.user + c.system) / 1000 / batch;
    if (k > 0) {
      t.wall.push(ms);
      t.cpu.push(cpuMs);
    }
    console.log(`  inference ${k <= 0 ? '(warm-up)' : k}: ${ms.toFixed(0)} ms/image wall, ${cpuMs.toFixed(0)} ms/image cpu`);
  }
  return t;
}

/** Capture the phase timings of the pool's training sessions. */
function timedPool(pool: WorkerPool): { pool: TrainingPool; sessions: ParallelTrainingSession[] } {
  const sessions: ParallelTrainingSession[] = [];
  return {
    sessions,
    pool: {
      size: pool.size,
      startTraining: async (model, setup) => {
        const s = (await pool.startTraining(model, setup)) as ParallelTrainingSession;
        sessions.push(s);
        return s;
      },
    },
  };
}

async function main() {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} failed to initialise`);
  await tf.ready();
  const modelConfig = { ...presets.paper, layers };
  const probe = createRLR(spec, modelConfig);
  console.log(
    `backend ${tf.getBackend()}, batch ${batch}, levels ${probe.levelConfigs.map((l) => `${l.grid[0]}x${l.grid[1]}x${l.channels} d${l.d} w${l.window}`).join(' + ')}, ` +
      `${layers} layers, 8 heads; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`,
  );
  probe.dispose();

  // Random features standing in for smoothed backbone maps.
  const rng = new Rng(1);
  const count = batch * (iters + warmup);
  const bank = FeatureBank.fromArrays(
    levels,
    levels.map((l) => rng.fillNormal(new Float32Array(count * l.grid[0] * l.grid[1] * l.channels))),
  );
  const feats = levels.map((l, i) => bank.level(i).subarray(0, batch * l.grid[0] * l.grid[1] * l.channels));
  const results: Record<string, { train: Timing; infer?: Timing }> = {};

  if (serial) {
    console.log('serial (this thread):');
    const model = createRLR(spec, modelConfig);
    const train = await trainSteps(model, bank);
    let inferT: Timing | undefined;
    if (infer) {
      const tensors = feats.map((f, i) => tf.tensor4d(f, [batch, levels[i].grid[0], levels[i].grid[1], levels[i].channels]));
      inferT = await inferSteps(() => model.predict(tensors, { batchSize: batch }));
      tf.dispose(tensors);
    }
    model.dispose();
    results.serial = { train, infer: inferT };
  }

  if (parallel) {
    const t0 = performance.now();
    const pool = await createWorkerPool({
      backend,
      backendModule: backend === 'cpu' ? '@tensorflow/tfjs-backend-cpu' : '@tensorflow/tfjs-backend-wasm',
      workers: workersArg === 'auto' ? 'auto' : Number(workersArg),
    });
    console.log(`parallel (${pool.size} worker threads, started in ${((performance.now() - t0) / 1000).toFixed(1)} s):`);
    try {
      const model = createRLR(spec, modelConfig);
      const timed = timedPool(pool);
      let seen = { steps: 0, gradients: 0, apply: 0 };
      // Phases of the batch just done: the workers' gradients, then the sum and Adam step in every worker.
      const phases = () => {
        const now = { ...timed.sessions[0].timings };
        const d = (k: 'gradients' | 'apply') => (now[k] - seen[k]).toFixed(0);
        const text = `gradients ${d('gradients')} ms, sum + Adam ${d('apply')} ms per batch`;
        seen = now;
        return text;
      };
      const train = await trainSteps(model, bank, timed.pool, phases);
      let inferT: Timing | undefined;
      if (infer) {
        const predictor = await pool.predictor(model);
        inferT = await inferSteps(() => predictor.predict(feats, { batchSize: batch }));
        await predictor.close();
      }
      model.dispose();
      results[`parallel`] = { train, infer: inferT };
    } finally {
      await pool.close();
    }
    console.log(`(${pool.size} workers)`);
  }

  console.log('');
  for (const [name, r] of Object.entries(results)) {
    console.log(`${name.padEnd(8)} train step${onlyLevels ? ` (levels ${onlyLevels.join(',')})` : ''}: ${summary(r.train)}`);
    if (r.infer) console.log(`${name.padEnd(8)} inference:  ${summary(r.infer)}`);
  }
  if (results.serial && results.parallel) {
    const ratio = (a: Timing, b: Timing) => (median(a.wall) / median(b.wall)).toFixed(2);
    console.log(`speed-up (median wall, serial / parallel): train step ${ratio(results.serial.train, results.parallel.train)}x` +
      (results.serial.infer && results.parallel.infer ? `, inference ${ratio(results.serial.infer, results.parallel.infer)}x` : ''));
  }
  console.log(`load average at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
