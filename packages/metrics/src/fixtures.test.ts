import { readFileSync } from 'node:fs';
import { requireShared } from '@rlr/testing';
import { describe, expect, it } from 'vitest';
import { auroc, averagePrecision, auPro, f1Max, imageMetrics, pixelMetrics } from './index.js';

/**
 * Reproduces shared/fixtures/metrics/metrics-cases.json (scikit-learn and the MVTec AD PRO
 * protocol). Tolerances: AUROC, AP and F1-max to 1e-9 (absolute), AU-PRO to 1e-6 (absolute).
 */
const path = requireShared('fixtures/metrics/metrics-cases.json');

interface ImageCase {
  name: string;
  kind: 'image';
  labels: number[];
  scores: number[];
  auroc: number;
  ap: number;
  f1_max: number;
}
interface PixelCase {
  name: string;
  kind: 'pixel';
  shape: [number, number, number];
  masks: number[];
  maps: number[];
  auroc: number;
  ap: number;
  f1_max: number;
  'aupro_0.3': number;
}
type Case = ImageCase | PixelCase;

const cases: Case[] = path ? (JSON.parse(readFileSync(path, 'utf8')) as { cases: Case[] }).cases : [];
const imageCases = cases.filter((c): c is ImageCase => c.kind === 'image');
const pixelCases = cases.filter((c): c is PixelCase => c.kind === 'pixel');

const close = (actual: number, expected: number, tol: number): void => {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(tol);
};

describe.skipIf(!path)('metrics fixtures (shared/fixtures/metrics/metrics-cases.json)', () => {
  it('has image and pixel cases', () => {
    expect(imageCases.length).toBeGreaterThan(0);
    expect(pixelCases.length).toBeGreaterThan(0);
  });

  describe.each(imageCases.map((c) => [c.name, c] as const))('image case %s', (_name, c) => {
    it('AUROC, AP and F1-max match scikit-learn to 1e-9 (float64 scores)', () => {
      close(auroc(c.labels, c.scores), c.auroc, 1e-9);
      close(averagePrecision(c.labels, c.scores), c.ap, 1e-9);
      close(f1Max(c.labels, c.scores).f1, c.f1_max, 1e-9);
    });

    it('imageMetrics gives the same three values from one pass, from typed arrays', () => {
      const m = imageMetrics(Uint8Array.from(c.labels), Float64Array.from(c.scores));
      close(m.auroc, c.auroc, 1e-9);
      close(m.ap, c.ap, 1e-9);
      close(m.f1Max, c.f1_max, 1e-9);
      expect(c.scores).toContain(m.threshold);
    });
  });

  describe.each(pixelCases.map((c) => [c.name, c] as const))('pixel case %s', (_name, c) => {
    const [, height, width] = c.shape;
    const maps = Float32Array.from(c.maps);
    const masks = Uint8Array.from(c.masks);

    it('pixel AUROC, AP, F1-max to 1e-9 and AU-PRO@0.3 to 1e-6', () => {
      const m = pixelMetrics(maps, masks, { height, width });
      close(m.auroc, c.auroc, 1e-9);
      close(m.ap, c.ap, 1e-9);
      close(m.f1Max, c.f1_max, 1e-9);
      close(m.aupro, c['aupro_0.3'], 1e-6);
    });

    it('the standalone functions agree (auPro; auroc/AP/F1 on the flat Float32 maps)', () => {
      close(auPro(maps, masks, { height, width, fprLimit: 0.3 }), c['aupro_0.3'], 1e-6);
      close(auroc(masks, maps), c.auroc, 1e-9);
      close(averagePrecision(masks, maps), c.ap, 1e-9);
      close(f1Max(masks, maps).f1, c.f1_max, 1e-9);
    });

    it('plain-number maps give the same values (read at float32 precision)', () => {
      const m = pixelMetrics(c.maps, c.masks, { height, width });
      close(m.auroc, c.auroc, 1e-9);
      close(m.aupro, c['aupro_0.3'], 1e-6);
    });
  });
});
