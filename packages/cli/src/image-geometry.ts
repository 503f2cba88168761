import type { ResizeMode } from '@rlr/data';
import type { TileSettings } from './presets.js';

/** How images are fed to the backbone. */
export interface ImageGeometry {
  resize: number;
  crop: [number, number];
  /** `--resize-mode` (unset: `crop`). */
  mode?: ResizeMode;
  /** `--tile`: images are cut into tiles of `crop` size instead of being resized to it. */
  tile?: TileSettings;
}
