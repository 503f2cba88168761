/**
 * The onnxruntime column of `rlr bench`: the bench's model and backbone exported to ONNX in
 * memory and timed end to end (uint8 image → score and map) on the same images as tfjs.
 */
import type { FeatureExtractor, KnnModel, RLRModel } from '@rlr/core';
import { exportDetector } from '@rlr/onnx';
import { OnnxDetector, toUint8 } from '@rlr/onnx/node';

/**
 * Median ms per batch of `images` (`[B, H, W, 3]` in [0, 1]) scored by onnxruntime with `threads`
 * intra-op threads, after `warmup` untimed runs.
 */
export async function timeOnnxInference(
  extractor: FeatureExtractor,
  model: RLRModel | KnnModel,
  images: { images: Float32Array; batch: number; height: number; width: number },
  o: { warmup: number; iterations: number; threads: number; time: (warmup: number, iterations: number, fn: () => Promise<void>) => Promise<number> },
): Promise<number> {
  const detector = await OnnxDetector.load(await exportDetector(extractor, model), 'the bench model (in memory)', { threads: o.threads });
  try {
    const pixels = toUint8(images.images);
    return await o.time(o.warmup, o.iterations, async () => {
      await detector.score({ images: pixels, batch: images.batch, height: images.height, width: images.width });
    });
  } finally {
    await detector.dispose();
  }
}
