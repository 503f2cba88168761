/**
 * Any TensorFlow.js model as a frozen multi-scale backbone: named layers (layers models) or nodes
 * (graph models) are tapped as the stages, the model's own preprocessing is applied, and layers
 * models are rebuilt for any input size.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import type { FeatureExtractor, FeatureInfo } from '@rlr/core';
import { smoothFeatures } from '../feature-smoothing.js';
import { checkOutIndices } from '../out-indices.js';
import { checkImages, preprocess, type Preprocessing } from '../preprocessing.js';
import { withFreeInputSize } from './free-input-size.js';

/** How to use a tfjs model as a backbone: what to tap and how to feed it. */
export interface TfjsModelDefinition {
  /** `layers` (Keras-style model.json) or `graph` (converted SavedModel / GraphDef). */
  format: 'layers' | 'graph';
  /** Layer names (layers) or node names (graph) giving the stages, shallow to deep. */
  taps: readonly string[];
  /** Stride of each tap relative to the input. */
  reductions: readonly number[];
  /** Channels of each tap (checked against the model when it loads). */
  channels: readonly number[];
  /** Input normalisation of the model (images arrive in [0, 1]). */
  preprocessing: Preprocessing;
  /** Stages returned when `outIndices` is not given (default: all). */
  defaultOutIndices?: readonly number[];
  /**
   * Layers models: accept any input height and width by clearing the saved input size (default
   * `true`; set `false` when layers before the deepest tap need a fixed size, e.g. a Flatten).
   */
  freeInputSize?: boolean;
}

/** Options of {@link loadTfjsModelBackbone}. */
export interface TfjsModelBackboneOptions {
  /** Stages (indices into `taps`) to return. */
  outIndices?: readonly number[];
  /** Apply the 3x3 smoothing (zeros counted) to each level. Default `true`. */
  smooth?: boolean;
  /** Where the model came from, recorded by `toConfig()`. */
  weightsSource?: string;
}

function checkDefinition(name: string, def: TfjsModelDefinition): void {
  const n = def.taps.length;
  if (n === 0 || def.reductions.length !== n || def.channels.length !== n) {
    throw new Error(
      `${name}: a tfjs model definition needs one reduction and one channel count per tap ` +
        `(got ${n} taps, ${def.reductions.length} reductions, ${def.channels.length} channels)`,
    );
  }
}

function resolveOutIndices(name: string, def: TfjsModelDefinition, outIndices?: readonly number[]): number[] {
  const idx = outIndices ?? def.defaultOutIndices ?? def.taps.map((_, i) => i);
  return checkOutIndices(idx, def.taps.length, name, ` (${def.taps.join(', ')})`);
}

/** Channels and strides of the requested stages of a definition (no model needed). */
export function tfjsModelFeatureInfo(name: string, def: TfjsModelDefinition, outIndices?: readonly number[]): FeatureInfo {
  checkDefinition(name, def);
  const idx = resolveOutIndices(name, def, outIndices);
  return { channels: idx.map((i) => def.channels[i]), reductions: idx.map((i) => def.reductions[i]) };
}

/** Runs the tapped model: `[B, H, W, C]` preprocessed input → one map per requested tap. */
type TapRunner = {
  run(x: tf.Tensor4D): tf.Tensor4D[];
  /** The whole loaded model (topology and weights) as tfjs model artifacts. */
  artifacts(): Promise<tf.io.ModelArtifacts>;
  dispose(): void;
};

/** Capture what a tfjs model's `save()` writes, in memory. */
async function savedArtifacts(save: (handler: tf.io.IOHandler) => Promise<unknown>): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | undefined;
  await save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  return captured!;
}

async function layersRunner(
  name: string,
  handler: tf.io.IOHandler,
  taps: string[],
  channels: number[],
  freeInputSize: boolean,
): Promise<TapRunner> {
  const full = await tfl.loadLayersModel(freeInputSize ? withFreeInputSize(handler) : handler);
  const outputs = taps.map((tap, k) => {
    let layer: tfl.layers.Layer;
    try {
      layer = full.getLayer(tap);
    } catch {
      const names = full.layers.map((l) => l.name);
      full.dispose();
      throw new Error(
        `${name}: the model has no layer "${tap}"; its layers include ${names.slice(0, 12).join(', ')}, … (${
          names.length
        } in all)`,
      );
    }
    const out = layer.output as tfl.SymbolicTensor;
    const got = out.shape[out.shape.length - 1];
    if (got !== channels[k]) {
      full.dispose();
      throw new Error(
        `${name}: layer "${tap}" has ${got} channels but the definition says ${channels[k]}; is this the right model variant?`,
      );
    }
    return out;
  });
  const tapped = tfl.model({ inputs: full.inputs, outputs });
  return {
    run(x) {
      const y = tapped.predict(x);
      return (Array.isArray(y) ? y : [y]) as tf.Tensor4D[];
    },
    artifacts: () => savedArtifacts((h) => full.save(h)),
    dispose: () => full.dispose(), // the tapped model shares (and owns no) weights
  };
}

