import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfigObject } from './config-file.js';
import { CliError } from './errors.js';
import { ExitCode } from './exit-codes.js';

describe('config files', () => {
  it('reads YAML with sections, any key case, and paths relative to the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rlr-cfg-'));
    const file = join(dir, 'run.yaml');
    await writeFile(file, 'data: ./parts\nformat: folder\nnormal_dir: parts/good\ntrain:\n  epochs: 40\n  batch-size: 8\nmodel:\n  hidden: [64, 128]\n  imageSize: 256x640\n');
    const s = await loadConfigFile(file);
    expect(s.data).toBe(join(dir, 'parts'));
    expect(s.normalDir).toBe(join(dir, 'parts', 'good'));
    expect(s.format).toBe('folder');
    expect(s.epochs).toBe(40);
    expect(s.batchSize).toBe(8);
    expect(s.hidden).toEqual([64, 128]);
    expect(s.imageSize).toEqual([256, 640]);
  });

  it('takes model: knn (a value) as the model kind and model: {…} as the model section', () => {
    expect(parseConfigObject({ model: 'knn', coreset: 0.25 }, '/x/run.yaml')).toEqual({ modelKind: 'knn', coreset: 0.25 });
    expect(parseConfigObject({ model: { image_size: 128, coreset: 0.5 } }, '/x/run.yaml')).toEqual({ imageSize: [128, 128], coreset: 0.5 });
    expect(() => parseConfigObject({ model: 'patchcore' }, '/x/run.yaml')).toThrow(/model: "patchcore" is not a model/);
  });

  it('reads JSON the same way', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rlr-cfg-'));
    const file = join(dir, 'run.json');
    await writeFile(file, JSON.stringify({ data: { root: '/abs/mvtec', format: 'mvtec', categories: 'bottle, screw' }, 'out-indices': '1,2,3' }));
    const s = await loadConfigFile(file);
    expect(s).toMatchObject({ data: '/abs/mvtec', format: 'mvtec', categories: ['bottle', 'screw'], outIndices: [1, 2, 3] });
  });

  it('rejects unknown keys and bad values with a usage error naming the key', () => {
    const f = '/x/cfg.yaml';
    const unknown = (() => {
      try {
        parseConfigObject({ epoch: 3 }, f);
      } catch (e) {
        return e as CliError;
      }
    })();
    expect(unknown).toBeInstanceOf(CliError);
    expect(unknown?.exitCode).toBe(ExitCode.usage);
    expect(unknown?.message).toContain('"epoch"');
    expect(() => parseConfigObject({ format: 'coco' }, f)).toThrow(/format/);
    expect(() => parseConfigObject({ epochs: 'many' }, f)).toThrow(/epochs/);
    expect(() => parseConfigObject({ imageSize: '12' }, f)).toThrow(/too small/);
  });

  it('reports invalid YAML and missing files as usage errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rlr-cfg-'));
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'epochs: [1, 2\n');
    await expect(loadConfigFile(bad)).rejects.toMatchObject({ exitCode: ExitCode.usage });
    await expect(loadConfigFile(join(dir, 'missing.yaml'))).rejects.toThrow(/cannot read config file/);
  });
});
