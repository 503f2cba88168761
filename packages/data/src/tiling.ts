import { DataError } from './errors.js';
import type { PixelRect } from './geometry.js';
import { writeRgbFloat, type RawPixels } from './pixels.js';
import type { RgbImage } from './types.js';

/**
 * Tiling of large images (`--tile`, `--tile-stride`): the image is cut into overlapping
 * `tile`-size windows, each scored as one model input, and the tiles' anomaly maps are stitched
 * back into one full-size map by averaging where tiles overlap.
 */

/** Tile size and stride, each `[height, width]` in pixels of the (scaled) image. */
export interface TilingOptions {
  tile: readonly [height: number, width: number];
  stride: readonly [height: number, width: number];
}

/** The tiles of one image: every combination of a row start and a column start. */
export interface TileGrid {
  /** Image size the grid covers. */
  height: number;
  width: number;
  /** Tile size. */
  tileHeight: number;
  tileWidth: number;
  /** Top offsets of the tile rows, ascending; the last is `height - tileHeight`. */
  rows: number[];
  /** Left offsets of the tile columns, ascending; the last is `width - tileWidth`. */
  cols: number[];
  /** The tiles in row-major order (`rows.length * cols.length` of them). */
  tiles: PixelRect[];
}

/**
 * Checks a tile size and stride; errors name `--tile` / `--tile-stride` and say what works.
 * @throws {@link DataError} (`invalid-option`) for a size < 1, a stride < 1 or a stride > the tile
 */
export function checkTiling(o: TilingOptions): void {
  for (const [i, axis] of ['height', 'width'].entries()) {
    const t = o.tile[i];
    const s = o.stride[i];
    if (!Number.isInteger(t) || t < 1) throw new DataError('invalid-option', '--tile', `the tile ${axis} must be a positive whole number of pixels, got ${t}`, 'Pass e.g. --tile 256 (the model input size).');
    if (!Number.isInteger(s) || s < 1) throw new DataError('invalid-option', '--tile-stride', `the stride ${axis} must be a positive whole number of pixels, got ${s}`, `Pass e.g. --tile-stride ${Math.max(1, Math.floor(t / 2))} (half the tile: every pixel is in up to 4 tiles).`);
    if (s > t) {
      throw new DataError('invalid-option', '--tile-stride', `the stride ${axis} ${s} is larger than the tile ${axis} ${t}, which would leave gaps between tiles`, `Pass --tile-stride ${t} or less (e.g. ${Math.max(1, Math.floor(t / 2))}).`);
    }
  }
}

/**
 * Tile starts along one axis of `length` pixels: `0, stride, 2·stride, …` while the tile stays
 * inside, then one last tile aligned to the far border (`length - size`), so the tiles cover
 * every pixel and none reaches outside; a last start that falls on the stride is not repeated.
 * @throws {@link DataError} naming `--tile` when the image is shorter than the tile
 */
export function tileStarts(length: number, size: number, stride: number, axis = 'side'): number[] {
  if (length < size) {
    throw new DataError(
      'invalid-option',
      '--tile',
      `the image ${axis} is ${length} px, smaller than the tile (${size} px)`,
      'Pass a smaller --tile, or a larger --tile-scale so the scaled image is at least one tile in each direction.',
    );
  }
  const starts: number[] = [];
  for (let p = 0; p + size < length; p += stride) starts.push(p);
  starts.push(length - size);
  return starts;
}

/** The tile grid of a `height x width` image (see {@link tileStarts} for each axis). */
export function tileGrid(height: number, width: number, o: TilingOptions): TileGrid {
  checkTiling(o);
  const [th, tw] = o.tile;
  const rows = tileStarts(height, th, o.stride[0], 'height');
  const cols = tileStarts(width, tw, o.stride[1], 'width');
  const tiles: PixelRect[] = [];
  for (const top of rows) for (const left of cols) tiles.push({ top, left, height: th, width: tw });
  return { height, width, tileHeight: th, tileWidth: tw, rows, cols, tiles };
}

/**
 * Copies one tile of an image into `out` as `[tileHeight, tileWidth, 3]` RGB float32 in [0, 1],
 * starting at element `offset` (so tiles can be written straight into a batch). `src` is either
 * the decoder's integer pixels (converted on the fly: the full image is never held as float) or a
 * float RGB image.
 */
