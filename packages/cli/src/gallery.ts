/** Which test images the report shows: the instructive extremes of each category. */

/** A scored test image. */
export interface ScoredItem {
  index: number;
  category: string;
  label: 0 | 1;
  score: number;
}

/** A picked image and why. */
export interface GalleryPick {
  index: number;
  reason: string;
}

/**
 * Per category, in this order: the best-detected anomaly (highest anomalous score), the worst-missed
 * anomaly (lowest anomalous score), the worst false alarm (highest normal score) and the
 * best normal (lowest normal score). An image is shown once; at most `perCategory` per category.
 */
export function pickGallery(items: ScoredItem[], perCategory = 4): GalleryPick[] {
  const byCat = new Map<string, ScoredItem[]>();
  for (const it of items) {
    const list = byCat.get(it.category) ?? [];
    list.push(it);
    byCat.set(it.category, list);
  }
  const picks: GalleryPick[] = [];
  for (const list of byCat.values()) {
    const anomalous = list.filter((i) => i.label === 1).sort((a, b) => b.score - a.score);
    const normal = list.filter((i) => i.label === 0).sort((a, b) => b.score - a.score);
    const candidates: [ScoredItem | undefined, string][] = [
      [anomalous[0], 'best-detected anomaly'],
      [anomalous[anomalous.length - 1], 'worst-missed anomaly (lowest anomalous score)'],
      [normal[0], 'worst false alarm (highest normal score)'],
      [normal[normal.length - 1], 'best normal (lowest score)'],
    ];
    const seen = new Set<number>();
    for (const [it, reason] of candidates) {
      if (!it || seen.has(it.index) || seen.size >= perCategory) continue;
      seen.add(it.index);
      picks.push({ index: it.index, reason });
    }
  }
  return picks;
}
