/**
 * `@rlr/core/internal`: building blocks that sibling @rlr packages need but users do not (the
 * ONNX export rebuilds the scoring and the model graph from them). Not a stable API: names here
 * may change in any release.
 */
export { gaussianKernel1D, reflectIndex } from './gaussian-blur.js';
export { readLevelValues } from './level-params.js';
