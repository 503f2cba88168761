/** `@rlr/onnx/node`: scoring with an exported model in onnxruntime-node (CPU), and writing it to disk. */
export { OnnxDetector, toUint8, type OnnxDetectorOptions, type OnnxImages, type OnnxScores } from './onnx-detector.js';
export { writeOnnxModel } from './write-model.js';
export { readOnnxMetadata, type OnnxModelInfo } from '../model-metadata.js';
