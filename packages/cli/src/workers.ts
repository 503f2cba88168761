import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { createWorkerPool, resolveWorkerCount, type WorkerPool } from '@rlr/core/node';
import type { BackendName } from './backend.js';
import { CliError, usageError } from './errors.js';
import { ExitCode } from './exit-codes.js';
import type { Logger } from './log.js';

/** A `--workers` value: `auto` (one per core) or a positive count. */
export type WorkersOption = 'auto' | number;

/** Parse `--workers` (`auto` or a positive integer; absent = auto). */
export function parseWorkers(value: unknown): WorkersOption {
  if (value === undefined || value === 'auto') return 'auto';
  const n = Number(String(value).trim());
  if (!Number.isInteger(n) || n < 1) throw usageError(`--workers: "${String(value)}" is not a positive integer or auto`, 'e.g. --workers 2, or --workers 1 to run in the main thread only');
  return n;
}

/**
 * The worker threads to start for `workers`: more threads than cores only add memory (each holds
 * a backend and a copy of the model) and contention, so a larger `--workers` is capped at `cores`,
 * with a warning.
 */
export function cappedWorkerCount(workers: WorkersOption, cores: number, log: Pick<Logger, 'warn'>): number {
  const count = resolveWorkerCount(workers);
  if (workers === 'auto' || count <= cores) return count;
  const cap = Math.max(1, cores);
  log.warn(`--workers ${workers} is more than the ${cores} CPU core(s) of this machine: using ${cap} worker thread(s)`, { workers_requested: workers, workers: cap });
  return cap;
}

/** The package each worker imports to get the backend (the one the main thread uses). */
const BACKEND_PACKAGES: Partial<Record<BackendName, string>> = {
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

/**
 * Worker threads for the heavy phases (feature extraction, training steps, inference), each with
 * its own instance of `backend`; undefined when the work stays in this thread: one worker asked
 * for or available, or the `tensorflow` backend (libtensorflow already uses every core, and its
 * native addon is not loaded in worker threads).
 */
export async function startWorkers(backend: BackendName, workers: WorkersOption, log: Logger): Promise<WorkerPool | undefined> {
  const count = cappedWorkerCount(workers, availableParallelism(), log);
  if (count <= 1) return undefined;
  const pkg = BACKEND_PACKAGES[backend];
  if (!pkg) {
    if (workers !== 'auto') log.warn(`--workers ${workers} is ignored on the ${backend} backend, which already uses every core`);
    return undefined;
  }
  // A file URL resolved from here: the workers load the same backend files as this thread.
  const backendModule = pathToFileURL(createRequire(import.meta.url).resolve(pkg)).href;
  try {
    const pool = await createWorkerPool({ backend, backendModule, workers: count });
    log.info(`workers: ${pool.size} threads on ${backend}`);
    return pool;
  } catch (e) {
    throw new CliError(`cannot start ${count} worker threads on ${backend}: ${(e as Error).message.split('\n')[0]}`, ExitCode.internal, 'run with --workers 1 to compute in the main thread', { cause: e });
  }
}
