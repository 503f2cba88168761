import { DataError } from '../errors.js';
import { deriveSeed } from '@rlr/core/rng';
import { DEFECT_TYPES, isDefectType, isSyntheticCategory, SYNTHETIC_CATEGORIES, type DefectType } from './categories.js';

/** One image of a planned synthetic dataset. */
export interface PlannedImage {
  category: string;
  split: 'train' | 'test';
  /** `'good'` or a defect type. */
  defectType: 'good' | DefectType;
  /** Index within (category, split, defectType), used for the file name. */
  index: number;
  /** Seed of {@link renderSynthetic} for this image. */
  seed: number;
}

/** What a synthetic dataset contains. */
export interface DatasetPlanOptions {
  /** Categories to draw (default: all of {@link SYNTHETIC_CATEGORIES}). */
  categories?: readonly string[];
  /** Normal training images per category. Default 40. */
  trainCount?: number;
  /** Test images per category, about a third normal and the rest spread over the defect types. Default 30. */
  testCount?: number;
  /** Defect types to use (default: all of {@link DEFECT_TYPES}). */
  defectTypes?: readonly DefectType[];
  /** Master seed. Default 0. */
  seed?: number;
}

function count(value: number, name: string, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new DataError('invalid-option', name, `must be an integer >= ${min}, got ${value}`, `Pass ${name} >= ${min}.`);
  return value;
}

/**
 * The list of images of a synthetic dataset. Every image's seed derives from the master seed,
 * its category, split, defect type and index only, so a category's images do not change when
 * other categories or counts are added.
 */
export function planDataset(options: DatasetPlanOptions = {}): PlannedImage[] {
  const categories = options.categories ?? SYNTHETIC_CATEGORIES;
  for (const c of categories) {
    if (!isSyntheticCategory(c)) throw new DataError('invalid-option', `category "${c}"`, 'is not a synthetic category', `Use any of ${SYNTHETIC_CATEGORIES.join(', ')}.`);
  }
  if (new Set(categories).size !== categories.length) throw new DataError('invalid-option', 'categories', `lists a category twice (${categories.join(', ')})`, 'Name each category once.');
  const defectTypes = options.defectTypes ?? DEFECT_TYPES;
  for (const d of defectTypes) {
    if (!isDefectType(d)) throw new DataError('invalid-option', `defect type "${d}"`, 'is not a synthetic defect type', `Use any of ${DEFECT_TYPES.join(', ')}.`);
  }
  if (defectTypes.length === 0) throw new DataError('invalid-option', 'defectTypes', 'is empty', 'Pass at least one defect type.');
  const trainCount = count(options.trainCount ?? 40, 'trainCount', 1);
  const testCount = count(options.testCount ?? 30, 'testCount', 2);
  const seed = options.seed ?? 0;
  const good = Math.max(1, Math.round(testCount / 3));
  const plan: PlannedImage[] = [];
  const add = (category: string, split: 'train' | 'test', defectType: 'good' | DefectType, index: number) =>
    plan.push({ category, split, defectType, index, seed: deriveSeed(seed, category, split, defectType, index) });
  for (const category of categories) {
    for (let i = 0; i < trainCount; i++) add(category, 'train', 'good', i);
    for (let i = 0; i < good; i++) add(category, 'test', 'good', i);
    const perType = new Map<DefectType, number>();
    for (let k = 0; k < testCount - good; k++) {
      const type = defectTypes[k % defectTypes.length];
      const index = perType.get(type) ?? 0;
      perType.set(type, index + 1);
      add(category, 'test', type, index);
    }
  }
  return plan;
}
