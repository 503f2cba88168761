/**
 * Rebuilding a Keras/tfjs layers model for any input size: a converted model records the input
 * shape it was exported with (e.g. `[null, 224, 224, 3]`), but a fully convolutional trunk works
 * at any size. The saved topology is patched so that height and width are `null` before the
 * model is deserialised.
 */
import type * as tf from '@tensorflow/tfjs-core';

interface LayerJson {
  class_name?: string;
  config?: { batch_input_shape?: (number | null)[]; batchInputShape?: (number | null)[] };
}

function layersOf(topology: unknown): LayerJson[] {
  const t = topology as { model_config?: unknown; config?: { layers?: LayerJson[] } };
  const root = (t.model_config ?? t) as { config?: { layers?: LayerJson[] } };
  return root.config?.layers ?? [];
}

/**
 * Set the spatial dimensions of every declared input shape to `null` (a new topology object).
 * @returns the patched topology and how many input shapes were changed
 */
export function freeSpatialInputSize(topology: object): { topology: object; patched: number } {
  const copy = structuredClone(topology) as object;
  let patched = 0;
  for (const layer of layersOf(copy)) {
    const cfg = layer.config;
    if (!cfg) continue;
    for (const key of ['batch_input_shape', 'batchInputShape'] as const) {
      const shape = cfg[key];
      if (Array.isArray(shape) && shape.length === 4) {
        cfg[key] = [shape[0], null, null, shape[3]];
        patched++;
      }
    }
  }
  return { topology: copy, patched };
}

/** Wrap a load handler so the model it loads accepts any input height and width. */
export function withFreeInputSize(handler: tf.io.IOHandler): tf.io.IOHandler {
  return {
    async load() {
      if (!handler.load) throw new Error('withFreeInputSize: the IOHandler cannot load');
      const artifacts = await handler.load();
      if (artifacts.modelTopology && !(artifacts.modelTopology instanceof ArrayBuffer)) {
        return { ...artifacts, modelTopology: freeSpatialInputSize(artifacts.modelTopology).topology };
      }
      return artifacts;
    },
  };
}
