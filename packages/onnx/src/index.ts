/**
 * `@rlr/onnx`: export a trained detector (backbone + RLR or nearest-neighbour model + scoring +
 * post-processing) as one ONNX model. Browser-safe; the onnxruntime scorer is in `@rlr/onnx/node`.
 */
export { exportDetector, ONNX_IO, METADATA_KEYS, ONNX_EXPORT_FORMAT, type DetectorModel, type ExportOptions, type PostProcessing } from './export-detector.js';
export { readOnnxMetadata, type OnnxModelInfo } from './model-metadata.js';
export { bilinearMatrix, gaussianMatrix } from './scoring-graph.js';
export { GraphBuilder, type AttributeValue, type Dim, type ValueInfo } from './graph-builder.js';
export { ONNX_IR_VERSION, ONNX_OPSET } from './onnx-schema.js';
