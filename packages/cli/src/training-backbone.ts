/**
 * The backbone of a training run (RLR or knn): the run's weights, or, without pretrained ones, a
 * random backbone calibrated on a spread of its training images.
 */
import type { Sample } from '@rlr/data';
import { loadBackbone, type LoadedBackbone } from './backbone.js';
import { modelGeometry } from './input-geometry.js';
import type { TrainRunOptions } from './train-run-options.js';
import type { RunSettings } from './run-settings.js';
import { calibrationSamples, CALIBRATION_IMAGES, loadImages } from '@rlr/engine/node';

/** Load (or build and calibrate) the backbone `settings` names and log what it is. */
export async function loadTrainingBackbone(settings: RunSettings, o: TrainRunOptions, train: Sample[]): Promise<LoadedBackbone> {
  const g = modelGeometry(settings.model);
  const calibration = calibrationSamples(train, CALIBRATION_IMAGES).map((s) => s.path);
  const backbone = await loadBackbone(
    {
      name: settings.model.backbone,
      outIndices: settings.model.outIndices,
      weights: settings.weights,
      seed: settings.train.seed,
      offline: o.offline,
      cacheDir: o.cacheDir,
      cwd: o.cwd,
      allowRandomFallback: o.allowRandomFallback,
      downloadTimeoutMs: o.downloadTimeoutMs,
      signal: o.signal,
    },
    o.log,
    () => loadImages(calibration, g),
  );
  if (!backbone.pretrained) o.log.info(`backbone: ${settings.model.backbone} with ${backbone.weightsDescription}`);
  else o.log.info(`backbone: ${settings.model.backbone} (${backbone.weightsDescription})`);
  return backbone;
}
