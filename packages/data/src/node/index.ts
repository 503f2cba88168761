/**
 * `@rlr/data/node`: the Node-only half of `@rlr/data` (files, sharp decoding, dataset loaders,
 * the synthetic dataset writer, a file-backed blob store). Everything from the browser-safe main
 * entry is re-exported, so Node programs need only this import.
 *
 * @packageDocumentation
 */
export * from '../index.js';
export { readImage, readImagePixels, readMask, loadSample, type DecodedImage, type DecodedMask, type ReadImageOptions, type ReadMaskOptions } from './image-transform.js';
export { DEFAULT_MAX_IMAGE_PIXELS, maxImagePixels, openImage, sniffFormat, type ImageFormat, type ImageInput, type OpenedImage } from './decode.js';
export { batches, type BatchOptions } from './batches.js';
export { readTiledImage, tiledImages, tileBatchesOf, tileBatches, countTiles, type TileStreamOptions, type TiledImage, type TileBatch } from './tile-stream.js';
export { loadMvtec, type MvtecOptions } from './mvtec.js';
export { loadVisa, type VisaOptions } from './visa.js';
export { loadFolder, type FolderOptions } from './folder.js';
export { validateDataset, type ValidationReport } from './validate.js';
export { generateDataset, type GenerateOptions } from './generate-dataset.js';
export { readSyntheticManifest, SYNTHETIC_MANIFEST, type SyntheticManifest } from './synthetic-manifest.js';
