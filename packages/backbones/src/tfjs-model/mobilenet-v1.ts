/**
 * Keras MobileNetV1 (ImageNet, as converted to the tfjs layers format) as a backbone: the ReLU
 * after each pointwise conv that ends a resolution is a stage (strides 2, 4, 8, 16, 32), and the
 * input is scaled to [−1, 1] (`x / 127.5 − 1` on 0..255 data, i.e. `2x − 1` on [0, 1]).
 */
import type { TfjsModelDefinition } from './tfjs-model-backbone.js';

/** Width multipliers with a hosted tfjs copy. */
export type MobileNetV1Alpha = 0.25 | 0.75 | 1;

/** The stage taps, shallow to deep. */
export const MOBILENET_V1_TAPS = [
  'conv_pw_1_relu',
  'conv_pw_3_relu',
  'conv_pw_5_relu',
  'conv_pw_11_relu',
  'conv_pw_13_relu',
] as const;

/** Tap definition of MobileNetV1 with width multiplier `alpha`. */
export function mobileNetV1Definition(alpha: MobileNetV1Alpha): TfjsModelDefinition {
  return {
    format: 'layers',
    taps: MOBILENET_V1_TAPS,
    reductions: [2, 4, 8, 16, 32],
    channels: [64, 128, 256, 512, 1024].map((c) => Math.round(c * alpha)),
    preprocessing: 'signed-unit',
    defaultOutIndices: [2, 3],
  };
}

/** The TensorFlow.js team's hosted copy of the Keras weights (224x224 ImageNet). */
export function mobileNetV1Url(alpha: MobileNetV1Alpha): string {
  const a = alpha === 1 ? '1.0' : String(alpha);
  return `https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_${a}_224/model.json`;
}
