/**
 * Scoring with an exported `model.onnx` in onnxruntime-node (CPU), with the shape of the tfjs
 * scoring path: `score(images) → { scores, maps }`.
 */
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { ONNX_IO } from '../export-detector.js';
import { readOnnxMetadata, type OnnxModelInfo } from '../model-metadata.js';

/** A batch of images at the model's size, `[B, H, W, 3]` RGB: uint8, or float32 in [0, 1]. */
export interface OnnxImages {
  images: Uint8Array | Float32Array;
  batch: number;
  height: number;
  width: number;
}

/** Per-image results (host arrays, row-major), as the tfjs scorer returns them plus the post-processing. */
export interface OnnxScores {
  /** `[B]` image scores. */
  scores: Float32Array;
  /** `[B, H, W]` pixel anomaly maps. */
  maps: Float32Array;
  height: number;
  width: number;
  /** `[B]` min-max normalised scores (the scores without normalisation). */
  normalizedScores: Float32Array;
  /** `[B]` 1 anomalous / 0 normal, when the model holds a threshold. */
  labels: Uint8Array | null;
}

/** Options of {@link OnnxDetector.open}. */
export interface OnnxDetectorOptions {
  /** onnxruntime intra-op threads (default: onnxruntime's choice). */
  threads?: number;
}

/** Float [0, 1] → uint8, rounded to the nearest level (what an 8-bit image file holds). */
export function toUint8(x: Float32Array): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(x[i] * 255)));
  return out;
}

const fix = 'export it again with: rlr export --format onnx --model <run-dir> --out <file>.onnx';

/** An exported detector opened in onnxruntime-node. */
export class OnnxDetector {
  readonly path: string;
  readonly info: OnnxModelInfo;
  private session: ort.InferenceSession | undefined;

  private constructor(path: string, info: OnnxModelInfo, session: ort.InferenceSession) {
    this.path = path;
    this.info = info;
    this.session = session;
  }

  /** `[H, W]` the model takes. */
  get imageSize(): [number, number] {
    return this.info.imageSize;
  }

  /**
   * Open `model.onnx`.
   * @throws naming the file, when it is missing, truncated, corrupt or not an RLR export
   */
  static async open(path: string, options: OnnxDetectorOptions = {}): Promise<OnnxDetector> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (e) {
      throw new Error(`cannot read the ONNX model ${path}: ${(e as Error).message}; ${fix}`);
    }
    return OnnxDetector.load(bytes, path, options);
  }

  /**
   * Open an exported model from its bytes; `where` names it in errors (e.g. its path).
   * @throws when the bytes are truncated, corrupt or not an RLR export
   */
  static async load(bytes: Uint8Array, where: string, options: OnnxDetectorOptions = {}): Promise<OnnxDetector> {
    const path = where;
    let info: OnnxModelInfo;
    try {
      info = readOnnxMetadata(bytes, path);
    } catch (e) {
      throw new Error(`${(e as Error).message}; ${fix}`);
    }
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
      });
    } catch (e) {
      throw new Error(`onnxruntime cannot load ${path} (${(e as Error).message.split('\n')[0]}); the file is truncated or corrupt: ${fix}`);
    }
    return new OnnxDetector(path, info, session);
  }

  /** Score a batch of images at the model's image size. */
  async score(b: OnnxImages): Promise<OnnxScores> {
    const session = this.session;
    if (!session) throw new Error(`${this.path}: score() called after dispose(); open the model again`);
    const [H, W] = this.info.imageSize;
    if (b.height !== H || b.width !== W) {
      throw new Error(`${this.path} takes ${H}x${W} images (height x width), got ${b.height}x${b.width}: resize and crop to the model's size first`);
    }
    if (b.images.length !== b.batch * H * W * 3) throw new Error(`${this.path}: ${b.images.length} values do not form [${b.batch}, ${H}, ${W}, 3]`);
    const pixels = b.images instanceof Uint8Array ? b.images : toUint8(b.images);
    const input = new ort.Tensor('uint8', pixels, [b.batch, H, W, 3]);
    const out = await session.run({ [ONNX_IO.image]: input });
    const f32 = (name: string) => {
      const t = out[name];
      if (!t) throw new Error(`${this.path}: the model has no output "${name}"; ${'export it again with rlr export --format onnx'}`);
      return t.data as Float32Array;
    };
    const label = out[ONNX_IO.label];
    const result: OnnxScores = {
      scores: Float32Array.from(f32(ONNX_IO.score)),
      maps: Float32Array.from(f32(ONNX_IO.map)),
      height: H,
      width: W,
      normalizedScores: Float32Array.from(f32(ONNX_IO.normalizedScore)),
      labels: label ? Uint8Array.from(label.data as Uint8Array, (v) => (v ? 1 : 0)) : null,
    };
    for (const t of Object.values(out)) t.dispose();
    input.dispose();
    return result;
  }

  /** Release the onnxruntime session. */
  async dispose(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    await s?.release();
  }
}
