/**
 * Composite operations on a {@link GraphBuilder}: linear maps, layer norm, GELU, token scores.
 * Each mirrors the formula of the matching @rlr/core function so that onnxruntime and tfjs agree.
 */
import type { GraphBuilder } from './graph-builder.js';

/** PyTorch `nn.LayerNorm` epsilon, as in @rlr/core's layer norm. */
export const LAYER_NORM_EPS = 1e-5;
/** The norm floor of @rlr/core's cosine similarity. */
export const COSINE_EPS = 1e-8;

/** `x·W + b` with W `[in, out]` (host values) and b `[out]`. */
export function linear(g: GraphBuilder, x: string, w: Float32Array, b: Float32Array, inDim: number, outDim: number, hint: string): string {
  const wName = g.floats(`${hint}_w`, w, [inDim, outDim]);
  const bName = g.floats(`${hint}_b`, b, [outDim]);
  return g.node('Add', [g.node('MatMul', [x, wName]), bName]);
}

/** Layer norm over the last axis with gain and bias `[d]`. */
export function layerNorm(g: GraphBuilder, x: string, gain: Float32Array, bias: Float32Array, hint: string): string {
  const d = gain.length;
  return g.node('LayerNormalization', [x, g.floats(`${hint}_g`, gain, [d]), g.floats(`${hint}_b`, bias, [d])], { axis: -1, epsilon: { f: LAYER_NORM_EPS } });
}

/** Exact GELU x·(1 + erf(x/√2))/2. */
export function gelu(g: GraphBuilder, x: string): string {
  const e = g.node('Erf', [g.node('Mul', [x, g.scalar('sqrt1_2', Math.SQRT1_2)])]);
  const cdf = g.node('Mul', [g.node('Add', [e, g.scalar('one', 1)]), g.scalar('half', 0.5)]);
  return g.node('Mul', [x, cdf]);
}

/**
 * RLR token scores: mean over channels of (rec − t)² plus 1 − cos(rec, t).
 * @param rec, t `[B, N, C]` → `[B, N]`
 */
export function rlrTokenScores(g: GraphBuilder, rec: string, t: string): string {
  const diff = g.node('Sub', [rec, t]);
  const sq = g.node('ReduceMean', [g.node('Mul', [diff, diff])], { axes: [-1], keepdims: 0 });
  const dot = g.node('ReduceSum', [g.node('Mul', [rec, t]), g.int64s('axis_last', [-1])], { keepdims: 0 });
  const eps = g.scalar('cos_eps', COSINE_EPS);
  const nr = g.node('Max', [g.node('ReduceL2', [rec], { axes: [-1], keepdims: 0 }), eps]);
  const nt = g.node('Max', [g.node('ReduceL2', [t], { axes: [-1], keepdims: 0 }), eps]);
  const cos = g.node('Div', [dot, g.node('Mul', [nr, nt])]);
  return g.node('Add', [sq, g.node('Sub', [g.scalar('one', 1), cos])]);
}
