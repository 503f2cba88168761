import type { AdamOptions, AdamState } from './adam.js';
import type { BlobStore } from './blob-store.js';
import { assignOfficialTensors, modelToOfficialTensors } from './model-io.js';
import type { OfficialTensor } from './level-params.js';
import type { RLRModel } from './rlr-model.js';
import { assertFiniteTensors } from './finite-check.js';
import { parseSafetensors, serializeSafetensors, type TensorToWrite } from './safetensors.js';
import { sha256Hex, verifySha256 } from './sha256.js';
import type { EpochReport, StepMode } from './training-progress.js';
import { VERSION } from './version.js';

/**
 * Trainer checkpoints in a {@link BlobStore}: `checkpoint.json` (position, settings, best validation,
 * the model's spec and config) and the tensors it names — model weights under the official
 * names (as in `weights.safetensors`) plus each level's Adam moments (`adam.level<i>.m.<name>`,
 * `adam.level<i>.v.<name>`, internal names). The tensors go to a new blob named after the
 * position, then the JSON is replaced; the index keeps the checkpoint before it as a fallback
 * and older tensor blobs are removed: a reader always finds a complete, consistent checkpoint,
 * and a damaged newest one (its sha256 is recorded) falls back to the one before.
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
  /** Epoch (1-based) and loss of the best validation so far (its weights: the store's `best-val.safetensors`). */
  best?: { epoch: number; loss: number };
  /** Running loss sums of the epoch in progress. */
  progress: { lossSums: number[]; batches: number };
}

/** One checkpoint as the index describes it: the trainer state and its tensor blob. */
interface CheckpointEntry extends Omit<TrainerCheckpoint, 'optimizers'> {
  /** The tensor blob (model weights and Adam moments). */
  tensors: string;
  /** sha256 (hex) of the tensor blob, verified before it is used (absent in older checkpoints). */
  sha256?: string;
  adamSteps: number[];
}

interface CheckpointIndex extends CheckpointEntry {
  format: 'rlr-checkpoint';
  formatVersion: 1;
  library: { name: '@rlr/core'; version: string };
  model: { spec: unknown; levels: unknown };
  /** The checkpoint written before this one, kept as a fallback when this one fails to verify. */
  previous?: CheckpointEntry;
}

/** Options of `readTrainerCheckpoint`. */
export interface ReadCheckpointOptions {
  /**
   * Called with a message when the newest checkpoint is damaged and the previous one is used
   * instead (the message names the damaged file). Default: `console.warn`.
   */
  onWarning?: (message: string) => void;
}

/** Options of `Trainer.resume`. */
export interface ResumeOptions extends ReadCheckpointOptions {
  /**
   * The epochs completed before the checkpoint, as the caller recorded them (`onEpoch`, or the
   * previous run's `TrainResult.history`): the checkpoint holds the trainer's position, not the
   * epoch history, which has one home outside it (rlr's `history.json`). Epochs after the
   * checkpoint's are dropped. They head the resumed run's `TrainResult.history`; without them
   * it starts at the checkpoint.
   */
  history?: readonly EpochReport[];
}

/** The index of `store`, or undefined when it is missing or unreadable. */
async function readIndex(store: BlobStore): Promise<CheckpointIndex | undefined> {
  if (!(await store.exists(CHECKPOINT_INDEX))) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(await store.read(CHECKPOINT_INDEX))) as CheckpointIndex;
  } catch {
    return undefined;
  }
}

/** The entry part of an index (its state and tensor blob, without the file header or fallback). */
function entryOf(index: CheckpointIndex): CheckpointEntry {
  const { format, formatVersion, library, model, previous, ...entry } = index;
  void format; void formatVersion; void library; void model; void previous;
  return entry;
}

/**
 * Write a checkpoint of `model` and the trainer state. The tensors go to a new blob named after
 * the position, then the index is replaced atomically; the checkpoint before it stays as a
 * fallback (see `readTrainerCheckpoint`) and older tensor blobs are removed. Every tensor
 * blob's sha256 is recorded in the index.
 */
