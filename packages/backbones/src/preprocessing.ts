/**
 * Input normalisations of the supported backbones. Images arrive as RGB in [0, 1] (the project's
 * convention between packages); each backbone maps them to what its weights were trained on.
 */
import * as tf from '@tensorflow/tfjs-core';

/** ImageNet channel means (RGB), as used by timm's EfficientNet weights. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
/** ImageNet channel standard deviations (RGB). */
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** A normalisation by name, so that configs stay JSON. */
export type Preprocessing = 'imagenet' | 'signed-unit' | 'none';

/**
 * `(x − mean) / std` per channel.
 * @param images `[B, H, W, 3]` in [0, 1] → same shape
 */
export function imagenetNormalize(images: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const scale = tf.tensor1d(IMAGENET_STD.map((s) => 1 / s));
    const shift = tf.tensor1d(IMAGENET_MEAN.map((m, i) => -m / IMAGENET_STD[i]));
    return tf.add(tf.mul(images, scale), shift);
  });
}

/**
 * `2x − 1`: [0, 1] → [−1, 1] (Keras MobileNet's `x / 127.5 − 1` on 0..255 input).
 * @param images `[B, H, W, C]` → same shape
 */
export function signedUnitRange(images: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.sub(tf.mul(images, 2), 1));
}

/** Apply a named normalisation. */
export function preprocess(images: tf.Tensor4D, kind: Preprocessing): tf.Tensor4D {
  switch (kind) {
    case 'imagenet':
      return imagenetNormalize(images);
    case 'signed-unit':
      return signedUnitRange(images);
    case 'none':
      return tf.clone(images);
  }
}

/** Check the `[B, H, W, 3]` float input every extractor takes; `who` names the extractor. */
export function checkImages(images: tf.Tensor, who: string, channels = 3): void {
  if (images.rank !== 4 || images.shape[3] !== channels) {
    throw new Error(
      `${who}: extract() takes images as [B, H, W, ${channels}] RGB in [0, 1]; got shape [${images.shape.join(', ')}]`,
    );
  }
  if (images.dtype !== 'float32') {
    throw new Error(`${who}: extract() takes float32 images in [0, 1]; got dtype ${images.dtype} (divide 0..255 data by 255)`);
  }
}
