/**
 * Convolutions on NCHW values with TF padding rules, from kernels in the tfjs layouts
 * (`[kh, kw, in, out]`, depthwise `[kh, kw, C, multiplier]`).
 */
import type { GraphBuilder } from './graph-builder.js';

/** A value of the graph with its known `[C, H, W]` (the batch is symbolic). */
export interface Feature {
  name: string;
  shape: [number, number, number];
}

/** A convolution to add. */
export interface ConvSpec {
  /** tfjs kernel: `[kh, kw, in, out]` (`conv`) or `[kh, kw, C, multiplier]` (`depthwise`). */
  kernel: Float32Array;
  kernelShape: [number, number, number, number];
  depthwise: boolean;
  bias?: Float32Array;
  strides: [number, number];
  dilations?: [number, number];
  /** TF padding: `same` (extra row/column at the end when odd) or `valid`. */
  padding: 'same' | 'valid';
}

/** Output size and `[before, after]` padding of one axis under TF rules. */
function axisPadding(size: number, kernel: number, stride: number, dilation: number, padding: 'same' | 'valid'): { out: number; pad: [number, number] } {
  const eff = (kernel - 1) * dilation + 1;
  if (padding === 'valid') return { out: Math.floor((size - eff) / stride) + 1, pad: [0, 0] };
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + eff - size, 0);
  return { out, pad: [Math.floor(total / 2), total - Math.floor(total / 2)] };
}

/** tfjs kernel → ONNX `[out, in/groups, kh, kw]`. */
function onnxKernel(s: ConvSpec): { data: Float32Array; dims: number[] } {
  const [kh, kw, a, b] = s.kernelShape;
  const out = new Float32Array(s.kernel.length);
  if (s.depthwise) {
    // tfjs output channel c·mult + m comes from input channel c.
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let c = 0; c < a; c++) for (let m = 0; m < b; m++) out[((c * b + m) * kh + y) * kw + x] = s.kernel[((y * kw + x) * a + c) * b + m];
    return { data: out, dims: [a * b, 1, kh, kw] };
  }
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < a; i++) for (let o = 0; o < b; o++) out[((o * a + i) * kh + y) * kw + x] = s.kernel[((y * kw + x) * a + i) * b + o];
  return { data: out, dims: [b, a, kh, kw] };
}

/** Add a convolution of `x`. */
export function conv(g: GraphBuilder, x: Feature, s: ConvSpec, hint: string): Feature {
  const [kh, kw, cin, last] = s.kernelShape;
  if (cin !== x.shape[0]) throw new Error(`ONNX export: ${hint} expects ${cin} input channels, got ${x.shape[0]}`);
  const dil = s.dilations ?? [1, 1];
  const ph = axisPadding(x.shape[1], kh, s.strides[0], dil[0], s.padding);
  const pw = axisPadding(x.shape[2], kw, s.strides[1], dil[1], s.padding);
  const k = onnxKernel(s);
  const cout = s.depthwise ? cin * last : last;
  const inputs = [x.name, g.floats(`${hint}_w`, k.data, k.dims)];
  if (s.bias) inputs.push(g.floats(`${hint}_b`, s.bias, [cout]));
  const name = g.node('Conv', inputs, {
    kernel_shape: [kh, kw],
    strides: s.strides,
    dilations: dil,
    pads: [ph.pad[0], pw.pad[0], ph.pad[1], pw.pad[1]],
    group: s.depthwise ? cin : 1,
  });
  return { name, shape: [cout, ph.out, pw.out] };
}

/** x·sigmoid(x). */
export function silu(g: GraphBuilder, x: string): string {
  return g.node('Mul', [x, g.node('Sigmoid', [x])]);
}
