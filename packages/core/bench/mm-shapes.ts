/**
 * Milliseconds of single matrix products and transposes on wasm (this thread), for choosing how
 * to arrange the attention backward: `npx tsx bench/mm-shapes.ts`.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { transpose2d } from '../src/row-kernels.js';

async function main() {
  await tf.setBackend('wasm');
  await tf.ready();
  const time = (name: string, fn: () => tf.Tensor, reps = 20) => {
    for (let i = 0; i < 3; i++) fn().dispose();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn().dispose();
    console.log(`${name.padEnd(50)} ${((performance.now() - t0) / reps).toFixed(2)} ms`);
  };
  const p = tf.randomNormal([1024, 1024]) as tf.Tensor2D;
  const q = tf.randomNormal([1024, 32]) as tf.Tensor2D;
  const qT = tf.randomNormal([32, 1024]) as tf.Tensor2D;
  time('fresh right: [32,1024]x[1024,1024] (clone)', () => tf.tidy(() => tf.matMul(qT, tf.clone(p))));
  time('clone [1024,1024]', () => tf.clone(p));
  time('same right: [32,1024]x[1024,1024]', () => tf.matMul(qT, p));
  time('[1024,1024]x[1024,32] fresh small right', () => tf.tidy(() => tf.matMul(p, tf.clone(q))));
  time('transpose2d [1024,1024]', () => transpose2d(p));
  time('tf.transpose [1024,1024]', () => tf.transpose(p));
  time('[1024,32]x[32,1024] fresh', () => tf.tidy(() => tf.matMul(q, tf.clone(qT))));
  const a = tf.randomNormal([2048, 256]) as tf.Tensor2D;
  const b = tf.randomNormal([256, 1024]) as tf.Tensor2D;
  const c = tf.randomNormal([2048, 1024]) as tf.Tensor2D;
  time('fwd [2048,256]x[256,1024] fresh', () => tf.tidy(() => tf.matMul(a, tf.clone(b))), 5);
  time('[256,2048]x[2048,1024] fresh', () => tf.tidy(() => tf.matMul(transpose2d(a), tf.clone(c))), 5);
  time('[1024,2048]x[2048,256] fresh', () => tf.tidy(() => tf.matMul(transpose2d(c), tf.clone(a))), 5);
  time('exp [2048,1024]', () => tf.exp(c), 5);
  time('mul [2048,1024]', () => tf.mul(c, c), 5);
}
void main();
