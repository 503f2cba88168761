/**
 * Folding an inference-mode BatchNorm into the conv before it:
 * BN(conv(x)) = conv(x)·s + (β − μ·s) with s = γ / sqrt(σ² + ε), so the conv kernel is scaled
 * per output channel and the BN becomes a bias. One conv with bias replaces conv + 4 elementwise ops.
 */

/** The four tensors of a BatchNorm (PyTorch names: weight, bias, running_mean, running_var). */
export interface BatchNormParams {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
}

/** Per-channel scale `s` and bias `β − μ·s` of a BatchNorm in inference mode. */
export function foldBatchNorm(bn: BatchNormParams, eps: number): { scale: Float32Array; bias: Float32Array } {
  const n = bn.gamma.length;
  const scale = new Float32Array(n);
  const bias = new Float32Array(n);
  for (let c = 0; c < n; c++) {
    // Computed in float64 then rounded once, to stay as close as possible to the unfused op order.
    const s = bn.gamma[c] / Math.sqrt(bn.variance[c] + eps);
    scale[c] = s;
    bias[c] = bn.beta[c] - bn.mean[c] * s;
  }
  return { scale, bias };
}
