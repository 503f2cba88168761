import { formatDuration, formatMetric } from './format.js';
import { PAPER_COLUMNS, paperNotes, paperRowCells } from './paper-results.js';
import type { ReportData } from './report-data.js';
import { escapeXml as esc, lineChart } from './svg-chart.js';

function dataUri(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
}

const STYLE = `
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#222}
h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;font-size:.9rem}th,td{padding:.3rem .6rem;border-bottom:1px solid #eee;text-align:right}
th:first-child,td:first-child{text-align:left}tr.mean td{font-weight:bold;border-top:2px solid #999}
.note{background:#fff6d6;border-left:4px solid #e0b000;padding:.5rem 1rem;margin:.5rem 0}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.charts svg{border:1px solid #eee}
.gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:1rem}
figure{margin:0;border:1px solid #ddd;padding:.5rem;border-radius:4px}figure .row{display:flex;gap:4px}
figure img,figure .nomask{width:33%;image-rendering:pixelated;height:auto}.nomask{display:flex;align-items:center;justify-content:center;background:#eee;color:#777;font-size:.8rem}figcaption{font-size:.8rem;margin-top:.3rem;word-break:break-all}
.bad{color:#b00}.good{color:#070}dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:bold}
`;

/**
 * The self-contained HTML report: inline CSS, inline SVG charts and base64 PNGs, no external
 * resources, so the one file can be mailed or archived.
 */
