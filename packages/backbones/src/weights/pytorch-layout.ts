/**
 * PyTorch → TensorFlow.js weight layouts. PyTorch stores a conv kernel as `[out, in/groups, kh, kw]`;
 * tfjs wants `[kh, kw, in, out]` for `conv2d` and `[kh, kw, channels, 1]` for `depthwiseConv2d`.
 * A 1x1 conv becomes the `[in, out]` matrix of an untransposed matMul (the fast path on wasm).
 */

/**
 * Reorder a PyTorch conv kernel `[O, I, kh, kw]` into tfjs `[kh, kw, I, O]`, optionally scaling
 * each output channel (used to fold a BatchNorm into the conv).
 * For a depthwise kernel `[C, 1, kh, kw]` the result's memory is `[kh, kw, C, 1]`'s too.
 */
export function torchConvToTfjs(
  src: Float32Array,
  shape: readonly [number, number, number, number],
  outScale?: Float32Array,
): Float32Array {
  const [o, i, kh, kw] = shape;
  if (src.length !== o * i * kh * kw) {
    throw new Error(`torchConvToTfjs: ${src.length} values do not fill shape [${shape.join(', ')}]`);
  }
  const dst = new Float32Array(src.length);
  for (let oc = 0; oc < o; oc++) {
    const s = outScale ? outScale[oc] : 1;
    for (let ic = 0; ic < i; ic++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          dst[((y * kw + x) * i + ic) * o + oc] = src[((oc * i + ic) * kh + y) * kw + x] * s;
        }
      }
    }
  }
  return dst;
}

/** tfjs shape of a PyTorch conv kernel: `[kh, kw, in, out]`, or `[kh, kw, C, 1]` when depthwise. */
export function tfjsConvShape(
  shape: readonly [number, number, number, number],
  depthwise: boolean,
): [number, number, number, number] {
  const [o, i, kh, kw] = shape;
  return depthwise ? [kh, kw, o, 1] : [kh, kw, i, o];
}
