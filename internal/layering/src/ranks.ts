/**
 * The place of every workspace package in the layering: a package may depend on (and import)
 * only packages of a strictly lower rank, never one of its own rank or above. A new package
 * must be added here deliberately; the layering test fails for any package it does not list.
 *
 * The library graph is cli → serve → engine → onnx → {backbones, data, metrics} → core, with
 * `@rlr/testing` (test helpers, tfjs only) below everything so any package's tests may use it.
 */
export const PACKAGE_RANKS: Readonly<Record<string, number>> = {
  '@rlr/testing': 0,
  '@rlr/core': 1,
  '@rlr/backbones': 2,
  '@rlr/data': 2,
  '@rlr/metrics': 2,
  '@rlr/onnx': 3,
  '@rlr/engine': 4,
  '@rlr/serve': 5,
  '@rlr/cli': 6,
  // Examples sit above the libraries; the service example reuses the train-eval example.
  '@rlr/example-node-train-eval': 7,
  '@rlr/example-browser': 8,
  '@rlr/example-custom-folder': 8,
  '@rlr/example-docs-check': 8,
  '@rlr/example-node-service': 8,
  '@rlr/example-paper-reproduction': 8,
  // Repository checks: they may look at every package, nothing imports them.
  '@rlr/release-check': 9,
  '@rlr/layering': 9,
};