export function renderHtml(r: ReportData): string {
  const m = r.metrics;
  const parts: string[] = [];
  parts.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`);
  parts.push(`<title>${esc(r.title)}</title><style>${STYLE}</style></head><body>`);
  parts.push(`<h1>${esc(r.title)}</h1><p>Generated ${esc(r.generatedAt)}.</p>`);
  for (const n of r.notes) parts.push(`<p class="note">${esc(n)}</p>`);

  parts.push('<h2>Model</h2><dl>');
  for (const [k, v] of Object.entries(m.model)) parts.push(`<dt>${esc(k)}</dt><dd>${esc(typeof v === 'object' ? JSON.stringify(v) : String(v))}</dd>`);
  parts.push('</dl>');
  if (m.data) {
    const d = m.data;
    parts.push(`<h2>Data</h2><dl><dt>root</dt><dd>${esc(d.root)}</dd><dt>format</dt><dd>${esc(d.format)}</dd><dt>categories</dt><dd>${esc(d.categories.join(', '))}</dd>`);
    parts.push(`<dt>test images</dt><dd>${d.test_images}${d.skipped ? ` (${d.skipped} stray entries skipped)` : ''}</dd></dl>`);
  }

  parts.push('<h2>Results</h2><table><thead><tr><th>category</th><th>normal</th><th>anomalous</th><th>image AUROC</th><th>image AP</th><th>image F1-max</th><th>oracle threshold</th><th>pixel AUROC</th><th>pixel AP</th><th>pixel F1-max</th><th>AU-PRO</th></tr></thead><tbody>');
  for (const [name, c] of Object.entries(m.categories)) {
    parts.push(
      `<tr><td>${esc(name)}</td><td>${c.counts.normal}</td><td>${c.counts.anomalous}</td><td>${formatMetric(c.image.auroc)}</td><td>${formatMetric(c.image.ap)}</td><td>${formatMetric(c.image.f1_max)}</td><td>${c.image.threshold.toPrecision(4)}</td>` +
        `<td>${formatMetric(c.pixel?.auroc)}</td><td>${formatMetric(c.pixel?.ap)}</td><td>${formatMetric(c.pixel?.f1_max)}</td><td>${formatMetric(c.pixel?.aupro)}</td></tr>`,
    );
  }
  parts.push(
    `<tr class="mean"><td>mean</td><td></td><td></td><td>${formatMetric(m.mean.image.auroc)}</td><td>${formatMetric(m.mean.image.ap)}</td><td>${formatMetric(m.mean.image.f1_max)}</td><td></td>` +
      `<td>${formatMetric(m.mean.pixel?.auroc)}</td><td>${formatMetric(m.mean.pixel?.ap)}</td><td>${formatMetric(m.mean.pixel?.f1_max)}</td><td>${formatMetric(m.mean.pixel?.aupro)}</td></tr>`,
  );
  parts.push('</tbody></table>');
  parts.push(`<p>Pooled over all test images: image AUROC ${formatMetric(m.pooled.image.auroc)}, F1-max ${formatMetric(m.pooled.image.f1_max)} at threshold ${m.pooled.image.threshold.toPrecision(4)}. The thresholds here are F1-max on the test set itself, an oracle figure for comparison; <code>rlr predict</code> labels with the threshold <code>rlr train</code> fitted on validation normals (<code>model/postprocessor.json</code>).</p>`);

  if (m.paper) {
    const p = m.paper;
    parts.push(`<h2>Compared with the paper</h2><p>${esc(p.protocol)}; ${esc(p.source)}. AUROC in percent; Δ = ours − paper.</p>`);
    parts.push(`<table><thead><tr><th>category</th>${PAPER_COLUMNS.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>`);
    for (const row of [...p.rows, p.mean]) {
      parts.push(`<tr${row.category === 'mean' ? ' class="mean"' : ''}><td>${esc(row.category)}</td>${paperRowCells(row).map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`);
    }
    parts.push('</tbody></table>');
    for (const n of paperNotes(p)) parts.push(`<p>${esc(n)}</p>`);
  }

  const names = Object.keys(r.curves);
  if (names.length > 0) {
    parts.push('<h2>Curves (image level)</h2><div class="charts">');
    parts.push(
      lineChart(
        names.map((n) => ({ name: n, x: r.curves[n].roc.x, y: r.curves[n].roc.y })),
        { title: 'ROC', xLabel: 'false positive rate', yLabel: 'true positive rate', xDomain: [0, 1], yDomain: [0, 1], diagonal: true, legend: 'bottom-right' },
      ),
    );
    parts.push(
      lineChart(
        names.map((n) => ({ name: n, x: r.curves[n].pr.x, y: r.curves[n].pr.y })),
        { title: 'Precision-recall', xLabel: 'recall', yLabel: 'precision', xDomain: [0, 1], yDomain: [0, 1], legend: 'bottom-left' },
      ),
    );
    if (r.loss && r.loss.length > 0) {
      parts.push(
        lineChart([{ name: 'training loss', x: r.loss.map((l) => l.epoch), y: r.loss.map((l) => l.loss) }], {
          title: 'Training loss',
          xLabel: 'epoch',
          yLabel: 'loss',
          logY: r.loss.every((l) => l.loss > 0),
          legend: 'top-right',
        }),
      );
    }
    parts.push('</div>');
  }

  if (r.gallery.length > 0) {
    parts.push('<h2>Heatmaps</h2><p>Each panel: input, ground truth, anomaly overlay. Shown per category: the best- and worst-scored cases.</p>');
    if (r.legend) {
      parts.push(`<p>Overlay scale: <img src="${dataUri(r.legend.png)}" alt="colour scale" style="vertical-align:middle;height:12px;width:200px"> from the lowest to the highest anomaly-map value among each category's gallery images (overall ${r.legend.min.toPrecision(3)} → ${r.legend.max.toPrecision(3)}).</p>`);
    }
    parts.push('<div class="gallery">');
    for (const g of r.gallery) {
      const cls = g.reason.startsWith('worst') ? 'bad' : 'good';
      parts.push(
        `<figure><div class="row"><img src="${dataUri(g.image.png)}" alt="input">${g.mask ? `<img src="${dataUri(g.mask.png)}" alt="ground truth">` : '<span class="nomask">no mask</span>'}<img src="${dataUri(g.overlay.png)}" alt="anomaly overlay"></div>` +
          `<figcaption><b>${esc(g.category)}</b> · <span class="${cls}">${esc(g.reason)}</span> · ${g.label ? 'anomalous' : 'normal'} · score ${g.score.toPrecision(4)}<br>${esc(g.path)}</figcaption></figure>`,
      );
    }
    parts.push('</div>');
  }

  if (Object.keys(m.timing).length > 0) {
    parts.push('<h2>Timing</h2><dl>');
    for (const [k, v] of Object.entries(m.timing)) parts.push(`<dt>${esc(k)}</dt><dd>${k.endsWith('_s') ? `${v.toFixed(2)} s (${formatDuration(v)})` : v.toFixed(2)}</dd>`);
    parts.push('</dl>');
  }
  parts.push('</body></html>\n');
  return parts.join('\n');
}
