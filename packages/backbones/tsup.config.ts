import { defineConfig } from 'tsup';

export default defineConfig({
  // node/backbone-worker: the module worker threads import to rebuild a backbone (backboneRecipe).
  entry: { index: 'src/index.ts', 'node/index': 'src/node/index.ts', 'node/backbone-worker': 'src/node/backbone-worker.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // import.meta.url (backboneRecipe locates the worker module) in the CommonJS build too.
  shims: true,
});
