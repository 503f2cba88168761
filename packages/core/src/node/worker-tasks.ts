/**
 * What a worker thread of a {@link WorkerPool} does: it holds model replicas, training sessions
 * (a replica plus one Adam per trained level) and feature extractors by key, and runs the
 * requests of the main thread on its own tfjs backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AdamOptions } from '../adam.js';
import type { FeatureExtractor } from '../feature-extractor.js';
import { disposeGradients } from '../gradients.js';
import { levelParamsFromValues } from '../level-params.js';
import { RLRLevel } from '../rlr-level.js';
import { RLRModel } from '../rlr-model.js';
import type { Prediction } from '../scoring.js';
import { batchPartGradients } from '../trainer-step.js';
import { hostAdamStep, type AdamShard } from './host-adam.js';
import { packedLayout, unpackValues } from './param-packing.js';
import type {
  ExtractorInfo,
  ExtractorRecipe,
  ExtractPayload,
  ExtractResult,
  ModelPayload,
  PredictPayload,
  ScoreImagesPayload,
  TrainApplyPayload,
  TrainBeginPayload,
  TrainGradsPayload,
  TrainMomentsResult,
} from './worker-protocol.js';

/** A task's result and the buffers to transfer (not copy) with it. */
export interface TaskResult {
  result: unknown;
  transfer?: ArrayBuffer[];
}

type Handler = (payload: never) => Promise<TaskResult | void>;

interface Session {
  model: RLRModel;
  levels: number[];
  adam: AdamOptions;
  /** Per trained level: the parameters, packed, in memory shared by all workers and the main thread. */
  params: Float32Array[];
  /** Per trained level: the part of the optimizer this worker steps. */
  shards: AdamShard[];
  /** Per trained level: the workers' gradient slots, slot w at `w * P` (shared memory). */
  slots: Float32Array[];
  /** Per trained level: whether `params` changed since they were copied into the replica's variables. */
  stale: boolean[];
}

const models = new Map<string, RLRModel>();
const sessions = new Map<string, Session>();
const extractors = new Map<string, FeatureExtractor>();

/** Imports modules; set by the worker entry (it knows how to load TypeScript when needed). */
let importModule: (specifier: string) => Promise<Record<string, unknown>> = (s) => import(s);

export function setModuleImporter(fn: (specifier: string) => Promise<Record<string, unknown>>): void {
  importModule = fn;
}

function need<T>(map: Map<string, T>, key: string, what: string): T {
  const v = map.get(key);
  if (!v) throw new Error(`no ${what} "${key}" in this worker (released, or created in another pool)`);
  return v;
}

/** The buffers of `arrays`, once each, for a transfer list (shared and partial views are copied instead). */
export function buffersOf(arrays: Float32Array[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const a of arrays) {
    if (a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) out.add(a.buffer);
  }
  return [...out];
}

function buildModel(p: ModelPayload): RLRModel {
  const levels = p.levels.map((cfg, i) => new RLRLevel(cfg, levelParamsFromValues(cfg, unpackValues(cfg, p.params[i]), `replica level ${i}`)));
  return new RLRModel(p.spec, p.config, levels);
}

function predictionResult(p: Prediction): TaskResult {
  const arrays = [p.scores, p.maps, p.smoothedMaps, ...p.tokenScores];
  return { result: p, transfer: buffersOf(arrays) };
}

