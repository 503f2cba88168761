import { rmSync } from 'node:fs';
import { defineConfig } from 'tsup';

// Both builds write into dist/ at the same time: empty it once here, not by either build's `clean`.
rmSync(new URL('./dist', import.meta.url), { recursive: true, force: true });

export default defineConfig([
  {
    // ESM: the browser-safe main entry and the Node-only `@rlr/engine/node` (files, workers, sharp).
    entry: { index: 'src/index.ts', node: 'src/node/index.ts' },
    format: ['esm'],
    dts: true,
    sourcemap: true,
    clean: false,
    target: 'es2022',
  },
  {
    // CommonJS: the main entry only (`@rlr/core/node`, which the Node entry uses, is ESM).
    entry: { index: 'src/index.ts' },
    format: ['cjs'],
    dts: true,
    sourcemap: true,
    clean: false,
    target: 'es2022',
  },
]);
