import type { AdamOptions, AdamState } from './adam.js';
import type { BlobStore } from './blob-store.js';
import { assignOfficialTensors, modelToOfficialTensors } from './model-io.js';
import type { OfficialTensor } from './level-params.js';
import type { RLRModel } from './rlr-model.js';
import { parseSafetensors, serializeSafetensors, type TensorToWrite } from './safetensors.js';
import type { EpochReport, StepMode } from './trainer.js';
import { VERSION } from './version.js';

/**
 * Trainer checkpoints in a {@link BlobStore}: `checkpoint.json` (position, settings, history,
 * the model's spec and config) and the tensors it names — model weights under the official
 * names (as in `weights.safetensors`) plus each level's Adam moments (`adam.level<i>.m.<name>`,
 * `adam.level<i>.v.<name>`, internal names). The tensors go to a new blob named after the
 * position, then the JSON is replaced, then the previous tensor blob is removed: a reader
 * always finds a complete, consistent checkpoint.
 */

export const CHECKPOINT_INDEX = 'checkpoint.json';

/** Everything a trainer needs to continue. */
export interface TrainerCheckpoint {
  /** Completed epochs; `batch` is the next batch of epoch `epoch` (0 at an epoch boundary). */
  epoch: number;
  batch: number;
  seed: number;
  batchSize: number;
  stepMode: StepMode;
  jitterScale: number;
  /** Model levels being trained. */
  levels?: number[];
  adam: AdamOptions;
  optimizers: AdamState[];
  /** Running loss sums of the epoch in progress. */
  progress: { lossSums: number[]; batches: number };
  history: EpochReport[];
}

interface CheckpointIndex extends Omit<TrainerCheckpoint, 'optimizers'> {
  format: 'rlr-checkpoint';
  formatVersion: 1;
  library: { name: '@rlr/core'; version: string };
  tensors: string;
  adamSteps: number[];
  model: { spec: unknown; levels: unknown };
}

/** Write a checkpoint of `model` and the trainer state. */
export async function writeTrainerCheckpoint(store: BlobStore, model: RLRModel, state: TrainerCheckpoint): Promise<void> {
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, t] of await modelToOfficialTensors(model)) tensors.set(name, { shape: t.shape, data: t.data });
  state.optimizers.forEach((o, i) => {
    for (const [name, m] of o.m) tensors.set(`adam.level${i}.m.${name}`, { shape: [m.length], data: m });
    for (const [name, v] of o.v) tensors.set(`adam.level${i}.v.${name}`, { shape: [v.length], data: v });
  });
  const tensorBlob = `checkpoint-e${String(state.epoch).padStart(4, '0')}-b${String(state.batch).padStart(6, '0')}.safetensors`;
  let previous: string | undefined;
  if (await store.exists(CHECKPOINT_INDEX)) {
    try {
      previous = (JSON.parse(new TextDecoder().decode(await store.read(CHECKPOINT_INDEX))) as CheckpointIndex).tensors;
    } catch {
      previous = undefined;
    }
  }
  await store.write(tensorBlob, serializeSafetensors(tensors, { format: 'rlr-checkpoint' }));
  const { optimizers, ...rest } = state;
  const index: CheckpointIndex = {
    format: 'rlr-checkpoint',
    formatVersion: 1,
    library: { name: '@rlr/core', version: VERSION },
    ...rest,
    adamSteps: optimizers.map((o) => o.step),
    tensors: tensorBlob,
    model: { spec: model.spec, levels: model.levelConfigs },
  };
  await store.write(CHECKPOINT_INDEX, new TextEncoder().encode(JSON.stringify(index, null, 1)));
  if (previous && previous !== tensorBlob && store.remove) await store.remove(previous);
}

/** Whether `store` holds a trainer checkpoint. */
export function hasTrainerCheckpoint(store: BlobStore): Promise<boolean> {
  return store.exists(CHECKPOINT_INDEX);
}

/**
 * Read a checkpoint and load its weights into `model` (whose levels must match the checkpoint's).
 * @returns the trainer state (optimizer moments on the host)
 */
export async function readTrainerCheckpoint(store: BlobStore, model: RLRModel): Promise<TrainerCheckpoint> {
  const where = `${store.location}/${CHECKPOINT_INDEX}`;
  if (!(await store.exists(CHECKPOINT_INDEX))) throw new Error(`${where}: no checkpoint to resume from`);
  let index: CheckpointIndex;
  try {
    index = JSON.parse(new TextDecoder().decode(await store.read(CHECKPOINT_INDEX))) as CheckpointIndex;
  } catch (e) {
    throw new Error(`${where}: unreadable (${(e as Error).message})`);
  }
  if (index.format !== 'rlr-checkpoint' || index.formatVersion !== 1) {
    throw new Error(`${where}: not an RLR trainer checkpoint (format ${index.format}, version ${index.formatVersion})`);
  }
  if (JSON.stringify(index.model.levels) !== JSON.stringify(model.levelConfigs)) {
    throw new Error(
      `${where}: the checkpoint was written for levels ${JSON.stringify(index.model.levels)}, ` +
        `but this model has ${JSON.stringify(model.levelConfigs)}; create the model with the same spec and config`,
    );
  }
  const tensorsWhere = `${store.location}/${index.tensors}`;
  const file = parseSafetensors(await store.read(index.tensors), tensorsWhere);
  const weights = new Map<string, OfficialTensor>();
  const optimizers: AdamState[] = model.levels.map((_, i) => ({ step: index.adamSteps[i], m: new Map(), v: new Map() }));
  for (const [name, t] of file.tensors) {
    const m = /^adam\.level(\d+)\.([mv])\.(.+)$/.exec(name);
    if (m) {
      const o = optimizers[Number(m[1])];
      if (!o) throw new Error(`${tensorsWhere}: optimizer tensor "${name}" for a level the model does not have`);
      (m[2] === 'm' ? o.m : o.v).set(m[3], t.data as Float32Array);
    } else weights.set(name, { shape: t.shape, data: t.data as Float32Array });
  }
  assignOfficialTensors(model, weights, tensorsWhere);
  const { format, formatVersion, library, tensors, adamSteps, model: _m, ...state } = index;
  void format; void formatVersion; void library; void tensors; void adamSteps; void _m;
  return { ...state, optimizers };
}
