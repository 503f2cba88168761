import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '@rlr/data/node';
import { binBuilt, jsonLines, runBin } from './bin-helpers.js';
import { TINY, tempFolder } from './faults/fault-helpers.js';

/* End to end: --tile and --resize-mode through train, eval and predict on generated 128 px images. */
let root: string;
let data: string;
let wide: string;

beforeAll(async () => {
  root = await tempFolder('tiling');
  data = join(root, 'data');
  await generateDataset({ root: data, categories: ['grid'], trainCount: 4, testCount: 3, size: 128, seed: 5 });
  wide = join(root, 'wide.png');
  await sharp(join(data, 'grid', 'test', 'good', '000.png')).resize(256, 128, { fit: 'fill' }).toFile(wide);
});

async function predictions(dir: string): Promise<Record<string, unknown>[]> {
  return (await readFile(join(dir, 'predictions.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe.skipIf(!binBuilt)('tiling and resize modes end to end', () => {
  it('--tile: trains on tiles, records the tiling, evaluates and predicts full-resolution maps', async () => {
    const run = join(root, 'tiled');
    const t = await runBin(['train', '--data', data, '--format', 'mvtec', ...TINY, '--tile', '64', '--tile-stride', '48', '--epochs', '1', '--out', run, '--json']);
    expect(t.code, t.stderr.slice(-1500)).toBe(0);
    // 128 px images, 64 px tiles at stride 48: starts 0, 48, 64 per axis → 9 tiles an image.
    const features = jsonLines(t.stdout).find((e) => e.event === 'features');
    expect(features).toMatchObject({ tiles: 9 * Number(features?.images) });
    const config = JSON.parse(await readFile(join(run, 'model', 'config.json'), 'utf8')) as { metadata?: { preprocessing?: unknown }; preprocessing?: unknown };
    expect(JSON.stringify(config)).toContain('"tile":{"size":[64,64],"stride":[48,48],"scale":1}');

    const e = await runBin(['eval', '--model', run, '--workers', '1', '--json']);
    expect(e.code, e.stderr.slice(-1500)).toBe(0);
    const metrics = JSON.parse(await readFile(join(run, 'report', 'metrics.json'), 'utf8')) as { categories: Record<string, { pixel: { auroc: number } | null }> };
    expect(metrics.categories.grid.pixel?.auroc).toBeGreaterThan(0);
    // The gallery shows the whole 128x128 images (under the 384 px gallery limit: not shrunk).
    const overlays = (await readdir(join(run, 'report', 'gallery'))).filter((f) => f.endsWith('_overlay.png'));
    expect(overlays.length).toBeGreaterThan(0);
    const g = await sharp(join(run, 'report', 'gallery', overlays[0])).metadata();
    expect([g.height, g.width]).toEqual([128, 128]);

    const out = join(root, 'pred-tiled');
    const p = await runBin(['predict', '--model', run, '--workers', '1', '--out', out, '--tile-stride', '32', wide, '--json']);
    expect(p.code, p.stderr.slice(-1500)).toBe(0);
    const [line] = await predictions(out);
    expect(line).toMatchObject({ resize_mode: 'tile', tiles: 3 * 7, map_size: [128, 256], region: { top: 0, left: 0, height: 128, width: 256 } });
    // Thresholds fitted on the stitched maps of normal training images, and predict labels with them.
    const pp = JSON.parse(await readFile(join(run, 'model', 'postprocessor.json'), 'utf8')) as { source: string; images: number; image: { threshold: number } };
    expect(pp.source).toMatch(/normals$/);
    expect(pp.images).toBeGreaterThan(0);
    expect(line.threshold).toBe(pp.image.threshold);
    expect(line.label).toBe((line.score as number) >= pp.image.threshold ? 1 : 0);
    const meta = await sharp(line.heatmap as string).metadata();
    expect([meta.height, meta.width]).toEqual([128, 256]);
  });

  it('--resize-mode fit is recorded and scores the whole image; crop reports the region it kept and warns', async () => {
    const run = join(root, 'fit');
    const t = await runBin(['train', '--data', data, '--format', 'mvtec', ...TINY, '--resize-mode', 'fit', '--epochs', '1', '--out', run]);
    expect(t.code, t.stderr.slice(-1500)).toBe(0);
    const fit = join(root, 'pred-fit');
    expect((await runBin(['predict', '--model', run, '--workers', '1', '--out', fit, wide])).code).toBe(0);
    expect((await predictions(fit))[0]).toMatchObject({ resize_mode: 'fit', region: { top: 0, left: 0, height: 128, width: 256 } });

    const crop = join(root, 'pred-crop');
    // Without a threshold each overlay spans its own map's range, so the placed map shows (with the
    // model's threshold, fitted on normals, a normal-looking image stays uncoloured).
    await rm(join(run, 'model', 'postprocessor.json'));
    const c = await runBin(['predict', '--model', run, '--workers', '1', '--out', crop, '--resize-mode', 'crop', '--overlay-size', 'source', wide, '--json']);
    expect(c.code, c.stderr.slice(-1500)).toBe(0);
    const [line] = await predictions(crop);
    expect(line).toMatchObject({ resize_mode: 'crop', region: { top: 0, left: 64, height: 128, width: 128 } });
    // --overlay-size source: the overlay is the original 128x256 image; outside the crop region
    // (columns 0-63 and 192-255) the map is not placed, so those pixels are the image's own.
    const { data: over, info } = await sharp(line.heatmap as string).raw().toBuffer({ resolveWithObject: true });
    expect([info.height, info.width]).toEqual([128, 256]);
    const { data: orig } = await sharp(wide).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const at = (buf: Buffer, y: number, x: number) => Array.from(buf.subarray((y * 256 + x) * 3, (y * 256 + x) * 3 + 3));
    expect(at(over, 60, 10)).toEqual(at(orig, 60, 10));
    expect(at(over, 60, 250)).toEqual(at(orig, 60, 250));
    const coloured = Array.from({ length: 128 }, (_, k) => 64 + k).filter((x) => at(over, 60, x).join() !== at(orig, 60, x).join());
    expect(coloured.length).toBeGreaterThan(64);
    const warnings = jsonLines(c.stdout).filter((e) => e.event === 'warning').map((e) => e.message as string);
    expect(warnings.some((w) => /centre crop 64x64 dropped the borders of 1 of 1 image.*kept 50%.*--resize-mode fit/.test(w))).toBe(true);
  });

  it('refuses a stride larger than the tile, naming --tile-stride', async () => {
    const r = await runBin(['train', '--data', data, '--format', 'mvtec', ...TINY, '--tile', '64', '--tile-stride', '65', '--out', join(root, 'bad')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--tile-stride: the stride height 65 is larger than the tile height 64/);
    expect(r.stderr).toMatch(/fix: Pass --tile-stride 64 or less/);
  });
});
