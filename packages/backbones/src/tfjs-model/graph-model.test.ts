/**
 * A tfjs graph model (converted GraphDef) as a backbone: a two-layer conv net written as a
 * model.json by hand, served through the model-files IOHandler, tapped at both ReLUs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@rlr/testing';
import { fetchModelFiles, modelFilesIOHandler, type ModelFiles } from './model-json-io.js';
import { TfjsModelBackbone, type TfjsModelDefinition } from './tfjs-model-backbone.js';
import { testImages } from '../../test/helpers.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const dims = (shape: number[]) => ({ dim: shape.map((d) => ({ size: String(d) })) });
const conv = (name: string, input: string, filter: string) => ({
  name,
  op: 'Conv2D',
  input: [input, filter],
  attr: {
    T: { type: 'DT_FLOAT' },
    strides: { list: { i: ['1', '2', '2', '1'] } },
    padding: { s: b64('SAME') },
    data_format: { s: b64('NHWC') },
    dilations: { list: { i: ['1', '1', '1', '1'] } },
  },
});
const constant = (name: string, shape: number[]) => ({
  name,
  op: 'Const',
  attr: { value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dims(shape) } }, dtype: { type: 'DT_FLOAT' } },
});

const W1 = Float32Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => Math.sin(i) * 0.3);
const W2 = Float32Array.from({ length: 3 * 3 * 4 * 8 }, (_, i) => Math.cos(i * 0.7) * 0.2);

/** model.json + one shard, in memory. */
function graphModelFiles(): ModelFiles {
  const modelJson = {
    format: 'graph-model',
    modelTopology: {
      node: [
        { name: 'images', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: dims([-1, -1, -1, 3]) } } },
        constant('w1', [3, 3, 3, 4]),
        constant('w2', [3, 3, 4, 8]),
        conv('conv1', 'images', 'w1'),
        { name: 'relu1', op: 'Relu', input: ['conv1'], attr: { T: { type: 'DT_FLOAT' } } },
        conv('conv2', 'relu1', 'w2'),
        { name: 'relu2', op: 'Relu', input: ['conv2'], attr: { T: { type: 'DT_FLOAT' } } },
      ],
      versions: { producer: 1 },
    },
    weightsManifest: [
      {
        paths: ['group1-shard1of1.bin'],
        weights: [
          { name: 'w1', shape: [3, 3, 3, 4], dtype: 'float32' },
          { name: 'w2', shape: [3, 3, 4, 8], dtype: 'float32' },
        ],
      },
    ],
  };
  const shard = new Float32Array([...W1, ...W2]).buffer;
  return {
    location: 'memory://tiny-graph/model.json',
    readModelJson: async () => JSON.stringify(modelJson),
    readShard: async (p) => {
      if (p !== 'group1-shard1of1.bin') throw new Error(`no shard ${p}`);
      return shard;
    },
  };
}

const definition: TfjsModelDefinition = {
  format: 'graph',
  taps: ['relu1', 'relu2'],
  reductions: [2, 4],
  channels: [4, 8],
  preprocessing: 'signed-unit',
};

describe('tfjs graph model with taps', () => {
  beforeAll(() => useBackend('wasm'));

  it('returns the tapped nodes, preprocessed with 2x − 1, equal to the same convs run directly', async () => {
    const net = await TfjsModelBackbone.load('tiny-graph', definition, modelFilesIOHandler(graphModelFiles()), { smooth: false });
    expect(net.featureInfo).toEqual({ channels: [4, 8], reductions: [2, 4] });
    const images = testImages(2, 30, 44);
    const [a, b] = net.extract(images);
    expect(a.shape).toEqual([2, 15, 22, 4]);
    expect(b.shape).toEqual([2, 8, 11, 8]);
    const [ra, rb] = tf.tidy(() => {
      const x = tf.sub(tf.mul(images, 2), 1) as tf.Tensor4D;
      const h1 = tf.relu(tf.conv2d(x, tf.tensor4d(W1, [3, 3, 3, 4]), 2, 'same'));
      const h2 = tf.relu(tf.conv2d(h1, tf.tensor4d(W2, [3, 3, 4, 8]), 2, 'same'));
      return [h1, h2];
    });
    expect(tf.max(tf.abs(tf.sub(a, ra))).dataSync()[0]).toBeLessThan(1e-5);
    expect(tf.max(tf.abs(tf.sub(b, rb))).dataSync()[0]).toBeLessThan(1e-5);
    expect(net.toConfig()).toMatchObject({ name: 'tiny-graph', format: 'graph', taps: ['relu1', 'relu2'] });
    tf.dispose([a, b, ra, rb, images]);
    net.dispose();
  });

  it('names a shard that cannot be read', async () => {
    const files = graphModelFiles();
    const broken: ModelFiles = { ...files, readShard: async () => Promise.reject(new Error('ENOENT')) };
    await expect(TfjsModelBackbone.load('tiny-graph', definition, modelFilesIOHandler(broken))).rejects.toThrow(
      /memory:\/\/tiny-graph\/model\.json: weight shard "group1-shard1of1\.bin" listed in model\.json could not be read \(ENOENT\)/,
    );
  });

  it('fetchModelFiles resolves shards relative to the model.json URL', async () => {
    const seen: string[] = [];
    const fakeFetch = (async (url: string) => {
      seen.push(String(url));
      return new Response(url.toString().endsWith('.json') ? '{}' : new ArrayBuffer(4));
    }) as unknown as typeof fetch;
    const files = fetchModelFiles('https://example.org/models/net/model.json', fakeFetch);
    await files.readModelJson();
    await files.readShard('group1-shard1of1.bin');
    expect(seen).toEqual(['https://example.org/models/net/model.json', 'https://example.org/models/net/group1-shard1of1.bin']);
  });
});
