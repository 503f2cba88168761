/** Reading an exported model's metadata back (the `metadata_props` of its `ModelProto`). */
import { modelProtoType } from './onnx-schema.js';
import { METADATA_KEYS } from './export-detector.js';

/** What {@link readOnnxMetadata} finds. */
export interface OnnxModelInfo {
  metadata: Record<string, string>;
  /** `[H, W]` the model takes. */
  imageSize: [number, number];
  /** The threshold stored in the model, if any. */
  threshold: number | null;
  inputs: string[];
  outputs: string[];
}

interface DecodedModel {
  metadataProps?: { key?: string; value?: string }[];
  graph?: { input?: { name?: string }[]; output?: { name?: string }[] };
}

/**
 * Decode the metadata of an exported model.
 * @param where names the file in errors
 * @throws when the bytes are not an ONNX model written by @rlr/onnx (corrupt, truncated, other)
 */
export function readOnnxMetadata(bytes: Uint8Array, where: string): OnnxModelInfo {
  let decoded: DecodedModel;
  try {
    decoded = modelProtoType().decode(bytes) as unknown as DecodedModel;
  } catch (e) {
    throw new Error(`${where} is not a readable ONNX model (${(e as Error).message}); the file is truncated or corrupt`);
  }
  const metadata: Record<string, string> = {};
  for (const p of decoded.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? '';
  const inputs = (decoded.graph?.input ?? []).map((v) => v.name ?? '');
  const outputs = (decoded.graph?.output ?? []).map((v) => v.name ?? '');
  if (!metadata[METADATA_KEYS.format] || !decoded.graph) {
    throw new Error(`${where} is not an RLR detector exported by rlr export (no ${METADATA_KEYS.format} metadata or no graph); the file is truncated, corrupt or from another tool`);
  }
  let imageSize: [number, number];
  try {
    const s = JSON.parse(metadata[METADATA_KEYS.imageSize] ?? '') as unknown;
    if (!Array.isArray(s) || s.length !== 2 || !s.every((x) => Number.isInteger(x))) throw new Error('not [H, W]');
    imageSize = [s[0] as number, s[1] as number];
  } catch {
    throw new Error(`${where}: metadata ${METADATA_KEYS.imageSize} is missing or invalid; the file is corrupt`);
  }
  const t = metadata[METADATA_KEYS.threshold];
  const threshold = t === undefined || t === 'none' ? null : Number(t);
  return { metadata, imageSize, threshold: Number.isFinite(threshold) ? threshold : null, inputs, outputs };
}
