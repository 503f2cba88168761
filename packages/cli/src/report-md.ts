import { formatDuration, formatMetric } from './format.js';
import { PAPER_COLUMNS, paperNotes, paperRowCells } from './paper-results.js';
import type { ReportData } from './report-data.js';

function row(cells: (string | number)[]): string {
  return `| ${cells.join(' | ')} |`;
}

/**
 * The Markdown report: summary, per-category table and the gallery images by relative link (the
 * PNG files are written beside it).
 */
export function renderMarkdown(r: ReportData): string {
  const m = r.metrics;
  const lines: string[] = [`# ${r.title}`, '', `Generated ${r.generatedAt}.`, ''];
  for (const n of r.notes) lines.push(`> **Note:** ${n}`, '');
  lines.push('## Model', '');
  for (const [k, v] of Object.entries(m.model)) lines.push(`- **${k}**: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  if (m.data) lines.push('', '## Data', '', `- **root**: ${m.data.root}`, `- **format**: ${m.data.format}`, `- **categories**: ${m.data.categories.join(', ')}`, `- **test images**: ${m.data.test_images}${m.data.skipped ? ` (${m.data.skipped} stray entries skipped)` : ''}`);
  lines.push('', '## Results', '');
  lines.push(row(['category', 'normal', 'anomalous', 'image AUROC', 'image AP', 'image F1-max', 'oracle threshold', 'pixel AUROC', 'pixel AP', 'pixel F1-max', 'AU-PRO']));
  lines.push(row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
  for (const [name, c] of Object.entries(m.categories)) {
    lines.push(
      row([
        name,
        c.counts.normal,
        c.counts.anomalous,
        formatMetric(c.image.auroc),
        formatMetric(c.image.ap),
        formatMetric(c.image.f1_max),
        c.image.threshold.toPrecision(4),
        formatMetric(c.pixel?.auroc),
        formatMetric(c.pixel?.ap),
        formatMetric(c.pixel?.f1_max),
        formatMetric(c.pixel?.aupro),
      ]),
    );
  }
  lines.push(
    row([
      '**mean**',
      '',
      '',
      `**${formatMetric(m.mean.image.auroc)}**`,
      formatMetric(m.mean.image.ap),
      formatMetric(m.mean.image.f1_max),
      '',
      formatMetric(m.mean.pixel?.auroc),
      formatMetric(m.mean.pixel?.ap),
      formatMetric(m.mean.pixel?.f1_max),
      formatMetric(m.mean.pixel?.aupro),
    ]),
  );
  lines.push('', `Pooled over all ${m.pooled.counts.normal + m.pooled.counts.anomalous} test images: image AUROC ${formatMetric(m.pooled.image.auroc)}, F1-max ${formatMetric(m.pooled.image.f1_max)} at threshold ${m.pooled.image.threshold.toPrecision(4)}. The thresholds in this report are F1-max on the test set itself, an oracle figure for comparison; \`rlr predict\` labels with the threshold \`rlr train\` fitted on validation normals (model/postprocessor.json).`);
  if (m.paper) {
    const p = m.paper;
    lines.push('', '## Compared with the paper', '', `${p.protocol}; ${p.source}. AUROC in percent; Δ = ours − paper.`, '');
    lines.push(row(['category', ...PAPER_COLUMNS]), row(['---', ...PAPER_COLUMNS.map(() => '---:')]));
    for (const r of [...p.rows, p.mean]) lines.push(row([r.category === 'mean' ? '**mean**' : r.category, ...paperRowCells(r)]));
    lines.push('', ...paperNotes(p));
  }
  if (r.loss && r.loss.length > 0) {
    const last = r.loss[r.loss.length - 1];
    lines.push('', '## Training', '', `${r.loss.length} epochs; loss ${r.loss[0].loss.toPrecision(4)} → ${last.loss.toPrecision(4)}. The curve is in report.html.`);
  }
  if (Object.keys(m.timing).length > 0) {
    lines.push('', '## Timing', '');
    for (const [k, v] of Object.entries(m.timing)) lines.push(`- ${k}: ${k.endsWith('_s') ? `${v.toFixed(2)} s (${formatDuration(v)})` : v.toFixed(2)}`);
  }
  if (r.gallery.length > 0) {
    lines.push('', '## Heatmaps', '', 'Image, ground truth and anomaly overlay.', '');
    for (const g of r.gallery) {
      lines.push(`### ${g.category}: ${g.reason}`, '', `\`${g.path}\` — ${g.label ? 'anomalous' : 'normal'}, score ${g.score.toPrecision(4)}`, '');
      const cells = [`![image](${g.image.file})`, g.mask ? `![ground truth](${g.mask.file})` : '(no mask)', `![overlay](${g.overlay.file})`];
      lines.push(row(['image', 'ground truth', 'overlay']), row(['---', '---', '---']), row(cells), '');
    }
  }
  return `${lines.join('\n')}\n`;
}
