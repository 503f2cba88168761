import { DataError } from './errors.js';
import { deriveSeed, Rng, shuffled } from '@rlr/core/rng';
import { writeRgbFloat, type RawPixels } from './pixels.js';
import type { TransformGeometry } from './geometry.js';
import type { BinaryMask, ImageBatch, RgbImage, Sample } from './types.js';

/**
 * What a loader returns for one sample: the transformed image and, when it has one, its mask.
 * Loaders may hand out the decoder's integer pixels (`RawPixels`): they are converted to float
 * straight into the batch, which saves a full-size intermediate array per image.
 */
export interface LoadedSample {
  image: RgbImage | RawPixels;
  mask?: BinaryMask;
  /** Where the source image went (loaders that know it set it; see `sourceRegion`). */
  geometry?: TransformGeometry;
}

/** Decodes one sample (Node: sharp; browser: fetch + canvas). */
export type SampleLoader = (sample: Sample) => Promise<LoadedSample>;

/** Ordering and buffering of a batch stream. */
export interface BatchStreamOptions {
  /** Samples per batch. */
  batchSize: number;
  /** Visit samples in a seeded random order instead of the given order. Default false. */
  shuffle?: boolean;
  /** Seed of the shuffle. Default 0. */
  seed?: number;
  /** Mixed into the seed so each epoch gets its own (reproducible) order. Default 0. */
  epoch?: number;
  /** Batches decoded ahead of the consumer. Memory holds at most `prefetch + 1` batches. Default 2. */
  prefetch?: number;
  /** Images decoded at the same time. Default 4. */
  concurrency?: number;
  /** Drop a last batch smaller than `batchSize`. Default false. */
  dropLast?: boolean;
}

interface Slot {
  promise: Promise<LoadedSample>;
  resolve(value: LoadedSample): void;
  reject(error: unknown): void;
}

function slot(): Slot {
  let resolve!: (v: LoadedSample) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<LoadedSample>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A prefetched sample may fail after the consumer stopped; that must not be an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

function positive(value: number, setting: string, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new DataError('invalid-option', setting, `must be an integer >= ${min}, got ${value}`, `Pass ${setting} >= ${min}.`);
  }
  return value;
}

/** The order in which a stream visits `samples`. */
export function visitOrder(count: number, options: Pick<BatchStreamOptions, 'shuffle' | 'seed' | 'epoch'>): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  return options.shuffle ? shuffled(order, new Rng(deriveSeed(options.seed ?? 0, 'epoch', options.epoch ?? 0))) : order;
}

/**
 * Streams `samples` as {@link ImageBatch}es, decoding with `load`.
 *
 * A pool of `concurrency` workers decodes samples in visiting order, never more than `prefetch`
 * batches ahead of the batch the consumer holds, so memory stays bounded however long the list.
 * Every image of a batch must have the same size (use a `crop`); a failure of any sample fails
 * the stream when its batch is reached. Each iteration of the returned iterable starts over.
 */
export function streamBatches(samples: readonly Sample[], load: SampleLoader, options: BatchStreamOptions): AsyncIterable<ImageBatch> {
  const batchSize = positive(options.batchSize, 'batchSize', 1);
  const prefetch = positive(options.prefetch ?? 2, 'prefetch', 0);
  const concurrency = positive(options.concurrency ?? 4, 'concurrency', 1);
  const order = visitOrder(samples.length, options);
  const total = options.dropLast ? order.length - (order.length % batchSize) : order.length;
  const batchCount = Math.ceil(total / batchSize);

  return {
    async *[Symbol.asyncIterator]() {
      const slots = new Map<number, Slot>();
      let next = 0; // next position in `order` a worker will take
      let limit = 0; // positions below this may be loaded
      let stopped = false;
      const waiting: (() => void)[] = [];

      const slotAt = (pos: number) => {
        let s = slots.get(pos);
        if (!s) slots.set(pos, (s = slot()));
        return s;
      };
      const worker = async () => {
        for (;;) {
          while (!stopped && next >= limit && next < total) await new Promise<void>((r) => waiting.push(r));
          if (stopped || next >= total) return;
          const pos = next++;
          const target = slotAt(pos);
          try {
            target.resolve(await load(samples[order[pos]]));
          } catch (e) {
            target.reject(e);
          }
        }
      };
      const workers = Array.from({ length: Math.min(concurrency, Math.max(total, 1)) }, worker);

      try {
        for (let b = 0; b < batchCount; b++) {
          // Batch b is requested: batches b .. b + prefetch may now be decoded.
          limit = Math.min(total, (b + 1 + prefetch) * batchSize);
          waiting.splice(0).forEach((r) => r());
          const start = b * batchSize;
          const end = Math.min(total, start + batchSize);
          const loaded: LoadedSample[] = [];
          for (let pos = start; pos < end; pos++) {
            loaded.push(await slotAt(pos).promise);
            slots.delete(pos);
          }
          yield assemble(order.slice(start, end).map((i) => samples[i]), loaded);
        }
      } finally {
        stopped = true;
        waiting.splice(0).forEach((r) => r());
        await Promise.allSettled(workers);
      }
    },
  };
}

/** Packs decoded samples into one batch; every image must have the same size. */
export function assemble(samples: Sample[], loaded: LoadedSample[]): ImageBatch {
  const { height, width } = loaded[0].image;
  const pixels = height * width;
  const images = new Float32Array(loaded.length * pixels * 3);
  const masks = new Uint8Array(loaded.length * pixels);
  const hasMask: boolean[] = [];
  const geometries: TransformGeometry[] = [];
  loaded.forEach(({ image, mask, geometry }, i) => {
    if (image.height !== height || image.width !== width) {
      throw new DataError(
        'size-mismatch',
        samples[i].path,
        `decodes to ${image.height}x${image.width} but the batch's first image (${samples[0].path}) is ${height}x${width}`,
        'Pass a crop (e.g. crop: 256) so every image has the same size.',
      );
    }
    if ('channels' in image) writeRgbFloat(image, images, i * pixels * 3);
    else images.set(image.data, i * pixels * 3);
    if (mask) masks.set(mask.data, i * pixels);
    hasMask.push(mask !== undefined);
    if (geometry) geometries.push(geometry);
  });
  return { samples, images, masks, hasMask, height, width, ...(geometries.length === loaded.length ? { geometries } : {}) };
}
