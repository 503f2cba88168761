import type { BackendName } from './backend.js';
import type { Logger } from './log.js';
import type { WorkersOption } from './workers.js';

/** Options of `trainRun` (and `trainKnnRun`) beyond the run settings. */
export interface TrainRunOptions {
  runDir: string;
  resume: boolean;
  backend: BackendName | 'auto';
  offline: boolean;
  cacheDir?: string;
  /** Connect and idle timeout of a weights download (ms; `--download-timeout`). */
  downloadTimeoutMs?: number;
  checkpointEvery: number;
  cwd: string;
  log: Logger;
  signal: AbortSignal;
  /** Fall back to a random backbone when no pretrained weights are available offline (demo). */
  allowRandomFallback?: boolean;
  /** Worker threads for feature extraction and training steps (`--workers`; default auto). */
  workers?: WorkersOption;
}
