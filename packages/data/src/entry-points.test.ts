import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

describe('package entry points', () => {
  it('the main entry bundles for the browser: no Node built-ins, no sharp, no fs', async () => {
    // esbuild fails on `node:` imports when bundling for the browser, so this also catches a
    // stray import of the Node-only half.
    const result = await build({
      entryPoints: [fileURLToPath(new URL('./index.ts', import.meta.url))],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((p) => p.includes('/node/'))).toBe(false);
    expect(inputs.some((p) => /sharp|bmp-ts|csv-parse/.test(p))).toBe(false);
    // Seeded random numbers come from @rlr/core's tfjs-free subpath, never its main entry.
    expect(inputs.some((p) => p.includes('tfjs'))).toBe(false);
  });

  it('the Node entry re-exports the main entry and adds the loaders', async () => {
    const main = await import('./index.js');
    const node = await import('./node/index.js');
    for (const name of Object.keys(main)) expect(node, name).toHaveProperty(name);
    for (const name of ['loadMvtec', 'loadVisa', 'loadFolder', 'readImage', 'readMask', 'batches', 'generateDataset', 'validateDataset']) {
      expect(typeof (node as Record<string, unknown>)[name], name).toBe('function');
    }
  });
});
