import { rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { DataError } from '../errors.js';
import { cropShape } from '../geometry.js';
import { DEFECT_TYPES, SYNTHETIC_OBJECTS, SYNTHETIC_CATEGORIES } from '../synthetic/categories.js';
import { planDataset, type DatasetPlanOptions, type PlannedImage } from '../synthetic/plan.js';
import { renderSynthetic } from '../synthetic/render.js';
import { writeFileAtomic } from '@rlr/core/files';
import { SYNTHETIC_GENERATOR, SYNTHETIC_MANIFEST, type SyntheticManifest } from './synthetic-manifest.js';

export type { SyntheticManifest } from './synthetic-manifest.js';

/** Options of {@link generateDataset}. */
export interface GenerateOptions extends DatasetPlanOptions {
  /** Folder to write into (created if missing). */
  root: string;
  /** Image size: a number for square images or `[height, width]`. Default 256. */
  size?: number | readonly [height: number, width: number];
  /**
   * `'mvtec'` (default): `<cat>/train/good/000.png`, `<cat>/test/<type>/000.png`,
   * `<cat>/ground_truth/<type>/000_mask.png`. `'visa'`: `<cat>/Data/Images/{Normal,Anomaly}/*.JPG`,
   * `<cat>/Data/Masks/Anomaly/*.png` and `split_csv/1cls.csv` (JPEG quality 95).
   */
  layout?: 'mvtec' | 'visa';
  /** Replace category folders that already exist (default false: that is an error). */
  overwrite?: boolean;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Where each planned image (and its mask) goes in a layout; VisA also gets a split-file row. */
function placeImages(plan: PlannedImage[], layout: 'mvtec' | 'visa') {
  const normalIndex = new Map<string, number>();
  const anomalyIndex = new Map<string, number>();
  return plan.map((p) => {
    if (layout === 'mvtec') {
      const dir = p.split === 'train' ? join(p.category, 'train', 'good') : join(p.category, 'test', p.defectType);
      const image = join(dir, `${pad(p.index, 3)}.png`);
      const mask = p.defectType === 'good' ? undefined : join(p.category, 'ground_truth', p.defectType, `${pad(p.index, 3)}_mask.png`);
      return { plan: p, image, mask, row: undefined };
    }
    const counter = p.defectType === 'good' ? normalIndex : anomalyIndex;
    const k = counter.get(p.category) ?? 0;
    counter.set(p.category, k + 1);
    const image = p.defectType === 'good' ? `${p.category}/Data/Images/Normal/${pad(k, 4)}.JPG` : `${p.category}/Data/Images/Anomaly/${pad(k, 3)}.JPG`;
    const mask = p.defectType === 'good' ? undefined : `${p.category}/Data/Masks/Anomaly/${pad(k, 3)}.png`;
    const row = [p.category, p.split, p.defectType === 'good' ? 'normal' : 'anomaly', image, mask ?? ''].join(',');
    return { plan: p, image, mask, row };
  });
}

/**
 * Writes a synthetic anomaly-detection dataset (see `renderSynthetic` for what the images look
 * like) plus `manifest.json`. Deterministic: the same options give byte-identical files. Files are
 * written atomically; PNG encoding runs on sharp's threads while the next image is drawn.
 */
export async function generateDataset(options: GenerateOptions): Promise<SyntheticManifest> {
  const root = resolve(options.root);
  const layout = options.layout ?? 'mvtec';
  const [height, width] = cropShape(options.size ?? 256);
  const categories = [...(options.categories ?? SYNTHETIC_CATEGORIES)];
  const plan = planDataset({ ...options, categories });
  for (const c of categories) {
    const dir = join(root, c);
    if (await exists(dir)) {
      if (!options.overwrite) throw new DataError('invalid-option', dir, 'already exists', 'Pass overwrite: true to replace it, or choose an empty root.');
      await rm(dir, { recursive: true, force: true });
    }
  }

  const pending = new Set<Promise<void>>();
  let failure: unknown;
  const write = (rel: string, encode: Promise<Buffer>) => {
    const p: Promise<void> = encode
      .then((bytes) => writeFileAtomic(join(root, rel), bytes))
      .catch((e: unknown) => {
        failure ??= e;
      })
      .finally(() => pending.delete(p));
    pending.add(p);
  };
  const rows: string[] = [];
  for (const { plan: p, image, mask, row } of placeImages(plan, layout)) {
    const img = renderSynthetic(p.category, { height, width, seed: p.seed, defect: p.defectType === 'good' ? undefined : p.defectType });
    const raw = { raw: { width, height, channels: 3 as const } };
    write(image, layout === 'mvtec' ? sharp(img.rgb, raw).png().toBuffer() : sharp(img.rgb, raw).jpeg({ quality: 95 }).toBuffer());
    if (mask && img.mask) {
      const grey = img.mask.map((v) => v * 255);
      write(mask, sharp(grey, { raw: { width, height, channels: 1 } }).toColourspace('b-w').png().toBuffer());
    }
    if (row) rows.push(row);
    // Bound the images waiting for the encoder, so memory stays flat for large datasets.
    while (pending.size >= 8) await Promise.race(pending);
    if (failure) break;
  }
  await Promise.all(pending);
  if (failure) throw failure instanceof Error ? failure : new Error(String(failure));

  if (layout === 'visa') {
    await writeFileAtomic(join(root, 'split_csv', '1cls.csv'), `object,split,label,image,mask\n${rows.join('\n')}\n`);
  }
  const manifest: SyntheticManifest = {
    generator: SYNTHETIC_GENERATOR,
    version: 1,
    layout,
    seed: options.seed ?? 0,
    height,
    width,
    defectTypes: [...(options.defectTypes ?? DEFECT_TYPES)],
    categories: categories.map((name) => {
      const test: Record<string, number> = {};
      for (const p of plan) if (p.category === name && p.split === 'test') test[p.defectType] = (test[p.defectType] ?? 0) + 1;
      return {
        name,
        kind: (SYNTHETIC_OBJECTS as readonly string[]).includes(name) ? 'object' : 'texture',
        train: plan.filter((p) => p.category === name && p.split === 'train').length,
        test,
      };
    }),
  };
  await writeFileAtomic(join(root, SYNTHETIC_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
