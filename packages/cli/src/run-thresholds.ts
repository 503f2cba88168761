/**
 * The thresholds of a run folder, as `rlr predict`, `rlr serve`, `rlr worker` and `rlr export`
 * pick them: `--threshold`, else the model's post-processor (`model/postprocessor.json`, fitted on
 * validation normals), else the run's latest eval report (see {@link thresholdPicker}).
 */
import { join } from 'node:path';
import { POST_PROCESSOR_FILE, type PostProcessor } from '@rlr/engine';
import type { Logger } from './log.js';
import { loadRunPostProcessor } from './model-io.js';
import { readManifest, runPath, type RunManifest } from './run-dir.js';
import { thresholdPicker, type ThresholdPicker } from './thresholds.js';

/** What {@link runThresholds} found. */
export interface RunThresholds {
  manifest: RunManifest;
  picker: ThresholdPicker;
  /** The model's post-processor when it gave the threshold (no `--threshold`): its scale normalises scores. */
  postProcessor: PostProcessor | null;
}

/** Read `runDir`'s manifest and post-processor and build its threshold picker from the flags as typed. */
export async function runThresholds(runDir: string, o: { flag?: unknown; mode?: unknown; category?: unknown; log: Logger }): Promise<RunThresholds> {
  const manifest = await readManifest(runDir);
  const modelDir = runPath(runDir, 'model');
  const pp = await loadRunPostProcessor(modelDir);
  const picker = await thresholdPicker({
    flag: o.flag,
    mode: o.mode,
    category: o.category,
    reportDir: manifest.report ?? runPath(runDir, 'report'),
    // mvtec and visa layouts name the category by the first folder below the root (category mode).
    datasetRoots: manifest.data && manifest.data.format !== 'folder' && manifest.data.root ? [manifest.data.root] : [],
    runDir,
    log: o.log,
    postProcessor: pp ? { file: join(modelDir, POST_PROCESSOR_FILE), value: pp } : null,
  });
  return { manifest, picker, postProcessor: pp && picker.source.endsWith(POST_PROCESSOR_FILE) ? pp : null };
}
