/**
 * The one thing the service and the queue workers need from a model: score a batch of encoded
 * images. `rlr serve` and `rlr worker` back it with a trained run folder; tests back it with a
 * double; an embedding program can back it with anything that scores images.
 */

/** An anomaly map in the model's input geometry, row-major. */
export interface PredictMap {
  /** `[height, width]` pixel anomaly scores. */
  data: Float32Array;
  height: number;
  width: number;
}

/** What a {@link Predictor} gives for one image it could decode and score. */
export interface PredictResult {
  /** The raw anomaly score (higher: more anomalous). */
  score: number;
  /** The score on the model's normalised scale (1 at the threshold), or null without one. */
  normalizedScore: number | null;
  /** 1 anomalous, 0 normal, null when the model has no threshold. */
  label: 0 | 1 | null;
  /** The threshold the label came from, or null. */
  threshold: number | null;
  /** The anomaly map, when asked for with `maps: true`. */
  map?: PredictMap;
}

/** What a {@link Predictor} gives for one image it could not decode (truncated, corrupt, not an image). */
export interface ImageFailure {
  /** Why, naming the problem (e.g. `the upload: could not be decoded (truncated PNG)`). */
  error: string;
}

/** The outcome of one image of a batch. */
export type PredictOutcome = PredictResult | ImageFailure;

/** Options of {@link Predictor.predictBatch}. */
export interface PredictOptions {
  /** Also return each image's anomaly map. */
  maps?: boolean;
}

/**
 * A scorer of encoded images (PNG, JPEG, BMP, TIFF, WebP bytes).
 *
 * `predictBatch` returns one outcome per image, in order: an image that cannot be decoded gets an
 * {@link ImageFailure} and the others are still scored. It rejects only when the model itself fails
 * (e.g. a non-finite score from damaged weights), which fails every image of the batch.
 */
export interface Predictor {
  /** Resolves once the model is loaded and warmed up (the service's `/readyz`). */
  ready(): Promise<void>;
  /** Score a batch of encoded images. */
  predictBatch(images: Buffer[], options?: PredictOptions): Promise<PredictOutcome[]>;
  /** Release the model. */
  close(): Promise<void>;
  /** What is served (shown by `/healthz`), e.g. the model folder and backbone. */
  describe?(): Record<string, unknown>;
}

/** Whether an outcome is a failure to decode the image. */
export function isImageFailure(o: PredictOutcome): o is ImageFailure {
  return typeof (o as ImageFailure).error === 'string';
}