export function extractTile(src: RawPixels | RgbImage, rect: PixelRect, out: Float32Array, offset = 0): void {
  if (rect.top < 0 || rect.left < 0 || rect.top + rect.height > src.height || rect.left + rect.width > src.width) {
    throw new Error(`extractTile: tile ${rect.height}x${rect.width} at (${rect.top}, ${rect.left}) is outside the ${src.height}x${src.width} image`);
  }
  if (out.length < offset + rect.height * rect.width * 3) throw new Error(`extractTile: the output holds ${out.length - offset} values, the tile needs ${rect.height * rect.width * 3}`);
  const raw = 'channels' in src;
  const c = raw ? src.channels : 3;
  for (let y = 0; y < rect.height; y++) {
    const from = ((rect.top + y) * src.width + rect.left) * c;
    const to = offset + y * rect.width * 3;
    if (raw) writeRgbFloat({ ...src, data: src.data.subarray(from, from + rect.width * c), height: 1, width: rect.width }, out, to);
    else out.set(src.data.subarray(from, from + rect.width * 3), to);
  }
}

/**
 * Stitches per-tile maps into one map of the full image: the mean of every tile's value at each
 * pixel. Holds one float32 sum buffer of the image size; the weights (how many tiles cover a
 * pixel) are the product of a per-row and a per-column count, since the tiles of a grid are every
 * row start with every column start, so no per-pixel count buffer is needed.
 */
export class MapStitcher {
  readonly grid: TileGrid;
  private readonly sum: Float32Array;
  private readonly rowCount: Uint16Array;
  private readonly colCount: Uint16Array;
  private readonly added: Uint8Array;
  private addedCount = 0;
  private finished = false;

  constructor(grid: TileGrid) {
    this.grid = grid;
    this.sum = new Float32Array(grid.height * grid.width);
    this.rowCount = coverage(grid.height, grid.rows, grid.tileHeight);
    this.colCount = coverage(grid.width, grid.cols, grid.tileWidth);
    this.added = new Uint8Array(grid.tiles.length);
  }

  /**
   * Adds tile `index`'s map (`[tileHeight, tileWidth]` row-major; e.g. a subarray of a batch of
   * maps). Each tile is added once.
   */
  add(index: number, map: ArrayLike<number>): void {
    const { tiles, tileHeight: th, tileWidth: tw, width: W } = this.grid;
    if (this.finished) throw new Error('MapStitcher.add: the map was already finished');
    if (!(index >= 0 && index < tiles.length)) throw new Error(`MapStitcher.add: tile ${index} is not one of the grid's ${tiles.length} tiles`);
    if (this.added[index]) throw new Error(`MapStitcher.add: tile ${index} was already added`);
    if (map.length !== th * tw) throw new Error(`MapStitcher.add: a tile map has ${th}x${tw} values, got ${map.length}`);
    const { top, left } = tiles[index];
    const sum = this.sum;
    for (let y = 0; y < th; y++) {
      const o = (top + y) * W + left;
      const s = y * tw;
      for (let x = 0; x < tw; x++) sum[o + x] += map[s + x];
    }
    this.added[index] = 1;
    this.addedCount++;
  }

  /** How many tiles cover pixel (`y`, `x`). */
  weight(y: number, x: number): number {
    return this.rowCount[y] * this.colCount[x];
  }

  /**
   * The stitched `[height, width]` map (mean over overlapping tiles). Divides in place and hands
   * out the sum buffer itself (no copy); the stitcher cannot be used afterwards.
   * @throws when a tile of the grid was not added
   */
  finish(): Float32Array {
    if (this.finished) throw new Error('MapStitcher.finish: already finished');
    if (this.addedCount !== this.grid.tiles.length) throw new Error(`MapStitcher.finish: ${this.grid.tiles.length - this.addedCount} of ${this.grid.tiles.length} tiles were not added`);
    const { height: H, width: W } = this.grid;
    const inverseCols = Float32Array.from(this.colCount, (c) => 1 / c);
    for (let y = 0; y < H; y++) {
      const r = 1 / this.rowCount[y];
      const o = y * W;
      for (let x = 0; x < W; x++) this.sum[o + x] *= r * inverseCols[x];
    }
    this.finished = true;
    return this.sum;
  }
}

/** Per-position count of the tiles `[start, start + size)` that cover it. */
function coverage(length: number, starts: readonly number[], size: number): Uint16Array {
  const diff = new Int32Array(length + 1);
  for (const s of starts) {
    diff[s]++;
    diff[s + size]--;
  }
  const out = new Uint16Array(length);
  for (let i = 0, run = 0; i < length; i++) out[i] = run += diff[i];
  return out;
}
