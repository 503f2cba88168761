import { smoothedMaximum, SCORING_DEFAULTS } from '@rlr/core';
import { MapStitcher } from '@rlr/data';
import type { Sample } from '@rlr/data';
import { readTiledImage, tileBatchesOf, type TileBatch, type TiledImage } from '@rlr/data/node';
import type { TileGeometry } from '../detector.js';
import type { MapScores } from '../padding-scores.js';
import { tileOptions } from './training-features.js';

/** The result of scoring one image on tiles. */
export interface TiledScore {
  /** Image score: the usual rule (Gaussian blur σ = 4, then the maximum) on the stitched map. */
  score: number;
  /** `[height, width]` anomaly map of the whole (scaled) image: the mean of the tile maps over overlaps. */
  map: Float32Array;
  height: number;
  width: number;
  /** Tiles scored. */
  tiles: number;
}

/**
 * Scores one tiled image: its tiles go through `scoreTiles` in batches of `batchSize` (each tile
 * is one model input of the trained size, so every tile uses the same position grid as the
 * training tiles), their maps are stitched into one full-size map (mean over overlaps), and the
 * image score is the blur-then-maximum of the stitched map, exactly as for an untiled map. Memory:
 * one batch of tiles, the stitched map and one blur buffer of the map size, whatever the image.
 */
export async function scoreTiledImage(img: TiledImage, scoreTiles: (b: TileBatch) => Promise<MapScores>, batchSize: number): Promise<TiledScore> {
  const st = new MapStitcher(img.grid);
  const { tileHeight: th, tileWidth: tw } = img.grid;
  for (const b of tileBatchesOf(img, batchSize)) {
    const r = await scoreTiles(b);
    if (r.height !== th || r.width !== tw) throw new Error(`scoreTiledImage: the model returned ${r.height}x${r.width} maps for ${th}x${tw} tiles`);
    b.tileIndices.forEach((t, i) => st.add(t, r.maps.subarray(i * th * tw, (i + 1) * th * tw)));
  }
  const map = st.finish();
  const { height, width } = img.grid;
  return { score: smoothedMaximum(map, height, width, SCORING_DEFAULTS.sigma, SCORING_DEFAULTS.truncate), map, height, width, tiles: img.grid.tiles.length };
}

/** Read `sample`'s file at the tiling scale of `tile` and score it as {@link scoreTiledImage} does. */
export async function scoreTiledSample(sample: Sample, tile: TileGeometry, scoreTiles: (b: TileBatch) => Promise<MapScores>, batchSize = 8): Promise<TiledScore> {
  return scoreTiledImage(await readTiledImage(sample, tileOptions(tile)), scoreTiles, batchSize);
}
