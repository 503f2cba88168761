import { streamBatches, type BatchStreamOptions } from '../batch-stream.js';
import type { TransformOptions } from '../geometry.js';
import type { ImageBatch, Sample } from '../types.js';
import { loadSample } from './image-transform.js';

/** Options of {@link batches}: stream ordering/buffering plus the image transform. */
export interface BatchOptions extends BatchStreamOptions, TransformOptions {}

/**
 * Streams samples as decoded {@link ImageBatch}es (`[B, H, W, 3]` RGB in [0, 1] plus masks).
 * Decoding runs on libuv's thread pool through sharp, `concurrency` images at a time (default:
 * the thread pool size, `UV_THREADPOOL_SIZE` or 4), prefetching `prefetch` batches (default 2).
 * Pass a `crop` so every image has the same size.
 */
export function batches(samples: readonly Sample[], options: BatchOptions): AsyncIterable<ImageBatch> {
  const transform: TransformOptions = { resize: options.resize, crop: options.crop, mode: options.mode };
  return streamBatches(samples, (s) => loadSample(s, transform), { ...options, concurrency: options.concurrency ?? defaultConcurrency() });
}

/** sharp runs each decode on one libuv pool thread; more images in flight than threads only queue. */
export function defaultConcurrency(): number {
  return Number(process.env.UV_THREADPOOL_SIZE) || 4;
}
