/**
 * Export a whole detector as one ONNX model: uint8 NHWC image → backbone normalisation →
 * backbone → 3x3 smoothing → every RLR (or nearest-neighbour) level → token scores → upsampled,
 * averaged map → Gaussian-blurred image score → normalised score and label.
 */
import { EfficientNetExtractor, IMAGENET_MEAN, IMAGENET_STD, TfjsModelBackbone, type Preprocessing } from '@rlr/backbones';
import { SCORING_DEFAULTS, VERSION, type FeatureExtractor, type KnnModel, type RLRModel } from '@rlr/core';
import { addEfficientNet } from './efficientnet-graph.js';
import { GraphBuilder, type ValueInfo } from './graph-builder.js';
import { addKnnLevel } from './knn-graph.js';
import { addLayersModel } from './layers-model-graph.js';
import { DataType } from './onnx-schema.js';
import { addRlrLevel } from './rlr-graph.js';
import { addScoring, type LevelTokenScores } from './scoring-graph.js';
import type { Feature } from './conv-graph.js';

/** The post-processing stored in the model (metadata and outputs). */
export interface PostProcessing {
  /** Image-score threshold: `label = score >= threshold`. Without it the model has no `label` output. */
  threshold?: number | null;
  /**
   * Min-max normalisation: `normalized_score = clip((score − min) / (max − min), 0, 1)`. Without
   * both, `normalized_score` equals `score`.
   */
  min?: number | null;
  max?: number | null;
}

/** Options of {@link exportDetector}. */
export interface ExportOptions {
  postProcessing?: PostProcessing;
  /** Gaussian σ and truncation of the image score (SPEC defaults 4 and 4). */
  sigma?: number;
  truncate?: number;
  /** Extra `metadata_props` (string values). */
  metadata?: Record<string, string>;
  /** Written as the producer version (e.g. the @rlr/cli version). */
  producerVersion?: string;
}

/** Names of the exported model's inputs and outputs. */
export const ONNX_IO = {
  image: 'image',
  score: 'score',
  map: 'map',
  normalizedScore: 'normalized_score',
  label: 'label',
} as const;

/** Metadata keys written by {@link exportDetector}. */
export const METADATA_KEYS = {
  format: 'rlr.format',
  model: 'rlr.model',
  backbone: 'rlr.backbone',
  imageSize: 'rlr.image_size',
  threshold: 'rlr.threshold',
  min: 'rlr.normalization.min',
  max: 'rlr.normalization.max',
  sigma: 'rlr.sigma',
  input: 'rlr.input',
} as const;

/** The version of the exported layout (inputs, outputs, metadata). */
export const ONNX_EXPORT_FORMAT = '1';

/** The models the exporter takes: RLR or the nearest-neighbour baseline. */
export type DetectorModel = RLRModel | KnnModel;
const isKnn = (m: DetectorModel): m is KnnModel => (m as KnnModel).kind === 'knn';

function addPreprocessing(g: GraphBuilder, x: string, kind: Preprocessing): string {
  if (kind === 'imagenet') {
    // The same float32 constants and order as @rlr/backbones' imagenetNormalize: x·(1/std) + (−mean/std).
    const scale = g.floats('imagenet_scale', IMAGENET_STD.map((s) => 1 / s), [3]);
    const shift = g.floats('imagenet_shift', IMAGENET_MEAN.map((m, i) => -m / IMAGENET_STD[i]), [3]);
    return g.node('Add', [g.node('Mul', [x, scale]), shift]);
  }
  if (kind === 'signed-unit') return g.node('Sub', [g.node('Mul', [x, g.scalar('two', 2)]), g.scalar('one', 1)]);
  return x;
}

async function addBackbone(g: GraphBuilder, extractor: FeatureExtractor, image: string, H: number, W: number): Promise<{ maps: Feature[]; smooth: boolean }> {
  const unit = g.node('Div', [g.node('Cast', [image], { to: DataType.FLOAT }), g.scalar('u8_max', 255)]);
  if (extractor instanceof EfficientNetExtractor) {
    const x = g.node('Transpose', [addPreprocessing(g, unit, 'imagenet')], { perm: [0, 3, 1, 2] });
    return { maps: addEfficientNet(g, extractor, { name: x, shape: [3, H, W] }), smooth: extractor.smooth };
  }
  if (extractor instanceof TfjsModelBackbone) {
    const x = g.node('Transpose', [addPreprocessing(g, unit, extractor.definition.preprocessing)], { perm: [0, 3, 1, 2] });
    return { maps: await addLayersModel(g, extractor, { name: x, shape: [3, H, W] }), smooth: extractor.smooth };
  }
  throw new Error(`ONNX export: backbone ${extractor.name} is neither EfficientNet nor a tfjs layers model; it cannot be exported`);
}

const finiteOrNull = (v: number | null | undefined, what: string): number | null => {
  if (v === undefined || v === null) return null;
  if (!Number.isFinite(v)) throw new Error(`ONNX export: ${what} must be a finite number, got ${v}`);
  return v;
};

/**
 * Build the ONNX model of `extractor` + `model`.
 *
 * Input `image`: uint8 `[batch, H, W, 3]` RGB at the model's image size (resizing and cropping are
 * the caller's: the model does not resize). Outputs: `score` `[batch]`, `map` `[batch, H, W]`,
 * `normalized_score` `[batch]`, and `label` `[batch]` (bool) when a threshold is given.
 * @returns the bytes of `model.onnx`
 */
