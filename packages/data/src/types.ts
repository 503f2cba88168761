/**
 * Cross-package dataset types (see docs/architecture.md, "Datasets"). Every loader in this
 * package produces these shapes; `@rlr/core` and `@rlr/cli` consume them without knowing the
 * on-disk layout.
 */

import type { TransformGeometry } from './geometry.js';

/** Which on-disk layout a dataset was read from. */
export type DatasetFormat = 'mvtec' | 'visa' | 'folder';

/** One image of a dataset. */
export interface Sample {
  /** Image file (an absolute path in Node, a URL in the browser). */
  path: string;
  /** Category (class) the image belongs to, e.g. `bottle`. */
  category: string;
  /** 0 = normal, 1 = anomalous. */
  label: 0 | 1;
  /** `'good'` for normal images, otherwise the defect type (e.g. `scratch`). */
  defectType: string;
  /** Ground-truth mask of an anomalous image, when the dataset has one. */
  maskPath?: string;
}

/** A file or folder that a loader left out on purpose, and why (never silently dropped). */
export interface SkippedEntry {
  path: string;
  reason: string;
}

/** A whole dataset: the unified training set and the test set of the selected categories. */
export interface AnomalyDataset {
  format: DatasetFormat;
  /** Root folder (or base URL) the dataset was read from. */
  root: string;
  /** Selected categories, sorted. */
  categories: string[];
  /** Normal training images of every selected category (the unified, multi-class set). */
  train: Sample[];
  /** Test images, normal and anomalous, of every selected category. */
  test: Sample[];
  /** Stray files and folders that were skipped, each with the reason. */
  skipped: SkippedEntry[];
}

/** A decoded, resized and cropped RGB image. */
export interface RgbImage {
  /** `[H, W, 3]` RGB, row-major, values in [0, 1]. */
  data: Float32Array;
  height: number;
  width: number;
}

/** A binary mask in the geometry of its image crop. */
export interface BinaryMask {
  /** `[H, W]` row-major, 0 or 1. */
  data: Uint8Array;
  height: number;
  width: number;
}

/** A batch of decoded samples, ready to become a `[B, H, W, 3]` tensor. */
export interface ImageBatch {
  samples: Sample[];
  /** `[B, H, W, 3]` RGB in [0, 1]. */
  images: Float32Array;
  /** `[B, H, W]` 0/1; all zero for normals and for samples without a mask. */
  masks: Uint8Array;
  /** Per sample: whether `masks` holds a real ground-truth mask for it. */
  hasMask: boolean[];
  height: number;
  width: number;
  /**
   * Per sample: where its source image went (resize, crop or letterbox), when the loader says;
   * `sourceRegion` / `contentWindow` of `@rlr/data` read it.
   */
  geometries?: TransformGeometry[];
}
