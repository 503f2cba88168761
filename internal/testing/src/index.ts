export { repoRoot, sharedDir, sharedPath, requireShared } from './shared.js';
export { TEST_BACKENDS, useBackend, type TestBackend } from './backends.js';
