import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from './atomic-write.js';
import { formatMetric } from './format.js';
import type { MetricsReport } from './metrics-report.js';
import { escapeXml as esc } from './svg-chart.js';

/**
 * The report of `rlr eval --model <a> --model <b> …`: several runs evaluated on the same test
 * images, side by side. Each run's own full report sits in a subfolder named after the run; this
 * module writes the summary beside them: `metrics.json` (`format: "rlr-comparison"`), `report.md`
 * and a self-contained `report.html`.
 */

/** One evaluated run of a comparison. */
export interface ComparedRun {
  /** Column name (the run folder's name, made unique). */
  name: string;
  /** The run folder. */
  run: string;
  /** `rlr`, or `knn` for the nearest-neighbour baseline. */
  kind: string;
  /** Folder of the run's own full report. */
  report: string;
  metrics: MetricsReport;
  /** Seconds spent training (RLR: the epochs; knn: the bank build), when known. */
  trainSeconds: number | null;
}

/** Contents of a comparison's `metrics.json`. */
export interface ComparisonReport {
  format: 'rlr-comparison';
  generatedAt: string;
  data: MetricsReport['data'];
  notes: string[];
  runs: {
    name: string;
    run: string;
    kind: string;
    report: string;
    model: Record<string, unknown>;
    mean: MetricsReport['mean'];
    pooled: MetricsReport['pooled'];
    categories: MetricsReport['categories'];
    train_s: number | null;
    ms_per_image: number;
  }[];
}

/** The rows of the summary table: label and the value of one run. */
const SUMMARY: [string, (r: ComparedRun) => string][] = [
  ['model', (r) => r.kind],
  ['image AUROC', (r) => formatMetric(r.metrics.mean.image.auroc)],
  ['image AP', (r) => formatMetric(r.metrics.mean.image.ap)],
  ['image F1-max', (r) => formatMetric(r.metrics.mean.image.f1_max)],
  ['pixel AUROC', (r) => formatMetric(r.metrics.mean.pixel?.auroc)],
  ['pixel AP', (r) => formatMetric(r.metrics.mean.pixel?.ap)],
  ['AU-PRO', (r) => formatMetric(r.metrics.mean.pixel?.aupro)],
  ['pooled image AUROC', (r) => formatMetric(r.metrics.pooled.image.auroc)],
  ['training s', (r) => (r.trainSeconds === null ? '-' : r.trainSeconds.toFixed(1))],
  ['inference ms / image', (r) => r.metrics.timing.ms_per_image.toFixed(1)],
];

/** Per-category columns: label and value. */
const PER_CATEGORY: [string, (m: MetricsReport['categories'][string] | undefined) => string][] = [
  ['I-AUROC', (c) => formatMetric(c?.image.auroc)],
  ['P-AUROC', (c) => formatMetric(c?.pixel?.auroc)],
  ['AU-PRO', (c) => formatMetric(c?.pixel?.aupro)],
];

function categoriesOf(runs: ComparedRun[]): string[] {
  return [...new Set(runs.flatMap((r) => Object.keys(r.metrics.categories)))];
}

/** The comparison's `metrics.json` document. */
export function comparisonDocument(runs: ComparedRun[], notes: string[]): ComparisonReport {
  return {
    format: 'rlr-comparison',
    generatedAt: new Date().toISOString(),
    data: runs[0]?.metrics.data,
    notes,
    runs: runs.map((r) => ({
      name: r.name,
      run: r.run,
      kind: r.kind,
      report: r.report,
      model: r.metrics.model,
      mean: r.metrics.mean,
      pooled: r.metrics.pooled,
      categories: r.metrics.categories,
      train_s: r.trainSeconds,
      ms_per_image: r.metrics.timing.ms_per_image,
    })),
  };
}

