export { repoRoot, sharedDir, sharedPath, requireShared } from './shared.js';
export { TEST_BACKENDS, useBackend, type TestBackend } from './backends.js';
export { writeStoredZip, writeTorchPth, type PthOptions, type PthTensor } from './torch-pth-writer.js';
