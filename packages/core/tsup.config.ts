import { rmSync } from 'node:fs';
import { defineConfig } from 'tsup';

// The two builds below write into dist/ at the same time, so the folder is emptied once here
// rather than by either build's `clean` (which could delete the other's files).
rmSync(new URL('./dist', import.meta.url), { recursive: true, force: true });

export default defineConfig([
  {
    // ESM: the browser-safe main entry, the Node entry (worker pool), the tfjs-free seeded
    // random numbers `@rlr/core/rng` and file writes `@rlr/core/files` (for @rlr/data, which must
    // not load tfjs), the building blocks sibling packages share `@rlr/core/internal`, and the worker thread's
    // script. One build, so they share chunks: the worker runs the same module instances'
    // code as the main entry, and `new URL('./rlr-worker.js', import.meta.url)` finds it.
    entry: { index: 'src/index.ts', node: 'src/node/index.ts', rng: 'src/rng.ts', files: 'src/node/files.ts', internal: 'src/internal.ts', 'rlr-worker': 'src/node/rlr-worker.ts' },
    format: ['esm'],
    dts: { entry: { index: 'src/index.ts', node: 'src/node/index.ts', rng: 'src/rng.ts', files: 'src/node/files.ts', internal: 'src/internal.ts' } },
    sourcemap: true,
    clean: false,
    target: 'es2022',
  },
  {
    // CommonJS: the main entry, the two tfjs-free subpaths and the internal one (the Node entry and
    // its worker are ESM).
    entry: { index: 'src/index.ts', rng: 'src/rng.ts', files: 'src/node/files.ts', internal: 'src/internal.ts' },
    format: ['cjs'],
    dts: true,
    sourcemap: true,
    clean: false,
    target: 'es2022',
  },
]);