export async function writeTrainerCheckpoint(store: BlobStore, model: RLRModel, state: TrainerCheckpoint): Promise<void> {
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, t] of await modelToOfficialTensors(model)) tensors.set(name, { shape: t.shape, data: t.data });
  state.optimizers.forEach((o, i) => {
    for (const [name, m] of o.m) tensors.set(`adam.level${i}.m.${name}`, { shape: [m.length], data: m });
    for (const [name, v] of o.v) tensors.set(`adam.level${i}.v.${name}`, { shape: [v.length], data: v });
  });
  const tensorBlob = `checkpoint-e${String(state.epoch).padStart(4, '0')}-b${String(state.batch).padStart(6, '0')}.safetensors`;
  const old = await readIndex(store);
  // The fallback: the checkpoint now current, unless this write replaces its blob (same position).
  let keep: CheckpointEntry | undefined = old ? entryOf(old) : undefined;
  if (keep?.tensors === tensorBlob) keep = old?.previous;
  if (keep?.tensors === tensorBlob) keep = undefined;
  const bytes = serializeSafetensors(tensors, { format: 'rlr-checkpoint' });
  await store.write(tensorBlob, bytes);
  const { optimizers, ...rest } = state;
  const index: CheckpointIndex = {
    format: 'rlr-checkpoint',
    formatVersion: 1,
    library: { name: '@rlr/core', version: VERSION },
    ...rest,
    adamSteps: optimizers.map((o) => o.step),
    tensors: tensorBlob,
    sha256: await sha256Hex(bytes),
    model: { spec: model.spec, levels: model.levelConfigs },
    ...(keep ? { previous: keep } : {}),
  };
  await store.write(CHECKPOINT_INDEX, new TextEncoder().encode(JSON.stringify(index, null, 1)));
  if (store.remove) {
    for (const stale of new Set([old?.tensors, old?.previous?.tensors])) {
      if (stale && stale !== tensorBlob && stale !== keep?.tensors) await store.remove(stale);
    }
  }
}

/** Whether `store` holds a trainer checkpoint. */
export function hasTrainerCheckpoint(store: BlobStore): Promise<boolean> {
  return store.exists(CHECKPOINT_INDEX);
}

/** Read, verify and decode the tensor blob of `entry` (nothing is assigned yet). */
async function readEntryTensors(store: BlobStore, entry: CheckpointEntry, model: RLRModel) {
  const tensorsWhere = `${store.location}/${entry.tensors}`;
  const bytes = await store.read(entry.tensors);
  const fix = 'Delete the checkpoint folder to train from the start.';
  if (entry.sha256) await verifySha256(bytes, entry.sha256, tensorsWhere, fix);
  const file = parseSafetensors(bytes, tensorsWhere);
  assertFiniteTensors(file.tensors, tensorsWhere, fix);
  const weights = new Map<string, OfficialTensor>();
  const optimizers: AdamState[] = model.levels.map((_, i) => ({ step: entry.adamSteps[i], m: new Map(), v: new Map() }));
  for (const [name, t] of file.tensors) {
    const m = /^adam\.level(\d+)\.([mv])\.(.+)$/.exec(name);
    if (m) {
      const o = optimizers[Number(m[1])];
      if (!o) throw new Error(`${tensorsWhere}: optimizer tensor "${name}" for a level the model does not have`);
      (m[2] === 'm' ? o.m : o.v).set(m[3], t.data as Float32Array);
    } else weights.set(name, { shape: t.shape, data: t.data as Float32Array });
  }
  return { weights, optimizers, tensorsWhere };
}

/**
 * Read a checkpoint and load its weights into `model` (whose levels must match the checkpoint's).
 * The tensor blob's sha256 is verified first; when the newest checkpoint is damaged (checksum,
 * truncation, non-finite values) and the index keeps the previous one, that one is used and
 * `options.onWarning` is told which file was damaged.
 * @returns the trainer state (optimizer moments on the host)
 * @throws when no checkpoint verifies (the message names the damaged files)
 */
export async function readTrainerCheckpoint(store: BlobStore, model: RLRModel, options: ReadCheckpointOptions = {}): Promise<TrainerCheckpoint> {
  const where = `${store.location}/${CHECKPOINT_INDEX}`;
  if (!(await store.exists(CHECKPOINT_INDEX))) throw new Error(`${where}: no checkpoint to resume from`);
  let index: CheckpointIndex;
  try {
    index = JSON.parse(new TextDecoder().decode(await store.read(CHECKPOINT_INDEX))) as CheckpointIndex;
  } catch (e) {
    throw new Error(`${where}: unreadable (${(e as Error).message}); delete the checkpoint folder to train from the start`);
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
  let entry = entryOf(index);
  let loaded;
  try {
    loaded = await readEntryTensors(store, entry, model);
  } catch (e) {
    const newest = (e as Error).message;
    if (!index.previous) throw e;
    const fallback = index.previous;
    try {
      loaded = await readEntryTensors(store, fallback, model);
    } catch (e2) {
      throw new Error(`${newest}\nThe previous checkpoint is damaged too: ${(e2 as Error).message}`, { cause: e });
    }
    (options.onWarning ?? console.warn)(
      `${store.location}/${entry.tensors} is damaged (${newest.slice(newest.indexOf(': ') + 2)}); ` +
        `resuming from the previous checkpoint ${fallback.tensors} (epoch ${fallback.epoch}, batch ${fallback.batch}) instead`,
    );
    entry = fallback;
  }
  assignOfficialTensors(model, loaded.weights, loaded.tensorsWhere);
  const { tensors, sha256, adamSteps, ...state } = entry;
  void tensors; void sha256; void adamSteps;
  return { ...state, optimizers: loaded.optimizers };
}
