/**
 * Decode + resize + crop throughput of the Node image pipeline on KolektorSDD.
 *
 *   npx tsx bench/decode-throughput.ts [--resize 256] [--crop 640x256] [--batch 8] [--concurrency N] [--dir PATH]
 *
 * KolektorSDD images are about 500 wide and 1250 high (8-bit grayscale JPEG). `--crop` is
 * HEIGHTxWIDTH, so the default 640x256 keeps the tall aspect: the shorter side (the width) is
 * resized to 256 and a 640-high, 256-wide window is cut from the middle. Reads every image of
 * good/ and defect/ (with masks) through `batches`, the loader training uses.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { requireShared } from '@rlr/testing';
import { batches, loadFolder } from '../src/node/index.js';
import { defaultConcurrency } from '../src/node/batches.js';

const { values } = parseArgs({
  options: {
    resize: { type: 'string', default: '256' },
    crop: { type: 'string', default: '640x256' },
    batch: { type: 'string', default: '8' },
    concurrency: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    dir: { type: 'string' },
  },
});
const dir = values.dir ?? requireShared('data/kolektorsdd');
if (!dir) {
  console.error('KolektorSDD not found: pass --dir PATH (a folder with good/, defect/ and masks/).');
  process.exit(2);
}
const [ch, cw] = values.crop.split('x').map(Number);
const resize = Number(values.resize);
const concurrency = values.concurrency ? Number(values.concurrency) : undefined;
const ds = await loadFolder({ root: dir, normalDir: 'good', abnormalDir: 'defect', maskDir: 'masks', holdOut: 0 });
const samples = [...ds.train, ...ds.test];
console.log(`KolektorSDD: ${samples.length} images (${ds.test.length} with masks), resize ${resize}, crop ${ch}x${cw} (h x w), batch ${values.batch}, concurrency ${concurrency ?? `${defaultConcurrency()} (default)`}, ${availableParallelism()} CPUs`);

for (let round = 0; round < Number(values.rounds); round++) {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let images = 0;
  let shape = '';
  for await (const b of batches(samples, { batchSize: Number(values.batch), resize, crop: [ch, cw], concurrency })) {
    images += b.samples.length;
    shape = `[${b.samples.length}, ${b.height}, ${b.width}, 3]`;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  // CPU time per image (all threads) is steadier than wall time on a shared machine.
  const cpuMs = (cpu.user + cpu.system) / 1000 / images;
  console.log(
    `round ${round + 1}: ${images} images in ${seconds.toFixed(2)} s = ${(images / seconds).toFixed(0)} images/s; ` +
      `${cpuMs.toFixed(1)} ms CPU per image (at most ${((1000 / cpuMs) * availableParallelism()).toFixed(0)} images/s on ${availableParallelism()} idle cores); batch ${shape}`,
  );
}
