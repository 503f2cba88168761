/**
 * Dependency-free SVG line charts for the reports (ROC, PR and loss curves). The output is a
 * standalone `<svg>` element that an HTML page can inline.
 */

/** One line of a chart. */
export interface Series {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Axis ranges; default: the data's extent. */
  xDomain?: [number, number];
  yDomain?: [number, number];
  /** Draw the dashed chance line y = x (ROC). */
  diagonal?: boolean;
  /** Log-scale y (loss curves). */
  logY?: boolean;
  width?: number;
  height?: number;
  /** Corner of the plot that holds the legend (where the curves usually are not). */
  legend?: 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** The colour of series `i` (shared with legends drawn elsewhere). */
export function seriesColour(i: number): string {
  return PALETTE[i % PALETTE.length];
}

/** Escape text for XML/HTML. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/**
 * Keep at most `max` points of a polyline, always including the first and last; curves from
 * thousands of thresholds stay small in the report.
 */
export function thin(x: ArrayLike<number>, y: ArrayLike<number>, max = 400): [number[], number[]] {
  const n = Math.min(x.length, y.length);
  if (n <= max) return [Array.from({ length: n }, (_, i) => x[i]), Array.from({ length: n }, (_, i) => y[i])];
  const xs: number[] = [];
  const ys: number[] = [];
  for (let k = 0; k < max; k++) {
    const i = Math.round((k * (n - 1)) / (max - 1));
    xs.push(x[i]);
    ys.push(y[i]);
  }
  return [xs, ys];
}

function extent(values: number[][], log: boolean): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const vs of values) for (const v of vs) if (Number.isFinite(v) && (!log || v > 0)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (!Number.isFinite(lo)) return [0, 1];
  if (lo === hi) return log ? [lo / 2, hi * 2] : [lo - 0.5, hi + 0.5];
  return [lo, hi];
}

function ticks(lo: number, hi: number, count = 5): number[] {
  const step = (hi - lo) / (count - 1);
  return Array.from({ length: count }, (_, i) => lo + i * step);
}

function tickLabel(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) return v.toExponential(1);
  return Number(v.toPrecision(3)).toString();
}

/** Render a line chart as an `<svg>` string. */
export function lineChart(series: Series[], o: ChartOptions): string {
  const W = o.width ?? 360;
  const H = o.height ?? 280;
  const m = { l: 52, r: 12, t: 28, b: 40 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const thinned = series.map((s) => thin(s.x, s.y));
  const [x0, x1] = o.xDomain ?? extent(thinned.map((t) => t[0]), false);
  const logY = o.logY ?? false;
  const [y0, y1] = o.yDomain ?? extent(thinned.map((t) => t[1]), logY);
  const fy = (v: number) => (logY ? Math.log10(Math.max(v, y0)) : v);
  const [ly0, ly1] = [fy(y0), fy(y1)];
  const px = (v: number) => m.l + ((v - x0) / (x1 - x0 || 1)) * pw;
  const py = (v: number) => m.t + ph - ((fy(v) - ly0) / (ly1 - ly0 || 1)) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(o.title)}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="${W / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(o.title)}</text>`);
  // Grid and tick labels.
  for (const t of ticks(x0, x1)) {
    const x = px(t).toFixed(1);
    parts.push(`<line x1="${x}" y1="${m.t}" x2="${x}" y2="${m.t + ph}" stroke="#eee"/>`);
    parts.push(`<text x="${x}" y="${m.t + ph + 14}" text-anchor="middle">${tickLabel(t)}</text>`);
  }
  const yTicks = logY ? ticks(ly0, ly1).map((v) => 10 ** v) : ticks(y0, y1);
  for (const t of yTicks) {
    const y = py(t).toFixed(1);
    parts.push(`<line x1="${m.l}" y1="${y}" x2="${m.l + pw}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 4}" y="${y}" text-anchor="end" dominant-baseline="middle">${tickLabel(t)}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 6}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
  parts.push(`<text x="12" y="${m.t + ph / 2}" text-anchor="middle" transform="rotate(-90 12 ${m.t + ph / 2})">${escapeXml(o.yLabel)}</text>`);
  if (o.diagonal) {
    parts.push(`<line x1="${px(x0)}" y1="${py(y0)}" x2="${px(x1)}" y2="${py(y1)}" stroke="#aaa" stroke-dasharray="4 3"/>`);
  }
  thinned.forEach(([xs, ys], i) => {
    const pts = xs.map((x, k) => `${px(x).toFixed(1)},${py(ys[k]).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${seriesColour(i)}" stroke-width="1.6" points="${pts}"><title>${escapeXml(series[i].name)}</title></polyline>`);
  });
  // Legend in the requested corner of the plot.
  const corner = o.legend ?? 'top-left';
  const longest = Math.max(0, ...series.map((s) => s.name.length));
  const lx = corner.endsWith('right') ? m.l + pw - 30 - longest * 6 : m.l + 8;
  const ly = corner.startsWith('bottom') ? m.t + ph - 8 - series.length * 14 : m.t + 4;
  series.forEach((s, i) => {
    const y = ly + 8 + i * 14;
    parts.push(`<rect x="${lx}" y="${y - 2}" width="10" height="3" fill="${seriesColour(i)}"/>`);
    parts.push(`<text x="${lx + 14}" y="${y}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
