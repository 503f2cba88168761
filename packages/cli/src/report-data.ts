import type { MetricsReport } from './metrics-report.js';

/** A curve as parallel coordinate arrays. */
export interface Curve {
  x: number[];
  y: number[];
}

/** One row of the heatmap gallery: the picture triple for one test image. */
export interface GalleryEntry {
  category: string;
  /** Source image path. */
  path: string;
  label: 0 | 1;
  score: number;
  /** Why it is shown, e.g. "best-detected anomaly". */
  reason: string;
  /** File names (relative to the report folder) and PNG bytes. */
  image: { file: string; png: Uint8Array };
  mask?: { file: string; png: Uint8Array };
  overlay: { file: string; png: Uint8Array };
}

/** Everything the Markdown and HTML reports show. */
export interface ReportData {
  title: string;
  generatedAt: string;
  metrics: MetricsReport;
  /** Image-level ROC (x = FPR, y = TPR) and PR (x = recall, y = precision) per category. */
  curves: Record<string, { roc: Curve; pr: Curve }>;
  /** Training loss per epoch, when the run directory has a history. */
  loss?: { epoch: number; loss: number }[];
  gallery: GalleryEntry[];
  /** Colour-bar legend PNG for the overlays, and the score range it spans. */
  legend?: { png: Uint8Array; min: number; max: number };
  /** Remarks shown at the top (e.g. randomly initialised backbone). */
  notes: string[];
}
