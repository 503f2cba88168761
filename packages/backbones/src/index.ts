/**
 * `@rlr/backbones`: frozen multi-scale feature extractors for TensorFlow.js (browser-safe entry).
 * - EfficientNet B0–B7 with timm `tf_efficientnet_*` semantics, loading timm safetensors weights;
 * - any tfjs layers/graph model with named taps (MobileNetV1 built in);
 * - the 3x3 feature smoothing of RLR and the backbones' preprocessing.
 * Node-only parts (disk cache, local files) are in `@rlr/backbones/node`.
 */
export {
  createBackbone,
  backboneFeatureInfo,
  listBackbones,
  getBackboneEntry,
  registerTfjsBackbone,
  fetchSourceReader,
  type BackboneEntry,
  type BackboneWeights,
  type CreateBackboneOptions,
  type SourceReader,
} from './registry.js';
export {
  EfficientNetExtractor,
  efficientNetFeatureInfo,
  DEFAULT_OUT_INDICES,
  type EfficientNetOptions,
} from './efficientnet/efficientnet.js';
export {
  efficientNetArchitecture,
  makeDivisible,
  roundChannels,
  scaleDepth,
  EFFICIENTNET_NAMES,
  EFFICIENTNET_SCALING,
  TF_BN_EPS,
  type BlockKind,
  type BlockSpec,
  type EfficientNetArchitecture,
  type EfficientNetName,
  type FeatureStage,
} from './efficientnet/efficientnet-variants.js';
export { efficientNetParamShapes, blockConvs, stemConv, type ConvBnSpec, type ParamScope } from './efficientnet/efficientnet-params.js';
export {
  foldEfficientNetWeights,
  type FoldedConv,
  type FoldedEfficientNetWeights,
  type FoldedSqueezeExcite,
} from './efficientnet/efficientnet-weights.js';
export { randomEfficientNetWeights, type RandomWeightsOptions } from './efficientnet/efficientnet-random-init.js';
export {
  calibrateBatchNorm,
  type BatchNormCalibration,
  type BatchNormCalibrationOptions,
  type BatchNormLayerStats,
} from './efficientnet/bn-calibration.js';
export {
  TfjsModelBackbone,
  loadTfjsModelBackbone,
  tfjsModelFeatureInfo,
  type TfjsModelBackboneOptions,
  type TfjsModelDefinition,
} from './tfjs-model/tfjs-model-backbone.js';
export { mobileNetV1Definition, mobileNetV1Url, MOBILENET_V1_TAPS, type MobileNetV1Alpha } from './tfjs-model/mobilenet-v1.js';
export { modelFilesIOHandler, fetchModelFiles, type ModelFiles } from './tfjs-model/model-json-io.js';
export { freeSpatialInputSize, withFreeInputSize } from './tfjs-model/free-input-size.js';
export { smoothFeatures } from './feature-smoothing.js';
export {
  imagenetNormalize,
  signedUnitRange,
  preprocess,
  IMAGENET_MEAN,
  IMAGENET_STD,
  type Preprocessing,
} from './preprocessing.js';
export {
  fetchBytes,
  parseHubId,
  resolveSourceUrl,
  isRemoteSource,
  type DownloadProgress,
  type FetchBytesOptions,
  type HubFile,
} from './weight-source.js';
export type { TensorMap } from './weights/checkpoint-tensors.js';
export {
  exportBackboneWeights,
  saveBackboneWeights,
  loadBackboneFromStore,
  isRebuildableFromConfig,
  BACKBONE_WEIGHTS,
  type LoadBackboneOptions,
  type SaveBackboneOptions,
  type SavedBackboneConfig,
} from './backbone-persistence.js';