async function graphRunner(name: string, handler: tf.io.IOHandler, taps: string[], channels: number[]): Promise<TapRunner> {
  const model: GraphModel = await loadGraphModel(handler);
  return {
    run(x) {
      const y = model.execute(x, taps);
      const outs = (Array.isArray(y) ? y : [y]) as tf.Tensor4D[];
      outs.forEach((o, k) => {
        if (o.rank !== 4 || o.shape[3] !== channels[k]) {
          tf.dispose(outs);
          throw new Error(`${name}: node "${taps[k]}" gave shape [${o.shape.join(', ')}], expected [B, h, w, ${channels[k]}]`);
        }
      });
      return outs;
    },
    artifacts: () => savedArtifacts((h) => model.save(h)),
    dispose: () => model.dispose(),
  };
}

/** A loaded tfjs model with taps, as a `FeatureExtractor` of `@rlr/core`. */
export class TfjsModelBackbone implements FeatureExtractor {
  readonly name: string;
  readonly outIndices: number[];
  readonly featureInfo: FeatureInfo;
  readonly smooth: boolean;
  readonly definition: TfjsModelDefinition;
  private runner: TapRunner | undefined;
  private readonly weightsSource: string | undefined;

  private constructor(
    name: string,
    def: TfjsModelDefinition,
    outIndices: number[],
    runner: TapRunner,
    options: TfjsModelBackboneOptions,
  ) {
    this.name = name;
    this.definition = def;
    this.outIndices = outIndices;
    this.featureInfo = tfjsModelFeatureInfo(name, def, outIndices);
    this.smooth = options.smooth ?? true;
    this.runner = runner;
    this.weightsSource = options.weightsSource;
  }

  /**
   * Load a model through `handler` (see `fetchModelFiles` / `@rlr/backbones/node`'s
   * `fileModelHandler`) and tap it as `def` says.
   */
  static async load(
    name: string,
    def: TfjsModelDefinition,
    handler: tf.io.IOHandler,
    options: TfjsModelBackboneOptions = {},
  ): Promise<TfjsModelBackbone> {
    checkDefinition(name, def);
    const outIndices = resolveOutIndices(name, def, options.outIndices);
    const taps = outIndices.map((i) => def.taps[i]);
    const channels = outIndices.map((i) => def.channels[i]);
    const runner =
      def.format === 'layers'
        ? await layersRunner(name, handler, taps, channels, def.freeInputSize ?? true)
        : await graphRunner(name, handler, taps, channels);
    return new TfjsModelBackbone(name, def, outIndices, runner, options);
  }

  /**
   * @param images `[B, H, W, 3]` RGB in [0, 1]
   * @returns one `[B, H/r, W/r, C]` map per out index (the caller disposes them)
   */
  extract(images: tf.Tensor4D): tf.Tensor4D[] {
    const runner = this.runner;
    if (!runner) throw new Error(`${this.name}: extract() called after dispose(); load the backbone again`);
    checkImages(images, this.name);
    return tf.tidy(() => {
      const maps = runner.run(preprocess(images, this.definition.preprocessing));
      return this.smooth ? maps.map((m) => smoothFeatures(m)) : maps;
    });
  }

  toConfig(): Record<string, unknown> {
    return {
      name: this.name,
      outIndices: [...this.outIndices],
      smooth: this.smooth,
      weights: this.weightsSource ?? null,
      format: this.definition.format,
      taps: this.outIndices.map((i) => this.definition.taps[i]),
    };
  }

  /**
   * The loaded model as tfjs model artifacts (topology, weight specs and data; a layers model's
   * input size already freed when the definition asks for it): `tf.io.fromMemory(artifacts)` is
   * an IOHandler that {@link TfjsModelBackbone.load} rebuilds the same backbone from.
   */
  async modelArtifacts(): Promise<tf.io.ModelArtifacts> {
    const runner = this.runner;
    if (!runner) throw new Error(`${this.name}: modelArtifacts() called after dispose(); load the backbone again`);
    return runner.artifacts();
  }

  dispose(): void {
    this.runner?.dispose();
    this.runner = undefined;
  }
}

/** Load a tfjs model as a backbone (same as `TfjsModelBackbone.load`). */
export function loadTfjsModelBackbone(
  name: string,
  def: TfjsModelDefinition,
  handler: tf.io.IOHandler,
  options?: TfjsModelBackboneOptions,
): Promise<TfjsModelBackbone> {
  return TfjsModelBackbone.load(name, def, handler, options);
}
