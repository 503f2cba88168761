/**
 * The numbers published for RLR (He et al., "Learning Unified Reference Representation for
 * Unsupervised Multi-class Anomaly Detection", ECCV 2024, arXiv:2403.11561), unified
 * (multi-class) setting, in percent. `rlr eval` lines a run up against them when it evaluates
 * on MVTec AD or VisA; `examples/paper-reproduction/expected.json` holds the same values.
 */

/** Image and pixel AUROC in percent. */
export interface PaperScore {
  image_auroc: number;
  pixel_auroc: number;
}

/** One benchmark's published table. */
export interface PaperTable {
  /** What the numbers are, in words. */
  protocol: string;
  mean: PaperScore;
  categories: Record<string, PaperScore>;
}

/** Benchmarks the paper reports per category. */
export type PaperBenchmark = 'mvtec' | 'visa';

const s = (image_auroc: number, pixel_auroc: number): PaperScore => ({ image_auroc, pixel_auroc });

/** The paper's per-category results (its MVTec AD and VisA tables). */
export const PAPER_RESULTS: Readonly<Record<PaperBenchmark, PaperTable>> = {
  mvtec: {
    protocol: 'MVTec AD, unified setting (one model for all 15 categories)',
    mean: s(98.6, 98.5),
    categories: {
      bottle: s(100, 99.0),
      cable: s(99.3, 99.0),
      capsule: s(97.0, 99.2),
      carpet: s(99.7, 99.0),
      grid: s(99.8, 98.7),
      hazelnut: s(100, 99.0),
      leather: s(100, 99.4),
      metal_nut: s(99.7, 98.3),
      pill: s(98.9, 98.3),
      screw: s(94.8, 99.5),
      tile: s(100, 96.7),
      toothbrush: s(93.1, 98.9),
      transistor: s(99.7, 98.6),
      wood: s(98.9, 95.5),
      zipper: s(98.5, 98.2),
    },
  },
  visa: {
    protocol: 'VisA, 1-class split (split_csv/1cls.csv), unified setting (one model for all 12 objects)',
    mean: s(95.9, 99.2),
    categories: {
      candle: s(98.2, 99.5),
      capsules: s(85.9, 99.2),
      cashew: s(96.1, 99.4),
      chewinggum: s(99.8, 99.2),
      fryum: s(96.5, 97.4),
      macaroni1: s(97.7, 99.8),
      macaroni2: s(86.3, 99.3),
      pcb1: s(97.0, 99.7),
      pcb2: s(97.4, 99.1),
      pcb3: s(96.4, 99.1),
      pcb4: s(99.7, 98.4),
      pipe_fryum: s(99.4, 99.5),
    },
  },
};

/** The mean of UniAD (unified setting) the paper compares with. */
export const UNIAD_MEANS: Readonly<Record<PaperBenchmark, PaperScore>> = {
  mvtec: s(96.5, 96.8),
  visa: s(91.5, 98.5),
};

/** Where the numbers come from, for reports. */
export const PAPER_SOURCE = 'He et al., ECCV 2024 (arXiv:2403.11561)';

/**
 * Which published table a dataset corresponds to: MVTec AD format with at least one of MVTec
 * AD's category names, or VisA format with one of VisA's; otherwise null (a custom folder, or an
 * MVTec-layout dataset of other objects).
 */
export function paperBenchmarkFor(format: string, categories: readonly string[]): PaperBenchmark | null {
  if (format !== 'mvtec' && format !== 'visa') return null;
  const table = PAPER_RESULTS[format];
  return categories.some((c) => c in table.categories) ? format : null;
}

/** Ours, the paper's, and ours − paper, in percent (null where unknown). */
export interface PaperDelta {
  ours: number | null;
  paper: number | null;
  delta: number | null;
}

/** One category (or the mean) beside the paper. */
export interface PaperRow {
  category: string;
  image: PaperDelta;
  pixel: PaperDelta;
}

