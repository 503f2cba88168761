/**
 * `@rlr/data`: images and datasets for unsupervised anomaly detection, browser-safe.
 *
 * This entry has no Node built-ins and no native code: shared types, the resize/crop geometry,
 * the browser image path (canvas), the batch stream, seeded shuffling and the synthetic image
 * renderer. File loaders, sharp decoding and the dataset writer are in `@rlr/data/node`.
 *
 * @packageDocumentation
 */
export type { DatasetFormat, Sample, SkippedEntry, AnomalyDataset, RgbImage, BinaryMask, ImageBatch } from './types.js';
export { DataError, type DataErrorCode } from './errors.js';
export {
  transformGeometry,
  resizedShape,
  cropShape,
  outputShape,
  roundHalfToEven,
  contentWindow,
  sourceRegion,
  keptFraction,
  RESIZE_MODES,
  PAD_RGB,
  type CropSize,
  type TransformOptions,
  type TransformGeometry,
  type ResizeMode,
  type PixelRect,
} from './geometry.js';
export { writeRgbFloat, toRgbFloat, transformMask, placeInWindow, fillPadding, mapToSource, type RawPixels } from './pixels.js';
export { checkTiling, tileStarts, tileGrid, extractTile, MapStitcher, type TilingOptions, type TileGrid } from './tiling.js';
export { downscaleMean, downscaleMask, fitWithin } from './downscale.js';
export { IMAGE_EXTENSIONS, classifyEntry, extensionOf, stemOf, isImageName, type EntryKind } from './image-files.js';
export { streamBatches, assemble, visitOrder, type BatchStreamOptions, type LoadedSample, type SampleLoader } from './batch-stream.js';
export { imageFromSource, pixelsFromSource, maskFromSource, defaultCanvas, sourceSize, type Canvas2D, type CanvasFactory, type CanvasTransformOptions, type ImageSourceLike } from './browser/canvas-transform.js';
export { readImageUrl, readMaskUrl, loadSampleUrl, urlBatches, type UrlLoadOptions } from './browser/url-loader.js';
export * from './synthetic/index.js';
