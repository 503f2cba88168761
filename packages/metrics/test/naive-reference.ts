/**
 * Slow, obviously-correct reference implementations written straight from the definitions
 * (quadratic, plain arrays), used as oracles by the property tests. They share no code with the
 * package.
 */

/** Distinct thresholds (descending) with the cumulative counts at each: score >= threshold. */
export function naiveCurve(labels: ArrayLike<number>, scores: ArrayLike<number>): { t: number[]; tp: number[]; fp: number[] } {
  const distinct = [...new Set(Array.from(scores, (s) => (s === 0 ? 0 : s)))].sort((a, b) => b - a);
  const tp: number[] = [];
  const fp: number[] = [];
  for (const t of distinct) {
    let a = 0;
    let b = 0;
    for (let i = 0; i < scores.length; i++) {
      if (scores[i] >= t) {
        if (labels[i] === 1) a++;
        else b++;
      }
    }
    tp.push(a);
    fp.push(b);
  }
  return { t: distinct, tp, fp };
}

/** AUROC as the Mann-Whitney statistic: P(score of anomalous > normal) + ½ P(tie). */
export function naiveAuroc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      if (scores[i] > scores[j]) wins += 1;
      else if (scores[i] === scores[j]) wins += 0.5;
    }
  }
  return wins / pairs;
}

/** Step-wise AP: Σ (ΔRecall) · Precision over distinct thresholds. */
export function naiveAp(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const { tp, fp } = naiveCurve(labels, scores);
  const p = tp[tp.length - 1];
  let ap = 0;
  let prevRecall = 0;
  for (let k = 0; k < tp.length; k++) {
    const recall = tp[k] / p;
    ap += (recall - prevRecall) * (tp[k] / (tp[k] + fp[k]));
    prevRecall = recall;
  }
  return ap;
}

/** Largest 2PR/(P+R) over distinct thresholds (0 where TP = 0). */
export function naiveF1Max(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const { tp, fp } = naiveCurve(labels, scores);
  const p = tp[tp.length - 1];
  let best = 0;
  for (let k = 0; k < tp.length; k++) {
    if (tp[k] === 0) continue;
    const precision = tp[k] / (tp[k] + fp[k]);
    const recall = tp[k] / p;
    best = Math.max(best, (2 * precision * recall) / (precision + recall));
  }
  return best;
}

/**
 * Connected components by repeated min-label propagation until nothing changes (a different
 * algorithm from the package's flood fill), relabelled 1..n in order of first appearance.
 */
export function naiveComponents(mask: ArrayLike<number>, h: number, w: number, connectivity: 4 | 8): { count: number; labels: number[] } {
  const lab = Array.from(mask, (m, i) => (m !== 0 ? i + 1 : 0));
  let changed = true;
  while (changed) {
    changed = false;
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        const p = r * w + c;
        if (lab[p] === 0) continue;
        for (let dr = -1; dr <= 1; dr++) {
          for (let dc = -1; dc <= 1; dc++) {
            if (connectivity === 4 && dr !== 0 && dc !== 0) continue;
            const rr = r + dr;
            const cc = c + dc;
            if (rr < 0 || rr >= h || cc < 0 || cc >= w) continue;
            const q = rr * w + cc;
            if (lab[q] !== 0 && lab[q] < lab[p]) {
              lab[p] = lab[q];
              changed = true;
            }
          }
        }
      }
    }
  }
  const rename = new Map<number, number>();
  const labels = lab.map((l) => {
    if (l === 0) return 0;
    if (!rename.has(l)) rename.set(l, rename.size + 1);
    return rename.get(l) as number;
  });
  return { count: rename.size, labels };
}

/**
 * AU-PRO by the MVTec AD reference procedure, literally: per-threshold FPR and mean region
 * overlap recomputed from scratch, curve framed by (0,0) and (1,1), trapezoid up to the limit
 * with linear interpolation when the limit is not a curve point, divided by the limit.
 */
export function naiveAuPro(
  maps: ArrayLike<number>,
  masks: ArrayLike<number>,
  h: number,
  w: number,
  limit: number,
): number {
  const hw = h * w;
  const images = maps.length / hw;
  const regions: number[][] = []; // pixel indices of each region
  const normal: number[] = [];
  for (let b = 0; b < images; b++) {
    const { count, labels } = naiveComponents(Array.from(masks).slice(b * hw, (b + 1) * hw), h, w, 8);
    const own: number[][] = Array.from({ length: count }, () => []);
    labels.forEach((l, p) => (l === 0 ? normal.push(b * hw + p) : own[l - 1].push(b * hw + p)));
    regions.push(...own);
  }
  const xs = [0];
  const ys = [0];
  for (const t of [...new Set(Array.from(maps))].sort((a, b) => b - a)) {
    xs.push(normal.filter((p) => maps[p] >= t).length / normal.length);
    let overlap = 0;
    for (const r of regions) overlap += r.filter((p) => maps[p] >= t).length / r.length;
    ys.push(overlap / regions.length);
  }
  xs.push(1);
  ys.push(1);
  let area = 0;
  let k = 1;
  for (; k < xs.length && xs[k] <= limit; k++) area += 0.5 * (ys[k] + ys[k - 1]) * (xs[k] - xs[k - 1]);
  if (!xs.includes(limit)) {
    const yi = ys[k - 1] + ((ys[k] - ys[k - 1]) * (limit - xs[k - 1])) / (xs[k] - xs[k - 1]);
    area += 0.5 * (yi + ys[k - 1]) * (limit - xs[k - 1]);
  }
  return area / limit;
}
