export {
  parseSafetensors,
  serializeSafetensors,
  float16ToFloat32,
  float32ToFloat16,
  type NamedTensor,
  type SafetensorsDtype,
  type SafetensorsFile,
  type TensorToWrite,
} from './safetensors.js';
export { memoryStore, urlStore, type BlobStore } from './blob-store.js';
export type { FeatureExtractor, FeatureInfo } from './feature-extractor.js';
