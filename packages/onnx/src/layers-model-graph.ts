/**
 * A tfjs layers model (Keras-style, e.g. MobileNetV1) up to its tapped layers as ONNX nodes.
 * Supported layers: InputLayer, Conv2D, DepthwiseConv2D, BatchNormalization, Activation and ReLU
 * (linear, relu, relu6, sigmoid, tanh, swish/silu), ZeroPadding2D, Add, Dropout (identity).
 * Anything else is refused with the layer's name and class.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { TfjsModelBackbone } from '@rlr/backbones';
import type { GraphBuilder } from './graph-builder.js';
import { conv, silu, type Feature } from './conv-graph.js';

type Config = Record<string, unknown>;

const pair = (v: unknown, what: string): [number, number] => {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number')) return [v[0], v[1]];
  throw new Error(`ONNX export: cannot read ${what} = ${JSON.stringify(v)}`);
};

function activation(g: GraphBuilder, x: string, name: unknown, layer: string): string {
  switch (name) {
    case undefined:
    case null:
    case 'linear':
      return x;
    case 'relu':
      return g.node('Relu', [x]);
    case 'relu6':
      return g.node('Clip', [x, g.scalar('zero', 0), g.scalar('six', 6)]);
    case 'sigmoid':
      return g.node('Sigmoid', [x]);
    case 'tanh':
      return g.node('Tanh', [x]);
    case 'swish':
    case 'silu':
      return silu(g, x);
    default:
      throw new Error(`ONNX export: layer ${layer} uses activation "${String(name)}", which the exporter does not support`);
  }
}

async function values(layer: tfl.layers.Layer): Promise<Float32Array[]> {
  return Promise.all(layer.getWeights().map(async (w) => (await w.data()) as Float32Array));
}

function inboundNames(layer: tfl.layers.Layer): string[] {
  const node = layer.inboundNodes[0];
  return node ? node.inboundLayers.map((l) => l.name) : [];
}

/**
 * @param x the preprocessed input `[B, 3, H, W]`
 * @returns the unsmoothed maps of the backbone's taps, in the order of its out indices
 */
export async function addLayersModel(g: GraphBuilder, backbone: TfjsModelBackbone, x: Feature): Promise<Feature[]> {
  if (backbone.definition.format !== 'layers') {
    throw new Error(`ONNX export: backbone ${backbone.name} is a tfjs graph model; only layers models (and EfficientNet) can be exported`);
  }
  const taps = backbone.outIndices.map((i) => backbone.definition.taps[i]);
  const model = await tfl.loadLayersModel(tf.io.fromMemory(await backbone.modelArtifacts()));
  try {
    const byName = new Map(model.layers.map((l) => [l.name, l]));
    // Only the layers the taps depend on.
    const needed = new Set<string>();
    const stack = [...taps];
    while (stack.length) {
      const n = stack.pop()!;
      if (needed.has(n)) continue;
      if (!byName.has(n)) throw new Error(`ONNX export: backbone ${backbone.name} has no layer "${n}"`);
      needed.add(n);
      stack.push(...inboundNames(byName.get(n)!));
    }
    const out = new Map<string, Feature>();
    for (const layer of model.layers) {
      if (!needed.has(layer.name)) continue;
      const cls = layer.getClassName();
      const cfg = layer.getConfig() as Config;
      const ins = inboundNames(layer).map((n) => out.get(n)!);
      const hint = layer.name.replace(/[^A-Za-z0-9_]/g, '_');
      const w = await values(layer);
      let y: Feature;
      switch (cls) {
        case 'InputLayer':
          y = x;
          break;
        case 'Conv2D':
        case 'DepthwiseConv2D': {
          const depthwise = cls === 'DepthwiseConv2D';
          const kernel = layer.getWeights()[0];
          if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast' && cfg.dataFormat !== 'channels_last') throw new Error(`ONNX export: layer ${layer.name} is not channels_last`);
          if (!depthwise && cfg.groups !== undefined && cfg.groups !== 1) throw new Error(`ONNX export: grouped Conv2D ${layer.name} is not supported`);
          const c = conv(
            g,
            ins[0],
            {
              kernel: w[0],
              kernelShape: kernel.shape as [number, number, number, number],
              depthwise,
              bias: cfg.useBias === false ? undefined : w[1],
              strides: pair(cfg.strides, `${layer.name}.strides`),
              dilations: pair(cfg.dilationRate ?? 1, `${layer.name}.dilationRate`),
              padding: cfg.padding === 'valid' ? 'valid' : 'same',
            },
            hint,
          );
          y = { name: activation(g, c.name, cfg.activation, layer.name), shape: c.shape };
          if (cfg.padding !== 'valid' && cfg.padding !== 'same') throw new Error(`ONNX export: layer ${layer.name} has padding ${String(cfg.padding)}`);
          break;
        }
        case 'BatchNormalization': {
          const C = ins[0].shape[0];
          const axis = cfg.axis;
          if (axis !== -1 && axis !== 3 && !(Array.isArray(axis) && (axis[0] === -1 || axis[0] === 3))) throw new Error(`ONNX export: layer ${layer.name} normalises axis ${JSON.stringify(axis)}, not the channels`);
          let k = 0;
          const gamma = cfg.scale === false ? new Float32Array(C).fill(1) : w[k++];
          const beta = cfg.center === false ? new Float32Array(C) : w[k++];
          const mean = w[k++];
          const variance = w[k++];
          const name = g.node(
            'BatchNormalization',
            [ins[0].name, g.floats(`${hint}_g`, gamma, [C]), g.floats(`${hint}_b`, beta, [C]), g.floats(`${hint}_m`, mean, [C]), g.floats(`${hint}_v`, variance, [C])],
            { epsilon: { f: Number(cfg.epsilon ?? 1e-3) } },
          );
          y = { name, shape: ins[0].shape };
          break;
        }
        case 'Activation':
          y = { name: activation(g, ins[0].name, cfg.activation, layer.name), shape: ins[0].shape };
          break;
        case 'ReLU': {
          if (cfg.negativeSlope || cfg.threshold) throw new Error(`ONNX export: ReLU ${layer.name} with a slope or threshold is not supported`);
          const max = cfg.maxValue;
          const name = typeof max === 'number' ? g.node('Clip', [ins[0].name, g.scalar('zero', 0), g.scalar(`${hint}_max`, max)]) : g.node('Relu', [ins[0].name]);
          y = { name, shape: ins[0].shape };
          break;
        }
        case 'ZeroPadding2D': {
          const p = cfg.padding as number | [number, number] | [[number, number], [number, number]];
          const [[t, b], [l, r]] = typeof p === 'number' ? [[p, p], [p, p]] : typeof p[0] === 'number' ? [[p[0], p[0]], [p[1] as number, p[1] as number]] : (p as [[number, number], [number, number]]);
          const name = g.node('Pad', [ins[0].name, g.int64s(`${hint}_pads`, [0, 0, t, l, 0, 0, b, r])]);
          const [c, h, wd] = ins[0].shape;
          y = { name, shape: [c, h + t + b, wd + l + r] };
          break;
        }
        case 'Add':
          y = { name: ins.slice(1).reduce((acc, f) => g.node('Add', [acc, f.name]), ins[0].name), shape: ins[0].shape };
          break;
        case 'Dropout':
          y = ins[0];
          break;
        default:
          throw new Error(`ONNX export: backbone ${backbone.name} layer ${layer.name} is a ${cls}, which the exporter does not support`);
      }
      out.set(layer.name, y);
    }
    return taps.map((t) => out.get(t)!);
  } finally {
    model.dispose();
  }
}
