/**
 * Speed of the synthetic dataset generator.
 *
 *   npx tsx bench/generate.ts [--categories weave,grid,cloudy,wood,disc] [--train 40] [--test 30] [--size 256]
 *
 * Writes into a temporary folder (removed afterwards) and prints seconds and images per second.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateDataset } from '../src/node/index.js';

const { values } = parseArgs({
  options: {
    categories: { type: 'string', default: 'weave,grid,cloudy,wood,disc' },
    train: { type: 'string', default: '40' },
    test: { type: 'string', default: '30' },
    size: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '2' },
  },
});
const categories = values.categories.split(',');
const root = mkdtempSync(join(tmpdir(), 'rlr-generate-'));
try {
  for (let round = 0; round < Number(values.rounds); round++) {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    await generateDataset({ root, categories, trainCount: Number(values.train), testCount: Number(values.test), size: Number(values.size), seed: round, overwrite: true });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const images = categories.length * (Number(values.train) + Number(values.test));
    console.log(
      `round ${round + 1}: ${categories.length} categories x (${values.train} train + ${values.test} test) at ${values.size}px = ${images} images in ${seconds.toFixed(2)} s ` +
        `(${(images / seconds).toFixed(0)} images/s, ${((cpu.user + cpu.system) / 1000 / images).toFixed(1)} ms CPU per image)`,
    );
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
