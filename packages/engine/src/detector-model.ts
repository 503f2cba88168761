/**
 * The model half of a detector: RLR, or the nearest-neighbour baseline (`--model knn`), read from
 * and written to one model folder through a {@link BlobStore}.
 */
import { isKnnModel, type KnnModel, loadKnnModel, loadModel, saveKnnModel, saveModel, type BlobStore, type RLRModel } from '@rlr/core';

/** The scoring model of a detector: RLR, or the nearest-neighbour baseline. */
export type DetectorModel = RLRModel | KnnModel;

/** Whether a detector's model is the nearest-neighbour baseline. */
export function isKnn(model: DetectorModel): model is KnnModel {
  return (model as KnnModel).kind === 'knn';
}

/** Save either kind into `store` (config.json with `extra`, plus weights.safetensors or bank.safetensors). */
export async function saveDetectorModel(model: DetectorModel, store: BlobStore, extra: Record<string, unknown> = {}): Promise<void> {
  if (isKnn(model)) await saveKnnModel(model, store, extra);
  else await saveModel(model, store, extra);
}

/** Load the model saved in `store`, of either kind. */
export async function loadDetectorModel(store: BlobStore): Promise<DetectorModel> {
  return (await isKnnModel(store)) ? loadKnnModel(store) : loadModel(store);
}
