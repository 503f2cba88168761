import type { ScoredView } from './overlay.js';

/** What the page needs from a loaded model: score one picture, describe itself. */
export interface Detector {
  /** One line about the model (backbone, input size, levels) shown under the URL box. */
  readonly description: string;
  /** A threshold stored with the model, when it has one. */
  readonly threshold?: number;
  /** Resize, crop, extract features, reconstruct and score one picture. */
  score(image: ImageBitmap): Promise<ScoredView & { score: number }>;
  dispose(): void;
}

/** Load the model directory at `url` (a folder holding `config.json` and its weights). */
export async function loadDetector(url: string): Promise<Detector> {
  throw new Error(`cannot load ${url}: the @rlr packages do not provide browser loading yet`);
}