/** The `paper` section of metrics.json. */
export interface PaperComparison {
  benchmark: PaperBenchmark;
  source: string;
  protocol: string;
  /** Evaluated categories the paper reports, in the report's order. */
  rows: PaperRow[];
  /**
   * Our mean beside the paper's mean. The paper's mean is shown only when every one of its
   * categories was evaluated (`complete`); a mean over a subset is not comparable with it.
   */
  mean: PaperRow;
  complete: boolean;
  /** Paper categories the run did not evaluate. */
  missing: string[];
  /** Evaluated categories the paper does not report. */
  extra: string[];
  /** UniAD's mean as the paper quotes it. */
  uniad: PaperScore;
}

const pct = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? null : 100 * x);
const delta = (ours: number | null, paper: number | null): PaperDelta => ({
  ours,
  paper,
  delta: ours === null || paper === null ? null : ours - paper,
});

/**
 * Line a metrics report up against the paper's table of `benchmark`. `m` is a `MetricsReport`
 * (metrics-report.ts, which holds this comparison, hence the structural type): the comparison
 * reads the image and pixel AUROC of each category and of the mean.
 */
export function compareWithPaper(
  m: { categories: Record<string, { image: { auroc: number }; pixel: { auroc: number } | null }>; mean: { image: { auroc: number }; pixel: { auroc: number } | null } },
  benchmark: PaperBenchmark,
): PaperComparison {
  const table = PAPER_RESULTS[benchmark];
  const names = Object.keys(m.categories);
  const rows = names
    .filter((c) => c in table.categories)
    .map((c): PaperRow => {
      const got = m.categories[c];
      const want = table.categories[c];
      return { category: c, image: delta(pct(got.image.auroc), want.image_auroc), pixel: delta(pct(got.pixel?.auroc), want.pixel_auroc) };
    });
  const missing = Object.keys(table.categories).filter((c) => !(c in m.categories));
  const complete = missing.length === 0;
  const mean: PaperRow = {
    category: 'mean',
    image: delta(pct(m.mean.image.auroc), complete ? table.mean.image_auroc : null),
    pixel: delta(pct(m.mean.pixel?.auroc), complete ? table.mean.pixel_auroc : null),
  };
  return {
    benchmark,
    source: PAPER_SOURCE,
    protocol: table.protocol,
    rows,
    mean,
    complete,
    missing,
    extra: names.filter((c) => !(c in table.categories)),
    uniad: UNIAD_MEANS[benchmark],
  };
}

const num = (x: number | null, sign = false) => (x === null ? '-' : `${sign && x > 0 ? '+' : ''}${x.toFixed(1)}`);

/** Table cells of a row: I-AUROC ours, paper, Δ, P-AUROC ours, paper, Δ. */
export function paperRowCells(r: PaperRow): string[] {
  return [num(r.image.ours), num(r.image.paper), num(r.image.delta, true), num(r.pixel.ours), num(r.pixel.paper), num(r.pixel.delta, true)];
}

/** Column titles matching {@link paperRowCells}. */
export const PAPER_COLUMNS = ['I-AUROC', 'paper', 'Δ', 'P-AUROC', 'paper', 'Δ'];

/** Sentences under the comparison: what is missing, and the UniAD reference. */
export function paperNotes(c: PaperComparison): string[] {
  const notes: string[] = [];
  if (!c.complete) {
    notes.push(`The paper's mean (${num(PAPER_RESULTS[c.benchmark].mean.image_auroc)} / ${num(PAPER_RESULTS[c.benchmark].mean.pixel_auroc)}) covers all ${Object.keys(PAPER_RESULTS[c.benchmark].categories).length} categories; this run evaluated ${c.rows.length}, so the means are not compared (not evaluated: ${c.missing.join(', ')}).`);
  }
  if (c.extra.length) notes.push(`Not in the paper: ${c.extra.join(', ')}.`);
  notes.push(`For reference, the paper quotes UniAD (unified) at ${num(c.uniad.image_auroc)} / ${num(c.uniad.pixel_auroc)} mean image / pixel AUROC.`);
  return notes;
}
