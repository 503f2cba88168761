/**
 * Memory and time of scoring one large image on tiles (`--tile`): a generated `--width` x
 * `--height` PNG (default 4000 x 3000) is decoded, cut into `--tile` tiles at `--stride`, every
 * tile goes through the backbone and an (untrained: the cost does not depend on the weights) RLR
 * model of the `--preset`, the tile maps are stitched into one full-size map and the image score
 * is taken from it. Prints the tile count, the time, the peak resident memory (maxRSS) and the
 * buffers whose size grows with the image (the decoded image, the stitched map, the blur buffer),
 * next to what holding every tile as float32 at once would take.
 *
 *   npx tsx bench/tile-memory.ts [--width 4000] [--height 3000] [--tile 256] [--stride 128]
 *                                [--preset demo] [--batch 8] [--backend wasm]
 *
 * Run it at two image sizes to see that the peak grows by the image-size buffers only.
 */
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { createRLR, specFromFeatureInfo } from '@rlr/core';
import { readTiledImage } from '@rlr/data/node';
import { initBackend, parseBackendName } from '../src/backend.js';
import { loadBackbone } from '../src/backbone.js';
import { Logger } from '../src/log.js';
import { getPreset } from '../src/presets.js';
import { scoreImages } from '../src/scorer.js';
import { scoreTiledImage } from '@rlr/engine/node';

const { values } = parseArgs({
  options: {
    width: { type: 'string', default: '4000' },
    height: { type: 'string', default: '3000' },
    tile: { type: 'string', default: '256' },
    stride: { type: 'string' },
    preset: { type: 'string', default: 'demo' },
    batch: { type: 'string', default: '8' },
    backend: { type: 'string', default: 'wasm' },
  },
});
const W = Number(values.width);
const H = Number(values.height);
const T = Number(values.tile);
const S = Number(values.stride ?? Math.floor(T / 2));
const batch = Number(values.batch);
const preset = getPreset(values.preset);
if (!preset) throw new Error(`unknown --preset ${values.preset}`);
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

const backend = await initBackend(parseBackendName(values.backend));
const log = new Logger('quiet', process.stdout, process.stderr);

/** Writes a textured test image (smooth noise) as PNG, like a camera frame; its pixels are not kept. */
async function writeTestImage(path: string): Promise<void> {
  const noise = new Uint8Array(W * H * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (Math.sin(i * 0.0007) * 60 + ((i * 2654435761) % 97)) & 255;
  await writeFile(path, await sharp(noise, { raw: { width: W, height: H, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer());
}
const path = join(tmpdir(), `rlr-tile-memory-${W}x${H}.png`);
await writeTestImage(path);
const rssBefore = process.memoryUsage().rss;

const calibration = tf.randomUniform([4, T, T, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
const { extractor } = await loadBackbone({ name: preset.model.backbone, outIndices: preset.model.outIndices, weights: 'random', seed: 0, offline: true, cwd: process.cwd() }, log, async () => calibration.clone());
calibration.dispose();
const model = createRLR(specFromFeatureInfo(extractor.featureInfo, [T, T]), {
  d: preset.model.hidden,
  heads: preset.model.heads,
  layers: preset.model.layers,
  ffnRatio: preset.model.ffnRatio,
  alpha: preset.model.alpha,
  jitterScale: preset.model.jitterScale,
  seed: preset.train.seed,
});

const t0 = performance.now();
const img = await readTiledImage({ path, category: 'bench', label: 0, defectType: 'good' }, { tile: [T, T], stride: [S, S] });
const tDecode = performance.now();
let maxTensors = 0;
const r = await scoreTiledImage(
  img,
  async (b) => {
    const out = await scoreImages(extractor, model, b);
    maxTensors = Math.max(maxTensors, tf.memory().numTensors);
    return out;
  },
  batch,
);
const seconds = (performance.now() - t0) / 1000;
const peak = process.resourceUsage().maxRSS * 1024;

const tiles = img.grid.tiles.length;
const growing = { image: img.pixels.data.byteLength, map: r.map.byteLength, blur: r.map.byteLength };
console.log(`image ${W}x${H}, ${tiles} tiles of ${T}x${T} at stride ${S} (${img.grid.rows.length} rows x ${img.grid.cols.length} columns), preset ${preset.name} (${preset.model.backbone}), batch ${batch}, backend ${backend}`);
console.log(`time: ${seconds.toFixed(1)} s (decode ${((tDecode - t0) / 1000).toFixed(1)} s, ${((seconds * 1000) / tiles).toFixed(0)} ms/tile); image score ${r.score.toPrecision(4)}`);
console.log(`peak RSS: ${mb(peak)} (${mb(rssBefore)} before the model was built); tensors alive at most: ${maxTensors}, after: ${tf.memory().numTensors}`);
console.log(`image-size buffers: decoded image ${mb(growing.image)} + stitched map ${mb(growing.map)} + blur buffer ${mb(growing.blur)} = ${mb(growing.image + growing.map + growing.blur)}`);
console.log(`for comparison, every tile as float32 at once: ${mb(tiles * T * T * 3 * 4)}; every tile map: ${mb(tiles * T * T * 4)}`);
model.dispose();
extractor.dispose();
