import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type BrowserContext } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImage, readMask } from '../node/image-transform.js';
import { tempDir } from '../../test/helpers/temp-dir.js';
import { writeFileSync } from 'node:fs';

/**
 * The browser path in a real browser (headless Chromium, as CI installs it): the bundled main
 * entry decodes with createImageBitmap and transforms on an OffscreenCanvas; the result must
 * match the Node path (same geometry; masks bit-identical, images close).
 */
const CHROMIUM = process.env.RLR_CHROMIUM ?? '/usr/bin/chromium';
const missing = !existsSync(CHROMIUM);
if (missing) console.warn(`[skip] @rlr/data browser test: ${CHROMIUM} not found (apt-get install -y chromium, or set RLR_CHROMIUM)`);

describe.skipIf(missing)('browser path in Chromium', () => {
  const dir = tempDir();
  let context: BrowserContext;
  let profile: string;
  const files = new Map<string, { body: Buffer | string; type: string }>();

  beforeAll(async () => {
    const bundle = await build({ entryPoints: [fileURLToPath(new URL('../index.ts', import.meta.url))], bundle: true, platform: 'browser', format: 'esm', write: false });
    files.set('/lib.js', { body: bundle.outputFiles[0].text, type: 'text/javascript' });
    // The page exposes the bundle as window.rlr (an import() inside evaluate would be rewritten by vitest).
    files.set('/index.html', { body: '<!doctype html><script type="module">import * as rlr from "/lib.js"; window.rlr = rlr;</script>', type: 'text/html' });
    // A smooth colour image with a bright block, and the block's mask (values 0/1, as VisA uses).
    const h = 150;
    const w = 210;
    const rgb = new Uint8Array(h * w * 3);
    const mask = new Uint8Array(h * w);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const inBlock = y >= 40 && y < 90 && x >= 70 && x < 151;
        rgb.set(inBlock ? [250, 240, 230] : [x, y, 128], 3 * (y * w + x));
        mask[y * w + x] = inBlock ? 1 : 0;
      }
    }
    const png = await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
    const maskPng = await sharp(mask, { raw: { width: w, height: h, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    files.set('/img.png', { body: png, type: 'image/png' });
    files.set('/mask.png', { body: maskPng, type: 'image/png' });
    writeFileSync(join(dir, 'img.png'), png);
    writeFileSync(join(dir, 'mask.png'), maskPng);
    profile = await mkdtemp(join(tmpdir(), 'rlr-data-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    // Serve everything from memory on a made-up origin: no server, no network.
    await context.route('http://rlr.test/**', (route) => {
      const file = files.get(new URL(route.request().url()).pathname);
      return file ? route.fulfill({ status: 200, body: file.body, contentType: file.type }) : route.fulfill({ status: 404, body: 'not found' });
    });
  });

  afterAll(async () => {
    await context?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it('matches the Node path: same crop, identical mask, close pixels', async () => {
    const page = await context.newPage();
    await page.goto('http://rlr.test/index.html');
    await page.waitForFunction(() => 'rlr' in window);
    const options = { resize: 100, crop: [80, 96] as [number, number] };
    const result = await page.evaluate(async (opts) => {
      const lib = (window as unknown as { rlr: typeof import('../index.js') }).rlr;
      const image = await lib.readImageUrl('http://rlr.test/img.png', opts);
      const mask = await lib.readMaskUrl('http://rlr.test/mask.png', opts);
      const batches = [];
      for await (const b of lib.urlBatches([{ path: 'http://rlr.test/img.png', maskPath: 'http://rlr.test/mask.png', category: 'c', label: 1, defectType: 'x' }], { ...opts, batchSize: 1 })) batches.push(b);
      const missing = await lib.readImageUrl('http://rlr.test/nope.png', opts).then(
        () => 'no error',
        (e: Error) => e.message,
      );
      return { image: { h: image.height, w: image.width, data: Array.from(image.data) }, mask: Array.from(mask.data), batch: { images: Array.from(batches[0].images), masks: Array.from(batches[0].masks) }, missing };
    }, options);
    const node = await readImage(join(dir, 'img.png'), options);
    const nodeMask = await readMask(join(dir, 'mask.png'), options);
    expect([result.image.h, result.image.w]).toEqual([node.height, node.width]);
    expect(result.mask).toEqual(Array.from(nodeMask.data));
    expect(result.mask.some((v) => v === 1)).toBe(true);
    let diff = 0;
    for (let i = 0; i < node.data.length; i++) diff += Math.abs(node.data[i] - result.image.data[i]);
    expect(diff / node.data.length).toBeLessThan(0.02); // different resamplers, same geometry
    expect(result.batch.images).toEqual(result.image.data);
    expect(result.batch.masks).toEqual(result.mask);
    expect(result.missing).toMatch(/nope\.png: HTTP 404/);
  });
});
