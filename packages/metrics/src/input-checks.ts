/**
 * Input validation shared by every metric. Each check throws an `Error` whose message names the
 * input at fault (the caller's `context`, e.g. `category "bottle" image scores`) and says what to
 * do, so that a bad evaluation never turns into a silent number.
 */

/** Numbers accepted as scores: typed arrays or plain arrays. */
export type ScoreArray = ArrayLike<number>;

/** Labels: 0 = normal, 1 = anomalous (`Uint8Array`, any typed array or a plain array). */
export type LabelArray = ArrayLike<number>;

/** Throws unless `labels` and `scores` have the same length. */
export function checkSameLength(context: string, labels: LabelArray, scores: ScoreArray): void {
  if (labels.length !== scores.length) {
    throw new Error(
      `${context}: ${labels.length} labels but ${scores.length} scores; ` +
        'pass exactly one score per label, in the same order',
    );
  }
}

/** The error for a label that is not exactly 0 or 1. */
export function badLabel(context: string, index: number, label: number): Error {
  return new Error(
    `${context}: label at index ${index} is ${String(label)}; labels must be 0 (normal) or 1 (anomalous) — ` +
      'binarise them first (e.g. mask > 0)',
  );
}

/** The error for a score that is NaN or infinite. */
export function nonFiniteScore(context: string, where: string, value: number): Error {
  return new Error(
    `${context}: score ${where} is ${String(value)}; scores must be finite — ` +
      'look for an overflow or a division by zero in the model output before evaluating',
  );
}

/**
 * Throws when a metric is undefined because one class is absent (AUROC, AP, F1 and AU-PRO all
 * need at least one normal and one anomalous sample).
 */
export function checkBothClasses(
  context: string,
  metric: string,
  normal: number,
  anomalous: number,
  unit = 'samples',
): void {
  if (normal > 0 && anomalous > 0) return;
  const missing = normal === 0 ? 'normal' : 'anomalous';
  throw new Error(
    `${context}: ${metric} is undefined with no ${missing} ${unit} ` +
      `(${normal} normal, ${anomalous} anomalous); the evaluation set needs both classes — ` +
      `add ${missing} ${unit} or leave this set out`,
  );
}

/** Throws unless `n` is a positive integer; `what` names the setting. */
export function checkPositiveInteger(context: string, what: string, n: number): void {
  if (!Number.isInteger(n) || n <= 0) {
    throw new Error(`${context}: ${what} must be a positive integer, got ${String(n)}`);
  }
}

/** Throws unless `limit` is in (0, 1]. */
export function checkFprLimit(context: string, limit: number): void {
  if (!(limit > 0 && limit <= 1)) {
    throw new Error(
      `${context}: fprLimit must be in (0, 1] (the MVTec AD protocol uses 0.3), got ${String(limit)}`,
    );
  }
}
