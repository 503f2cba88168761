import * as tf from '@tensorflow/tfjs-core';
import { loadBackboneFromStore, type SavedBackboneConfig } from '@rlr/backbones';
import { loadModel, urlStore, type FeatureExtractor, type RLRModel } from '@rlr/core';
import { readImageUrl } from '@rlr/data';
import type { ScoredView } from './overlay.js';

/** What the page needs from a loaded model: score one picture, describe itself. */
export interface Detector {
  /** One line about the model (backbone, input size, levels) shown under the URL box. */
  readonly description: string;
  /** A threshold stored with the model, when it has one. */
  readonly threshold?: number;
  /** Resize, crop, extract features, reconstruct and score one picture (a dropped `File`). */
  score(image: Blob): Promise<ScoredView & { score: number }>;
  dispose(): void;
}

/** Load the model directory at `url` (a folder holding `config.json` and its weights). */
export async function loadDetector(url: string): Promise<Detector> {
  // #region load
  const store = urlStore(url); // read-only, over fetch: config.json, weights.safetensors, …
  const model: RLRModel = await loadModel(store);
  const meta = model.metadata as { backbone?: SavedBackboneConfig; preprocessing?: { resize?: number; crop?: number | [number, number] }; threshold?: number };
  let backbone: FeatureExtractor;
  try {
    // backbone.safetensors beside the model when present, else the URL or hf:// id in config.json
    backbone = await loadBackboneFromStore(store, meta.backbone);
  } catch (e) {
    model.dispose();
    throw e;
  }
  // #endregion load
  const [H, W] = model.spec.imageSize;
  const crop = meta.preprocessing?.crop ?? ([H, W] as [number, number]);
  const resize = meta.preprocessing?.resize ?? Math.min(H, W);
  const levels = model.levelConfigs.map((l) => `${l.grid[0]}×${l.grid[1]}`).join(' + ');
  return {
    description: `${backbone.name}, ${H}×${W} input, levels ${levels}, ${model.levelConfigs[0].layers} layer(s) per level`,
    threshold: typeof meta.threshold === 'number' ? meta.threshold : undefined,
    async score(image) {
      // #region score
      const rgb = await readImageUrl(image, { resize, crop }); // a dropped File: decode, resize, crop
      const input = tf.tensor4d(rgb.data, [1, rgb.height, rgb.width, 3]);
      const features = backbone.extract(input);
      try {
        const p = await model.predict(features);
        return { rgb: rgb.data, map: p.maps, height: p.size[0], width: p.size[1], score: p.scores[0] };
      } finally {
        tf.dispose([input, ...features]);
      }
      // #endregion score
    },
    dispose() {
      backbone.dispose();
      model.dispose();
    },
  };
}
