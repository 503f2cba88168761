/**
 * `@rlr/engine/node`: the Node half of `@rlr/engine`. Its {@link Detector} loads model folders
 * from paths, predicts on files and Buffers, and trains (`Detector.fit`) with feature caches,
 * checkpoints and worker threads. Everything of the browser-safe entry is re-exported.
 *
 * @packageDocumentation
 */
export * from '../index.js';
export { Detector, type NodeDetectorLoadOptions, type NodeFitResult } from './detector.js';
export { fitDetector, type FitOptions, type FitResult, type FitTraining } from './fit.js';
export { nodeIO, decodeNode } from './node-io.js';
export { trainingFeatures, tileOptions } from './training-features.js';
export { scoreTiledImage, type TiledScore } from './tiled-scoring.js';
export { splitValidation, validationRecord, writeValidationRecord, checkRecordedSplit, type ValidationRecord, type ValidationSplit } from './validation-split.js';
export { fingerprintImages, fingerprintChange, type ImageFingerprint } from './image-fingerprints.js';
export { checkImageSizes, warnAboutImageSizes, warnAboutTestCrops, MAX_UPSCALE, MIN_KEPT, KEPT_IN_FULL, type ImageSizeFindings } from './image-size-check.js';
export { WORK_FILES, workPath } from './work-dir.js';
export { randomBackbone, calibrationSamples, loadImages, CALIBRATION_IMAGES, type RandomBackboneOptions } from './random-backbone.js';