const handlers: Record<string, Handler> = {
  async 'model.load'(p: { key: string; model: ModelPayload }) {
    const model = buildModel(p.model);
    // An inference replica's parameters never change: compute each level's reference side once.
    for (const lv of model.levels) lv.cacheReference = true;
    models.set(p.key, model);
  },

  async 'model.release'(p: { key: string }) {
    models.get(p.key)?.dispose();
    models.delete(p.key);
  },

  async 'model.predict'(p: PredictPayload) {
    const model = need(models, p.model, 'model');
    const tensors = p.features.map((f, i) => {
      const [h, w] = model.levels[i].config.grid;
      return tf.tensor4d(f, [p.images, h, w, model.levels[i].config.channels]);
    });
    try {
      return predictionResult(await model.predict(tensors, p.options));
    } finally {
      tf.dispose(tensors);
    }
  },

  async 'model.scoreImages'(p: ScoreImagesPayload) {
    const model = need(models, p.model, 'model');
    const extractor = need(extractors, p.extractor, 'extractor');
    const images = tf.tensor4d(p.images, p.shape);
    let maps: tf.Tensor4D[] = [];
    try {
      maps = extractor.extract(images);
      return predictionResult(await model.predict(maps, p.options));
    } finally {
      tf.dispose([images, ...maps]);
    }
  },

  async 'train.begin'(p: TrainBeginPayload) {
    const model = buildModel(p.model);
    sessions.set(p.session, {
      model,
      levels: p.levels,
      adam: p.adam,
      params: p.levels.map((level) => p.model.params[level]),
      shards: p.shards.map((s) => ({ ...s })),
      slots: p.slots.map((b) => new Float32Array(b)),
      stale: p.levels.map(() => false),
    });
  },

  async 'train.grads'(p: TrainGradsPayload) {
    const s = need(sessions, p.session, 'training session');
    const losses: number[] = [];
    for (let k = 0; k < s.levels.length; k++) {
      const level = s.levels[k];
      const lv = s.model.levels[level];
      if (s.stale[k]) {
        // The last step's parameters, which every worker's Adam shard wrote into shared memory.
        const values = unpackValues(lv.config, s.params[k]);
        tf.tidy(() => {
          for (const [name, v] of lv.params) v.assign(tf.tensor(values.get(name)!, v.shape));
        });
        s.stale[k] = false;
      }
      const r = batchPartGradients(lv, level, p.features[k], p.part, p.at);
      try {
        losses.push((await r.loss.data())[0]);
        // Straight into this worker's slot of shared memory: nothing is sent back but the loss.
        const n = s.params[k].length;
        const slot = s.slots[k].subarray(p.slot * n, (p.slot + 1) * n);
        for (const t of packedLayout(lv.config).slots) {
          const g = r.grads.get(t.name);
          if (!g || g.size !== t.size) throw new Error(`gradients of level ${level}: "${t.name}" is missing or has the wrong size`);
          slot.set((await g.data()), t.offset);
        }
      } finally {
        r.loss.dispose();
        disposeGradients(r.grads);
      }
    }
    return { result: { losses } };
  },

  async 'train.apply'(p: TrainApplyPayload) {
    const s = need(sessions, p.session, 'training session');
    for (const level of p.levels) {
      const k = s.levels.indexOf(level);
      if (k < 0) throw new Error(`train.apply: level ${level} is not trained in this session`);
      // This worker's share of the parameters; the others step theirs at the same time. Every
      // worker copies the complete result into its variables before its next gradients.
      hostAdamStep(s.params[k], s.shards[k], s.slots[k], p.parts, p.lr === undefined ? s.adam : { ...s.adam, lr: p.lr });
      s.stale[k] = true;
    }
  },

  async 'train.moments'(p: { session: string }) {
    const s = need(sessions, p.session, 'training session');
    const result: TrainMomentsResult = { shards: s.shards.map((sh) => ({ lo: sh.lo, hi: sh.hi, step: sh.step, m: sh.m.slice(), v: sh.v.slice() })) };
    return { result, transfer: buffersOf(result.shards.flatMap((sh) => [sh.m, sh.v])) };
  },

  async 'train.end'(p: { session: string }) {
    const s = sessions.get(p.session);
    if (!s) return;
    sessions.delete(p.session);
    s.model.dispose();
  },

  async 'extractor.create'(p: { key: string; recipe: ExtractorRecipe }) {
    const spec = String(p.recipe.module);
    const mod = await importModule(spec);
    const factory = mod[p.recipe.exportName];
    if (typeof factory !== 'function') {
      throw new Error(`extractor recipe: module ${spec} has no exported function "${p.recipe.exportName}" (exports: ${Object.keys(mod).join(', ') || 'none'})`);
    }
    const ex = (await (factory as (...a: unknown[]) => unknown)(...p.recipe.args)) as FeatureExtractor;
    if (!ex || typeof ex.extract !== 'function' || !ex.featureInfo) {
      throw new Error(`extractor recipe: ${spec} "${p.recipe.exportName}" did not return a FeatureExtractor (extract, featureInfo, toConfig, dispose)`);
    }
    extractors.set(p.key, ex);
    const info: ExtractorInfo = { name: ex.name, outIndices: [...ex.outIndices], featureInfo: ex.featureInfo, config: ex.toConfig() };
    return { result: info };
  },

  async 'extractor.extract'(p: ExtractPayload) {
    const ex = need(extractors, p.extractor, 'extractor');
    const images = tf.tensor4d(p.images, p.shape);
    let maps: tf.Tensor4D[] = [];
    try {
      maps = ex.extract(images);
      const result: ExtractResult = { maps: [], shapes: [] };
      for (const m of maps) {
        result.maps.push((await m.data()) as Float32Array);
        result.shapes.push(m.shape);
      }
      return { result, transfer: buffersOf(result.maps) };
    } finally {
      tf.dispose([images, ...maps]);
    }
  },

  async 'extractor.release'(p: { key: string }) {
    extractors.get(p.key)?.dispose();
    extractors.delete(p.key);
  },

  /** Live tensors of this worker's backend (for leak checks). */
  async 'memory'() {
    return { result: { numTensors: tf.memory().numTensors, models: models.size, sessions: sessions.size, extractors: extractors.size } };
  },
};

/** Run one request. */
export async function runTask(task: string, payload: unknown): Promise<TaskResult | void> {
  const h = handlers[task];
  if (!h) throw new Error(`unknown task "${task}"`);
  return h(payload as never);
}
