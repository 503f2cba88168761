import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { loadBackboneFromStore } from '@rlr/backbones/node';
import { loadModel } from '@rlr/core';
import { readImage } from '@rlr/data/node';
import { fileStore } from '@rlr/core/node';
import { useBackend } from '@rlr/testing';
import type { Page } from 'playwright-core';
import { chromiumMissing, launchChromium, type Browser } from './chromium.js';
import { serveStatic, type StaticServer } from './static-server.js';
import { SIZE, trainTinyModel } from './tiny-model.js';

/**
 * End to end: a model trained and saved in Node is loaded by the built page in headless
 * Chromium, which scores a defective and a normal image; the scores must match Node's and the
 * heatmap overlay must be drawn where the map exceeds the threshold.
 */
const here = dirname(fileURLToPath(import.meta.url));
const missing = chromiumMissing();
if (missing) console.warn(missing);

/** Tolerance on image scores between Node (wasm) and the page (webgl or wasm). */
const SCORE_TOLERANCE = 1e-3;

interface Reference {
  score: number;
  map: Float32Array;
  rgb: Float32Array;
}

describe.skipIf(missing !== undefined)('browser example in headless Chromium', () => {
  let work: string;
  let server: StaticServer;
  let browser: Browser;
  const images: Record<'defect' | 'normal', string> = { defect: '', normal: '' };
  const node: Record<'defect' | 'normal', Reference> = {} as never;
  const external: string[] = [];
  const t0 = Date.now();

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'rlr-browser-e2e-'));
    const dist = join(work, 'dist');
    await build({ root: resolve(here, '..'), logLevel: 'warn', build: { outDir: dist, emptyOutDir: true } });

    await useBackend('wasm');
    const { modelDir, data } = await trainTinyModel(join(work, 'train'));

    // One defective and one normal test image, under names the page can tell apart.
    const defect = data.test.find((s) => s.label === 1)!;
    const normal = data.test.find((s) => s.label === 0)!;
    images.defect = join(work, `defect-${defect.defectType}.png`);
    images.normal = join(work, 'normal-good.png');
    await copyFile(defect.path, images.defect);
    await copyFile(normal.path, images.normal);

    // Node's answer, through the same files the page reads: the saved model and backbone.
    const model = await loadModel(fileStore(modelDir));
    const backbone = await loadBackboneFromStore(fileStore(modelDir), model.metadata.backbone as Record<string, unknown>);
    for (const kind of ['defect', 'normal'] as const) {
      const img = await readImage(images[kind], { resize: SIZE, crop: SIZE });
      const input = tf.tensor4d(img.data, [1, img.height, img.width, 3]);
      const features = backbone.extract(input);
      const p = await model.predict(features);
      tf.dispose([input, ...features]);
      node[kind] = { score: p.scores[0], map: p.maps, rgb: img.data };
    }
    model.dispose();
    backbone.dispose();

    server = await serveStatic({ '/': dist, '/model/': modelDir });
    browser = await launchChromium();
    browser.context.on('request', (r) => {
      if (!r.url().startsWith(server.url) && !/^(data|blob):/.test(r.url())) external.push(r.url());
    });
    console.log(`[e2e] page built, model trained and Node reference computed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
    console.log(`[e2e] total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  /** Open the page with `query`, wait for the model, drop both images, return the page and its scores. */
  async function scoreInPage(query: string): Promise<{ page: Page; backend: string; scores: Record<string, number> }> {
    const page = await browser.context.newPage();
    const logs: string[] = [];
    page.on('console', (m) => logs.push(m.text()));
    page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    await page.goto(`${server.url}?${query}`);
    await page.waitForFunction(() => document.body.dataset.model === 'loaded' || document.body.dataset.state === 'error', undefined, {
      timeout: 120_000,
    });
    const state = await page.evaluate(() => ({ model: document.body.dataset.model, status: document.getElementById('status')!.textContent }));
    expect(state.model, `${state.status}\n${logs.join('\n')}`).toBe('loaded');
    await page.setInputFiles('#file', [images.defect, images.normal]);
    await page.waitForFunction(() => document.body.dataset.scored === '2' && document.body.dataset.pending === '0', undefined, { timeout: 120_000 });
    const scores = await page.evaluate(() =>
      Object.fromEntries([...document.querySelectorAll<HTMLElement>('figure.result')].map((f) => [f.dataset.name!, Number(f.dataset.score)])),
    );
    const backend = (await page.evaluate(() => document.body.dataset.backend))!;
    return { page, backend, scores };
  }

  function expectScoresMatchNode(scores: Record<string, number>, backend: string): void {
    for (const kind of ['defect', 'normal'] as const) {
      const name = images[kind].split('/').pop()!;
      const got = scores[name];
      console.log(`[e2e] ${backend}: ${kind} score browser ${got} vs node ${node[kind].score} (|Δ| = ${Math.abs(got - node[kind].score).toExponential(2)})`);
      expect(Number.isFinite(got)).toBe(true);
      expect(Math.abs(got - node[kind].score)).toBeLessThanOrEqual(SCORE_TOLERANCE);
    }
  }

  /** The overlay canvas of the defective image as RGB pixels, one per map pixel (block centres). */
  async function overlayPixels(page: Page): Promise<Uint8Array> {
    const png = await page.locator(`figure[data-name="${images.defect.split('/').pop()}"] canvas`).screenshot();
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect(info.width).toBeGreaterThanOrEqual(SIZE);
    const out = new Uint8Array(SIZE * SIZE * 3);
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const sy = Math.floor(((y + 0.5) * info.height) / SIZE);
        const sx = Math.floor(((x + 0.5) * info.width) / SIZE);
        for (let c = 0; c < 3; c++) out[(y * SIZE + x) * 3 + c] = data[(sy * info.width + sx) * 3 + c];
      }
    }
    return out;
  }

  async function setThreshold(page: Page, t: number): Promise<void> {
    await page.fill('#threshold-value', String(t));
    await page.waitForFunction((want) => document.body.dataset.threshold === want, String(t));
  }

  let defaultBackend = '';

  it('scores both images on the backend it picks (WebGL, else wasm) as Node does, within 1e-3', async () => {
    const { page, backend, scores } = await scoreInPage('model=model/');
    defaultBackend = backend;
    expect(['webgl', 'wasm']).toContain(backend);
    expectScoresMatchNode(scores, backend);

    // The overlay: with the threshold at the median of the defect's map, about half of its pixels
    // are coloured, and exactly those above the threshold; above the maximum, none is.
    const map = node.defect.map;
    const sorted = Float32Array.from(map).sort();
    const median = sorted[Math.floor(sorted.length / 2)];
    await setThreshold(page, median);
    const coloured = await overlayPixels(page);
    // RLR_E2E_SCREENSHOT=/path/page.png keeps a picture of the page (used for the docs).
    if (process.env.RLR_E2E_SCREENSHOT) await page.screenshot({ path: process.env.RLR_E2E_SCREENSHOT, fullPage: true });
    await setThreshold(page, sorted[sorted.length - 1] + 1);
    const plain = await overlayPixels(page);

    let differ = 0;
    let agree = 0;
    let drawnImage = 0;
    for (let p = 0; p < SIZE * SIZE; p++) {
      let changed = false;
      for (let c = 0; c < 3; c++) {
        if (Math.abs(coloured[p * 3 + c] - plain[p * 3 + c]) > 3) changed = true;
        if (Math.abs(plain[p * 3 + c] - Math.round(node.defect.rgb[p * 3 + c] * 255)) <= 2) drawnImage++;
      }
      if (changed) differ++;
      if (changed === map[p] > median) agree++;
    }
    const n = SIZE * SIZE;
    console.log(`[e2e] overlay at the median: ${differ}/${n} pixels coloured, ${agree}/${n} agree with Node's map`);
    expect(drawnImage / (3 * n)).toBeGreaterThan(0.99); // the plain canvas is the input image
    expect(Math.abs(differ / n - 0.5)).toBeLessThan(0.02);
    expect(agree / n).toBeGreaterThan(0.98);
    await page.close();
  });

  it('falls back to (or is forced onto) wasm and still matches Node', async () => {
    const { page, backend, scores } = await scoreInPage('backend=wasm&model=model/');
    expect(backend).toBe('wasm');
    expectScoresMatchNode(scores, backend);
    // The page says which backend it is on.
    expect(await page.locator('#backend').textContent()).toMatch(/^wasm/);

    // A threshold in the address applies from the start: only the defect's score is above it.
    const between = (node.defect.score + node.normal.score) / 2;
    await page.goto(`${server.url}?backend=wasm&model=model/&threshold=${between}`);
    await page.waitForFunction(() => document.body.dataset.model === 'loaded', undefined, { timeout: 120_000 });
    await page.setInputFiles('#file', [images.defect, images.normal]);
    await page.waitForFunction(() => document.body.dataset.scored === '2' && document.body.dataset.pending === '0', undefined, { timeout: 120_000 });
    const flagged = await page.evaluate(() =>
      Object.fromEntries([...document.querySelectorAll<HTMLElement>('figure.result')].map((f) => [f.dataset.name!, f.dataset.flagged])),
    );
    expect(flagged).toEqual({ [images.defect.split('/').pop()!]: String(node.defect.score > between), [images.normal.split('/').pop()!]: String(node.normal.score > between) });

    // A model URL that holds no model is reported, naming what is missing.
    await page.goto(`${server.url}?backend=wasm&model=no-such-model/`);
    await page.waitForFunction(() => document.body.dataset.model === 'failed', undefined, { timeout: 60_000 });
    expect(await page.locator('#status').textContent()).toMatch(/no-such-model\/config\.json/);
    await page.close();
    console.log(`[e2e] default backend was ${defaultBackend}`);
  });

  it('loads everything from the page server: no request leaves it', () => {
    expect(external).toEqual([]);
    expect(server.requests.some((p) => p.startsWith('/model/') && p.endsWith('weights.safetensors'))).toBe(true);
    expect(server.requests.some((p) => p.endsWith('.wasm'))).toBe(true);
  });
});
