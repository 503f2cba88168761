/**
 * Where the trainer gets its training features. The backbone is frozen, so its smoothed maps
 * are extracted once and reused every epoch; an epoch then costs only the RLR part.
 * Implementations: {@link FeatureBank} (in memory) and {@link FeatureCache} (a BlobStore, e.g.
 * a directory on disk, optionally float16).
 */
export interface FeatureLevelShape {
  /** Token grid [h, w]. */
  grid: [number, number];
  /** Channels C. */
  channels: number;
}

export interface FeatureSource {
  /** Number of training images. */
  readonly size: number;
  /** Shape of each level's map. */
  readonly levels: FeatureLevelShape[];
  /**
   * Features of the images at `indices`, in that order: one Float32Array per level holding
   * [indices.length, h, w, C] (NHWC, row-major).
   */
  read(indices: ArrayLike<number>): Promise<Float32Array[]>;
}

/** Elements of one image's map of a level: h·w·C. */
export function levelElements(level: FeatureLevelShape): number {
  return level.grid[0] * level.grid[1] * level.channels;
}

/** Throw unless `levels` match the `expected` shapes (names `what` in the message). */
export function checkLevelShapes(levels: FeatureLevelShape[], expected: FeatureLevelShape[], what: string): void {
  const fmt = (l: FeatureLevelShape) => `${l.grid[0]}x${l.grid[1]}x${l.channels}`;
  if (levels.length !== expected.length || levels.some((l, i) => fmt(l) !== fmt(expected[i]))) {
    throw new Error(
      `${what}: feature levels ${levels.map(fmt).join(', ')} do not match the model's ${expected.map(fmt).join(', ')}; ` +
        'extract the features with the backbone, stages and crop size the model was built for',
    );
  }
}
