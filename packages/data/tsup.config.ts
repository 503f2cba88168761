import { defineConfig } from 'tsup';

export default defineConfig({
  // Two entry points: the browser-safe main entry and the Node-only `@rlr/data/node`.
  entry: { index: 'src/index.ts', 'node/index': 'src/node/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
