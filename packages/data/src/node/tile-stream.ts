import { DataError } from '../errors.js';
import { transformGeometry, type PixelRect, type TransformGeometry } from '../geometry.js';
import type { RawPixels } from '../pixels.js';
import { extractTile, tileGrid, type TileGrid, type TilingOptions } from '../tiling.js';
import type { BinaryMask, ImageBatch, Sample } from '../types.js';
import { openImage } from './decode.js';
import { readImagePixels, readMask } from './image-transform.js';

/** Tiling of a stream of images: tile size and stride, and the scale applied before tiling. */
export interface TileStreamOptions extends TilingOptions {
  /** Factor applied to both sides before tiling (`--tile-scale`; default 1: native resolution). */
  scale?: number;
}

/** One image decoded at the tiling scale, with its tile grid (and mask, when it has one). */
export interface TiledImage {
  sample: Sample;
  /** The scaled image as the decoder's integer pixels (never the whole image as float32). */
  pixels: RawPixels;
  /** Source → scaled image (`scale` only: no crop). */
  geometry: TransformGeometry;
  grid: TileGrid;
  /** The mask at the scaled size (nearest neighbour, binarised), when the sample has one. */
  mask?: BinaryMask;
}

/** A batch of tiles: an {@link ImageBatch} whose images are tiles, with where each came from. */
export interface TileBatch extends ImageBatch {
  /** Per tile: its rectangle in the scaled image of its sample. */
  tiles: PixelRect[];
  /** Per tile: its index in its image's {@link TileGrid.tiles}. */
  tileIndices: number[];
}

/**
 * Decodes `sample` at `o.scale` and lays its tile grid; reads its mask at the same scale.
 * @throws {@link DataError} naming the image when it is smaller than a tile at this scale
 */
export async function readTiledImage(sample: Sample, o: TileStreamOptions): Promise<TiledImage> {
  const scale = o.scale ?? 1;
  const { raw, geometry } = await readImagePixels(sample.path, { scale });
  const grid = imageGrid(sample.path, geometry, o);
  if (!sample.maskPath) return { sample, pixels: raw, geometry, grid };
  const mask = await readMask(sample.maskPath, { scale, imageSize: [geometry.sourceHeight, geometry.sourceWidth], imagePath: sample.path });
  return { sample, pixels: raw, geometry, grid, mask };
}

/** Decodes `samples` one after another as {@link TiledImage}s, the next one decoding while the consumer works. */
export async function* tiledImages(samples: readonly Sample[], o: TileStreamOptions): AsyncIterable<TiledImage> {
  let next: Promise<TiledImage> | undefined = samples.length ? readTiledImage(samples[0], o) : undefined;
  for (let i = 0; i < samples.length; i++) {
    const current = next!;
    next = i + 1 < samples.length ? readTiledImage(samples[i + 1], o) : undefined;
    // A prefetched image may fail after the consumer stopped: not an unhandled rejection.
    next?.catch(() => undefined);
    yield await current;
  }
}

/** An empty tile batch of `capacity` tiles of `th x tw`. */
function emptyBatch(capacity: number, th: number, tw: number): TileBatch {
  return { samples: [], images: new Float32Array(capacity * th * tw * 3), masks: new Uint8Array(capacity * th * tw), hasMask: [], height: th, width: tw, tiles: [], tileIndices: [] };
}

/** Trims a partly filled batch to its tiles. */
function trimmed(b: TileBatch): TileBatch {
  const n = b.samples.length;
  const px = b.height * b.width;
  return n * px * 3 === b.images.length ? b : { ...b, images: b.images.subarray(0, n * px * 3), masks: b.masks.subarray(0, n * px) };
}

/** Copies tile `index` of `img` (and its mask window) into slot `slot` of `b`. */
function putTile(b: TileBatch, img: TiledImage, index: number): void {
  const rect = img.grid.tiles[index];
  const slot = b.samples.length;
  const px = b.height * b.width;
  extractTile(img.pixels, rect, b.images, slot * px * 3);
  if (img.mask) {
    for (let y = 0; y < rect.height; y++) {
      const from = (rect.top + y) * img.mask.width + rect.left;
      b.masks.set(img.mask.data.subarray(from, from + rect.width), slot * px + y * rect.width);
    }
  }
  b.samples.push(img.sample);
  b.hasMask.push(img.mask !== undefined);
  b.tiles.push(rect);
  b.tileIndices.push(index);
}

/** The tiles of one image in batches of at most `batchSize` (each batch is new memory). */
export function* tileBatchesOf(img: TiledImage, batchSize: number): Iterable<TileBatch> {
  const { tiles, tileHeight: th, tileWidth: tw } = img.grid;
  for (let start = 0; start < tiles.length; start += batchSize) {
    const b = emptyBatch(Math.min(batchSize, tiles.length - start), th, tw);
    for (let i = start; i < Math.min(tiles.length, start + batchSize); i++) putTile(b, img, i);
    yield b;
  }
}

/**
 * Every tile of every sample, in sample order then tile order, in batches of `batchSize` that run
 * across image boundaries (training: each tile is one sample). Only one image (plus the next,
 * decoding) and one batch are in memory at a time, whatever the number of images.
 */
export async function* tileBatches(samples: readonly Sample[], o: TileStreamOptions & { batchSize: number }): AsyncIterable<TileBatch> {
  const [th, tw] = o.tile;
  let b = emptyBatch(o.batchSize, th, tw);
  for await (const img of tiledImages(samples, o)) {
    for (let i = 0; i < img.grid.tiles.length; i++) {
      putTile(b, img, i);
      if (b.samples.length === o.batchSize) {
        yield b;
        b = emptyBatch(o.batchSize, th, tw);
      }
    }
  }
  if (b.samples.length) yield trimmed(b);
}

/** The tile grid of an image at its tiling scale; an image smaller than a tile is an error naming it. */
function imageGrid(path: string, g: TransformGeometry, o: TileStreamOptions): TileGrid {
  try {
    return tileGrid(g.height, g.width, o);
  } catch (e) {
    if (!(e instanceof DataError) || e.subject !== '--tile') throw e;
    throw new DataError(
      'invalid-option',
      path,
      `is ${g.sourceHeight}x${g.sourceWidth} px (${g.height}x${g.width} at --tile-scale ${o.scale ?? 1}), smaller than the --tile ${o.tile.join('x')}`,
      'Pass a smaller --tile, a larger --tile-scale, or leave this image out.',
    );
  }
}

/** How many tiles each sample gives (reads image headers only, no pixels). */
export async function countTiles(samples: readonly Sample[], o: TileStreamOptions): Promise<number[]> {
  const out: number[] = [];
  for (const s of samples) {
    const { height, width } = await openImage(s.path);
    out.push(imageGrid(s.path, transformGeometry(height, width, { scale: o.scale ?? 1 }), o).tiles.length);
  }
  return out;
}
