/**
 * Scoring cost of the nearest-neighbour (knn) baseline at scale: a bank of 10⁶ tokens × 384
 * channels (the default) scored by `NearestDistanceIndex` without a full distance matrix.
 * Prints the bank build time, the scoring throughput in query tokens per second, the peak
 * resident memory, and what a full [queries, bank] distance matrix would have taken. A few
 * queries are checked against a brute-force scan of the (regenerated) bank.
 *
 *   npx tsx bench/knn-scale.ts [--bank 1000000] [--channels 384] [--queries 2048]
 *                              [--bank-chunk 4096] [--query-chunk 1024] [--backend wasm|cpu]
 *                              [--check 2] [--orientation]
 *
 * `--orientation` first times one chunk product both ways — the bank as the left operand
 * (`bank [m, C] · queriesᵀ [C, n]`, what the index does) and as the right one
 * (`queries [n, C] · bankᵀ [C, m]`) — in GFLOP/s, with the wasm heap each needs.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import { loadavg } from 'node:os';
import { NearestDistanceIndex } from '../src/nearest-distance.js';
import { Rng } from '../src/rng.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const backend = arg('backend', 'wasm');
const M = Number(arg('bank', '1000000'));
const C = Number(arg('channels', '384'));
const Q = Number(arg('queries', '2048'));
const bankChunk = Number(arg('bank-chunk', '4096'));
const queryChunk = Number(arg('query-chunk', '1024'));
const check = Number(arg('check', '2'));
/** Bank rows generated (and copied to the backend) at a time: the host never holds the whole bank. */
const GENERATE_ROWS = 65536;

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const peakRss = () => process.resourceUsage().maxRSS * 1024;

/** Bank rows [start, start + n): uniform [0, 1) like post-ReLU features, seeded by the block. */
function bankBlock(block: number, n: number): Float32Array {
  return new Rng(1000 + block).fillUniform(new Float32Array(n * C), 0, 1);
}

async function orientation(): Promise<void> {
  const m = bankChunk;
  const n = queryChunk;
  const bank = tf.randomUniform([m, C]) as tf.Tensor2D;
  const bankT = tf.transpose(bank) as tf.Tensor2D;
  const q = tf.randomUniform([n, C]) as tf.Tensor2D;
  const qT = tf.transpose(q) as tf.Tensor2D;
  const time = async (f: () => tf.Tensor, reps: number) => {
    await f().data(); // warm-up
    const t = performance.now();
    for (let i = 0; i < reps; i++) {
      const r = f();
      await r.data();
      r.dispose();
    }
    return (performance.now() - t) / reps;
  };
  const flops = 2 * m * n * C;
  // A fresh right operand per product, as a 10⁶ bank in chunks has (each chunk is used once per query chunk).
  const left = await time(() => tf.matMul(bank, qT), 5);
  const right = await time(() => tf.matMul(q, tf.clone(bankT)), 5);
  console.log(`orientation, one [${m} x ${C}] bank chunk against ${n} queries (${backend}):`);
  console.log(`  bank · queriesᵀ (index): ${left.toFixed(1)} ms, ${(flops / left / 1e6).toFixed(1)} GFLOP/s`);
  console.log(`  queries · bankᵀ:         ${right.toFixed(1)} ms, ${(flops / right / 1e6).toFixed(1)} GFLOP/s`);
  tf.dispose([bank, bankT, q, qT]);
}

async function main(): Promise<void> {
  await tf.setBackend(backend);
  await tf.ready();
  console.log(`knn scale: bank ${M} x ${C} (${mb(M * C * 4)} float32), ${Q} queries, chunks ${bankChunk} bank x ${queryChunk} query rows, ${backend}; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  if (process.argv.includes('--orientation')) await orientation();
  const t0 = performance.now();
  const index = new NearestDistanceIndex(C, { bankChunk, queryChunk });
  for (let start = 0, block = 0; start < M; start += GENERATE_ROWS, block++) index.add(bankBlock(block, Math.min(GENERATE_ROWS, M - start)));
  const buildS = (performance.now() - t0) / 1000;
  console.log(`bank on the backend in ${buildS.toFixed(1)} s; peak RSS so far ${mb(peakRss())}`);
  const queries = new Rng(7).fillUniform(new Float32Array(Q * C), 0, 1);
  const t1 = performance.now();
  const d = await index.nearest(queries);
  const scoreS = (performance.now() - t1) / 1000;
  const full = Q * M * 4;
  console.log(`scored ${Q} query tokens in ${scoreS.toFixed(1)} s: ${(Q / scoreS).toFixed(0)} tokens/s (${((2 * Q * M * C) / scoreS / 1e9).toFixed(1)} GFLOP/s in the products)`);
  console.log(`peak RSS ${mb(peakRss())} (the bank alone: ${mb(M * C * 4)}; a full distance matrix would be ${mb(full)}, one [bank chunk, query chunk] block is ${mb(bankChunk * queryChunk * 4)})`);
  if (check > 0) {
    // Brute force for the first `check` queries, block by block over the regenerated bank.
    const best = new Float64Array(check).fill(Infinity);
    for (let start = 0, block = 0; start < M; start += GENERATE_ROWS, block++) {
      const n = Math.min(GENERATE_ROWS, M - start);
      const rows = bankBlock(block, n);
      for (let qi = 0; qi < check; qi++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let c = 0; c < C; c++) {
            const t = queries[qi * C + c] - rows[j * C + c];
            s += t * t;
          }
          if (s < best[qi]) best[qi] = s;
        }
      }
    }
    const rel = Array.from(best, (b, i) => Math.abs(d[i] - Math.sqrt(b)) / Math.sqrt(b));
    console.log(`brute-force check of ${check} queries: max relative difference ${Math.max(...rel).toExponential(2)}`);
  }
  index.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
