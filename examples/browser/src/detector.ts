import { readImageUrl } from '@rlr/data';
import { Detector as ModelFolder, isKnn } from '@rlr/engine';
import type { ScoredView } from './overlay.js';

/** What the page needs from a loaded model: score one picture, describe itself. */
export interface Detector {
  /** One line about the model (backbone, input size, levels) shown under the URL box. */
  readonly description: string;
  /** The model's own threshold (fitted on validation normals by `rlr train`), when it has one. */
  readonly threshold?: number;
  /** Resize, crop, extract features, reconstruct and score one picture (a dropped `File`). */
  score(image: Blob): Promise<ScoredView & { score: number; normalizedScore: number | null }>;
  dispose(): void;
}

/** Load the model directory at `url` (a folder holding `config.json` and its weights). */
export async function loadDetector(url: string): Promise<Detector> {
  // #region load
  // Read-only, over fetch: config.json, weights.safetensors, backbone.safetensors, postprocessor.json
  const detector = await ModelFolder.load(url);
  // #endregion load
  const [H, W] = detector.geometry.crop;
  const levels = detector.model.spec.levels.map((l) => `${l.grid[0]}×${l.grid[1]}`).join(' + ');
  const layers = isKnn(detector.model) ? ', nearest-neighbour bank' : `, ${detector.model.levelConfigs[0].layers} layer(s) per level`;
  return {
    description: `${detector.extractor.name}, ${H}×${W} input, levels ${levels}${layers}`,
    threshold: detector.postProcessor?.imageThreshold,
    async score(image) {
      // #region score
      const rgb = await readImageUrl(image, detector.geometry); // a dropped File: decode, resize, crop
      const p = await detector.predict(rgb); // { score, normalizedScore, label, map, mask }
      return { rgb: rgb.data, map: p.map, height: p.height, width: p.width, score: p.score, normalizedScore: p.normalizedScore };
      // #endregion score
    },
    dispose() {
      detector.dispose();
    },
  };
}