export async function exportDetector(extractor: FeatureExtractor, model: DetectorModel, options: ExportOptions = {}): Promise<Uint8Array> {
  const [H, W] = model.spec.imageSize;
  const sigma = options.sigma ?? SCORING_DEFAULTS.sigma;
  const truncate = options.truncate ?? SCORING_DEFAULTS.truncate;
  const post = options.postProcessing ?? {};
  const threshold = finiteOrNull(post.threshold, 'the threshold');
  const min = finiteOrNull(post.min, 'the normalisation minimum');
  const max = finiteOrNull(post.max, 'the normalisation maximum');
  if ((min === null) !== (max === null)) throw new Error('ONNX export: give both the normalisation minimum and maximum, or neither');
  if (min !== null && max !== null && !(max > min)) throw new Error(`ONNX export: the normalisation maximum (${max}) must exceed the minimum (${min})`);

  if (!isKnn(model)) {
    const variant = model.levels.map((l, i) => [i, l.config.attention] as const).find(([, a]) => a !== undefined);
    if (variant) {
      throw new Error(
        `ONNX export: level ${variant[0]} uses the attention variant "${variant[1]}"; only the paper's layer (mlka+lca) is exported — score this model with the tfjs backends, or retrain without --attention`,
      );
    }
  }
  const g = new GraphBuilder();
  const image = g.input(ONNX_IO.image);
  const { maps, smooth } = await addBackbone(g, extractor, image, H, W);
  const levels = model.spec.levels;
  if (maps.length !== levels.length) throw new Error(`ONNX export: the backbone gives ${maps.length} maps but the model has ${levels.length} levels`);
  const tokenScores: LevelTokenScores[] = [];
  for (let i = 0; i < levels.length; i++) {
    const { grid, channels } = levels[i];
    const m = maps[i];
    if (m.shape[0] !== channels || m.shape[1] !== grid[0] || m.shape[2] !== grid[1]) {
      throw new Error(`ONNX export: backbone level ${i} is [${m.shape.join(', ')}] (C, h, w) but the model expects [${channels}, ${grid[0]}, ${grid[1]}]`);
    }
    const smoothed = smooth ? g.node('AveragePool', [m.name], { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], count_include_pad: 1 }) : m.name;
    const nhwc = g.node('Transpose', [smoothed], { perm: [0, 2, 3, 1] });
    const tokens = g.node('Reshape', [nhwc, g.int64s(`level${i}_tokens_shape`, [0, grid[0] * grid[1], channels])]);
    const scores = isKnn(model) ? addKnnLevel(g, tokens, model.banks[i], channels, `level${i}`) : await addRlrLevel(g, model.levels[i], tokens, `level${i}`);
    tokenScores.push({ scores, grid });
  }
  const { map, score } = addScoring(g, tokenScores, [H, W], sigma, truncate);
  const outputs: ValueInfo[] = [];
  g.rename(score, ONNX_IO.score);
  outputs.push({ name: ONNX_IO.score, elemType: DataType.FLOAT, shape: ['batch'], doc: 'image anomaly score: maximum of the Gaussian-blurred map' });
  g.rename(map, ONNX_IO.map);
  outputs.push({ name: ONNX_IO.map, elemType: DataType.FLOAT, shape: ['batch', H, W], doc: 'pixel anomaly map: level average of the upsampled token scores' });
  let normalized = score;
  if (min !== null && max !== null) {
    const r = g.node('Div', [g.node('Sub', [score, g.scalar('norm_min', min)]), g.scalar('norm_range', max - min)]);
    normalized = g.node('Clip', [r, g.scalar('zero', 0), g.scalar('one', 1)]);
  }
  g.rename(normalized, ONNX_IO.normalizedScore);
  outputs.push({ name: ONNX_IO.normalizedScore, elemType: DataType.FLOAT, shape: ['batch'], doc: 'min-max normalised score in [0, 1] (the score itself without normalisation)' });
  if (threshold !== null) {
    g.rename(g.node('GreaterOrEqual', [score, g.scalar('threshold', threshold)]), ONNX_IO.label);
    outputs.push({ name: ONNX_IO.label, elemType: DataType.BOOL, shape: ['batch'], doc: 'true when score >= threshold' });
  }
  const metadata: Record<string, string> = {
    [METADATA_KEYS.format]: ONNX_EXPORT_FORMAT,
    [METADATA_KEYS.model]: isKnn(model) ? 'knn' : 'rlr',
    [METADATA_KEYS.backbone]: JSON.stringify(extractor.toConfig()),
    [METADATA_KEYS.imageSize]: JSON.stringify([H, W]),
    [METADATA_KEYS.threshold]: threshold === null ? 'none' : String(threshold),
    [METADATA_KEYS.min]: min === null ? 'none' : String(min),
    [METADATA_KEYS.max]: max === null ? 'none' : String(max),
    [METADATA_KEYS.sigma]: String(sigma),
    [METADATA_KEYS.input]: `uint8 [batch, ${H}, ${W}, 3] RGB, already resized and cropped to the model's image size`,
    ...options.metadata,
  };
  return g.encode({
    name: 'rlr_detector',
    inputs: [{ name: ONNX_IO.image, elemType: DataType.UINT8, shape: ['batch', H, W, 3], doc: 'RGB image, uint8 NHWC, at the model image size' }],
    outputs,
    metadata,
    producerVersion: options.producerVersion ?? VERSION,
    doc: 'RLR anomaly detector exported by @rlr/onnx',
  });
}
