// Loads a model folder in a fresh process and prints [score, normalizedScore] per image as JSON
// (used by detector.test.ts): node score-in-fresh-process.mjs <model-dir> <image>...
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { Detector } from '@rlr/engine/node';

await tf.setBackend('wasm');
await tf.ready();
const [modelDir, ...paths] = process.argv.slice(2);
const detector = await Detector.load(modelDir);
const out = [];
for (const p of paths) {
  const r = await detector.predict(p);
  out.push([r.score, r.normalizedScore]);
}
detector.dispose();
process.stdout.write(JSON.stringify(out));
