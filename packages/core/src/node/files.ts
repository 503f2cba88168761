/**
 * `@rlr/core/files`: the atomic file write and the directory blob store, without the worker pool
 * (and so without tfjs), for packages that write files but must not load tfjs (`@rlr/data/node`).
 * `@rlr/core/node` exports the same two.
 */
export { writeFileAtomic } from './atomic-write.js';
export { fileStore } from './file-store.js';
