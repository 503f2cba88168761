/**
 * Compare an `rlr eval` report (metrics.json) with the numbers published in the RLR paper.
 *
 *   npx tsx src/compare.ts <metrics.json> --dataset mvtec|visa [--tolerance 1.0]
 *
 * Prints a Markdown table (ours, paper, difference, in percent) and exits with 1 when a known
 * published value differs from ours by more than the tolerance (percentage points), 2 when the
 * inputs are unusable.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { validateMetricsReport, type MetricsReport } from '@rlr/cli';

/** Published values in percent (null: not reported). */
export interface PaperValues {
  image_auroc: number | null;
  pixel_auroc: number | null;
}

export interface PaperTable {
  protocol?: string;
  mean: PaperValues;
  categories: Record<string, PaperValues>;
}

/** `expected.json`: the paper's per-category tables, its UniAD means and ablations (Tables 3–5). */
export interface ExpectedFile {
  source: string;
  units: 'percent';
  status?: string;
  datasets: Record<string, PaperTable>;
  baselines?: Record<string, { note?: string } & Record<string, { mean: PaperValues } | string | undefined>>;
  ablations?: Record<string, unknown>;
}

export interface ComparisonRow {
  category: string;
  image: { ours: number | null; paper: number | null; delta: number | null };
  pixel: { ours: number | null; paper: number | null; delta: number | null };
  aupro: number | null;
}

export interface Comparison {
  rows: ComparisonRow[];
  /** Categories the paper reports that the report lacks. */
  missing: string[];
  /** Rows whose |delta| exceeds the tolerance. */
  outside: string[];
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? null : 100 * x);
const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);

/** Line our metrics up against the paper's, in percent. */
export function compareWithPaper(report: MetricsReport, paper: PaperTable, tolerance: number): Comparison {
  const rows: ComparisonRow[] = [];
  const missing: string[] = [];
  const row = (category: string, ours: { image: number | null; pixel: number | null; aupro: number | null }, want: PaperValues): ComparisonRow => ({
    category,
    image: { ours: ours.image, paper: want.image_auroc, delta: diff(ours.image, want.image_auroc) },
    pixel: { ours: ours.pixel, paper: want.pixel_auroc, delta: diff(ours.pixel, want.pixel_auroc) },
    aupro: ours.aupro,
  });
  for (const [name, want] of Object.entries(paper.categories)) {
    const got = report.categories[name];
    if (!got) {
      missing.push(name);
      continue;
    }
    rows.push(row(name, { image: pct(got.image.auroc), pixel: pct(got.pixel?.auroc), aupro: pct(got.pixel?.aupro) }, want));
  }
  rows.push(row('mean', { image: pct(report.mean.image.auroc), pixel: pct(report.mean.pixel?.auroc), aupro: pct(report.mean.pixel?.aupro) }, paper.mean));
  const outside = rows
    .filter((r) => [r.image.delta, r.pixel.delta].some((d) => d !== null && Math.abs(d) > tolerance))
    .map((r) => r.category);
  return { rows, missing, outside };
}

const f = (x: number | null, sign = false) => (x === null ? 'n/a' : `${sign && x > 0 ? '+' : ''}${x.toFixed(1)}`);

/** The comparison as a Markdown table. */
export function renderTable(c: Comparison): string {
  const lines = [
    '| category | image AUROC | paper | Δ | pixel AUROC | paper | Δ | AU-PRO |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of c.rows) {
    lines.push(`| ${r.category} | ${f(r.image.ours)} | ${f(r.image.paper)} | ${f(r.image.delta, true)} | ${f(r.pixel.ours)} | ${f(r.pixel.paper)} | ${f(r.pixel.delta, true)} | ${f(r.aupro)} |`);
  }
  return lines.join('\n');
}

export function loadExpected(): ExpectedFile {
  const here = dirname(fileURLToPath(import.meta.url));
  return JSON.parse(readFileSync(join(here, '..', 'expected.json'), 'utf8')) as ExpectedFile;
}

export function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { dataset: { type: 'string', default: 'mvtec' }, tolerance: { type: 'string', default: '1' } },
  });
  const file = positionals[0];
  const dataset = values.dataset;
  const tolerance = Number(values.tolerance);
  if (!file || !Number.isFinite(tolerance)) {
    console.error('usage: tsx src/compare.ts <metrics.json> --dataset mvtec|visa [--tolerance 1.0]');
    return 2;
  }
  const expected = loadExpected();
  const paper = expected.datasets[dataset];
  if (!paper) {
    console.error(`unknown dataset "${dataset}": expected.json has ${Object.keys(expected.datasets).join(', ')}`);
    return 2;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    console.error(`cannot read ${file}: ${(e as Error).message}`);
    return 2;
  }
  const problems = validateMetricsReport(doc);
  if (problems.length) {
    console.error(`${file} is not an rlr eval report:\n  ${problems.join('\n  ')}`);
    return 2;
  }
  const c = compareWithPaper(doc as MetricsReport, paper, tolerance);
  console.log(renderTable(c));
  if (expected.status) console.log(`\nnote: ${expected.status}`);
  if (c.missing.length) console.log(`\nnot in the report: ${c.missing.join(', ')}`);
  if (c.outside.length) {
    console.log(`\nmore than ${tolerance} points from the paper: ${c.outside.join(', ')}`);
    return 1;
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