function mdRow(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** The Markdown comparison: one summary table (a column per run) and a per-category table. */
export function renderComparisonMarkdown(runs: ComparedRun[], title: string, notes: string[]): string {
  const lines = [`# ${title}`, '', `Generated ${new Date().toISOString()}.`, ''];
  for (const n of notes) lines.push(`> **Note:** ${n}`, '');
  const d = runs[0]?.metrics.data;
  if (d) lines.push(`Test data: ${d.root} (${d.format}; ${d.categories.join(', ')}; ${d.test_images} images), the same for every run.`, '');
  lines.push('## Summary (means over categories)', '');
  lines.push(mdRow(['', ...runs.map((r) => `\`${r.name}\``)]), mdRow(['---', ...runs.map(() => '---:')]));
  for (const [label, value] of SUMMARY) lines.push(mdRow([label, ...runs.map(value)]));
  lines.push('', '## Per category', '');
  const head = PER_CATEGORY.flatMap(([label]) => runs.map((r) => `${label} \`${r.name}\``));
  lines.push(mdRow(['category', ...head]), mdRow(['---', ...head.map(() => '---:')]));
  for (const c of categoriesOf(runs)) {
    lines.push(mdRow([c, ...PER_CATEGORY.flatMap(([, value]) => runs.map((r) => value(r.metrics.categories[c])))]));
  }
  lines.push('', '## Runs', '');
  for (const r of runs) lines.push(`- \`${r.name}\`: ${r.run} (${r.kind}); full report: ${r.report}`);
  return `${lines.join('\n')}\n`;
}

const STYLE = `body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222}
table{border-collapse:collapse;font-size:.9rem;margin:.5rem 0}th,td{padding:.3rem .6rem;border-bottom:1px solid #eee;text-align:right}
th:first-child,td:first-child{text-align:left}td.best{font-weight:bold}.note{background:#fff6d6;border-left:4px solid #e0b000;padding:.5rem 1rem}`;

/** The HTML comparison (self-contained); the best value of each metric row is bold. */
export function renderComparisonHtml(runs: ComparedRun[], title: string, notes: string[]): string {
  const p: string[] = [`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${STYLE}</style></head><body>`];
  p.push(`<h1>${esc(title)}</h1><p>Generated ${esc(new Date().toISOString())}.</p>`);
  for (const n of notes) p.push(`<p class="note">${esc(n)}</p>`);
  const d = runs[0]?.metrics.data;
  if (d) p.push(`<p>Test data: ${esc(d.root)} (${esc(d.format)}; ${esc(d.categories.join(', '))}; ${d.test_images} images), the same for every run.</p>`);
  const cells = (values: string[], higherIsBetter: boolean) => {
    const nums = values.map(Number);
    const best = higherIsBetter && nums.some(Number.isFinite) ? Math.max(...nums.filter(Number.isFinite)) : NaN;
    return values.map((v) => `<td${Number(v) === best && runs.length > 1 ? ' class="best"' : ''}>${esc(v)}</td>`).join('');
  };
  p.push('<h2>Summary (means over categories)</h2><table><thead><tr><th></th>', ...runs.map((r) => `<th>${esc(r.name)}</th>`), '</tr></thead><tbody>');
  for (const [label, value] of SUMMARY) p.push(`<tr><td>${esc(label)}</td>${cells(runs.map(value), /AUROC|AP|F1|PRO/.test(label))}</tr>`);
  p.push('</tbody></table><h2>Per category</h2><table><thead><tr><th>category</th>');
  for (const [label] of PER_CATEGORY) for (const r of runs) p.push(`<th>${esc(label)} ${esc(r.name)}</th>`);
  p.push('</tr></thead><tbody>');
  for (const c of categoriesOf(runs)) {
    p.push(`<tr><td>${esc(c)}</td>`);
    for (const [, value] of PER_CATEGORY) p.push(cells(runs.map((r) => value(r.metrics.categories[c])), true));
    p.push('</tr>');
  }
  p.push('</tbody></table><h2>Runs</h2><ul>');
  for (const r of runs) p.push(`<li><b>${esc(r.name)}</b>: ${esc(r.run)} (${esc(r.kind)}); full report: <a href="${esc(`${r.name}/report.html`)}">${esc(r.report)}</a></li>`);
  p.push('</ul></body></html>\n');
  return p.join('\n');
}

/** Write metrics.json, report.md and report.html of a comparison into `outDir`. */
export async function writeComparison(outDir: string, runs: ComparedRun[], title: string, notes: string[]): Promise<{ metrics: string; markdown: string; html: string }> {
  const files = { metrics: join(outDir, 'metrics.json'), markdown: join(outDir, 'report.md'), html: join(outDir, 'report.html') };
  await writeJsonAtomic(files.metrics, comparisonDocument(runs, notes));
  await writeFileAtomic(files.markdown, renderComparisonMarkdown(runs, title, notes));
  await writeFileAtomic(files.html, renderComparisonHtml(runs, title, notes));
  return files;
}
