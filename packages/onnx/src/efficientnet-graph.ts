/**
 * EfficientNet (timm `tf_efficientnet_*`, BatchNorm folded exactly as @rlr/backbones runs it) as
 * ONNX nodes: stem, depthwise-separable and inverted-residual blocks with squeeze-excitation.
 */
import { blockConvs, efficientNetArchitecture, foldEfficientNetWeights, stemConv, type EfficientNetExtractor, type FoldedConv } from '@rlr/backbones';
import type { GraphBuilder } from './graph-builder.js';
import { conv, silu, type Feature } from './conv-graph.js';

function foldedConv(g: GraphBuilder, x: Feature, c: FoldedConv, hint: string): Feature {
  const shape: [number, number, number, number] = c.kind === 'matmul' ? [1, 1, c.shape[0], c.shape[1]] : (c.shape as [number, number, number, number]);
  return conv(g, x, { kernel: c.weight, kernelShape: shape, depthwise: c.kind === 'depthwise', bias: c.bias, strides: [c.stride, c.stride], padding: 'same' }, hint);
}

/**
 * @param x the ImageNet-normalised input `[B, 3, H, W]`
 * @returns the unsmoothed maps of the extractor's out indices, in their order
 */
export function addEfficientNet(g: GraphBuilder, extractor: EfficientNetExtractor, x: Feature): Feature[] {
  const arch = efficientNetArchitecture(extractor.name);
  const folded = foldEfficientNetWeights(arch, extractor.checkpointTensors(), extractor.blockCount, extractor.name);
  const get = (name: string) => {
    const c = folded.convs.get(name);
    if (!c) throw new Error(`ONNX export: EfficientNet layer ${name} is missing`);
    return c;
  };
  const wanted = new Map<number, number>();
  extractor.outIndices.forEach((stage, pos) => wanted.set(arch.features[stage].blockCount - 1, pos));
  const outs: Feature[] = new Array<Feature>(extractor.outIndices.length);
  const stem = foldedConv(g, x, get(stemConv(arch).conv), 'stem');
  let h: Feature = { name: silu(g, stem.name), shape: stem.shape };
  for (let i = 0; i < extractor.blockCount; i++) {
    const block = arch.blocks[i];
    const { expand, dw, project } = blockConvs(block);
    const hint = block.prefix.replace(/\./g, '_');
    let y = h;
    if (expand) {
      const e = foldedConv(g, y, get(expand.conv), `${hint}_pw`);
      y = { name: silu(g, e.name), shape: e.shape };
    }
    const d = foldedConv(g, y, get(dw.conv), `${hint}_dw`);
    y = { name: silu(g, d.name), shape: d.shape };
    const se = folded.se.get(block.prefix);
    if (!se) throw new Error(`ONNX export: EfficientNet squeeze-excitation ${block.prefix} is missing`);
    const pooled: Feature = { name: g.node('GlobalAveragePool', [y.name]), shape: [y.shape[0], 1, 1] };
    const r = conv(g, pooled, { kernel: se.reduceWeight, kernelShape: [1, 1, se.channels, se.reduced], depthwise: false, bias: se.reduceBias, strides: [1, 1], padding: 'valid' }, `${hint}_se_r`);
    const ex = conv(g, { name: silu(g, r.name), shape: r.shape }, { kernel: se.expandWeight, kernelShape: [1, 1, se.reduced, se.channels], depthwise: false, bias: se.expandBias, strides: [1, 1], padding: 'valid' }, `${hint}_se_e`);
    const gated: Feature = { name: g.node('Mul', [y.name, g.node('Sigmoid', [ex.name])]), shape: y.shape };
    const p = foldedConv(g, gated, get(project.conv), `${hint}_pwl`);
    h = block.skip ? { name: g.node('Add', [p.name, h.name]), shape: p.shape } : p;
    const pos = wanted.get(i);
    if (pos !== undefined) outs[pos] = h;
  }
  return outs;
}
