/**
 * Faults: an 18 MB-class 1-bit BMP of 12,000² (only its header and a few rows are written here).
 * The BMP path had no pixel limit and decoded it at 1.16 GB RSS; now every decoder refuses it
 * from its header, and the message says it is over the limit and how to raise it, not "corrupt".
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binBuilt, runBin } from '../bin-helpers.js';
import { tinyDataset, trainTiny } from './integrity-helpers.js';

let root: string;
let run: string;
let images: string;

/** A BMP file header + BITMAPINFOHEADER for 1 bit per pixel, a palette and 4 rows of data. */
function hugeBmpHead(width: number, height: number): Buffer {
  const rowBytes = Math.ceil(width / 32) * 4;
  const offset = 62;
  const b = Buffer.alloc(offset + 4 * rowBytes, 0xaa);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(offset + rowBytes * height, 2);
  b.writeUInt32LE(0, 6);
  b.writeUInt32LE(offset, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(width, 18);
  b.writeInt32LE(height, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(1, 28);
  b.writeUInt32LE(0, 30);
  b.writeUInt32LE(rowBytes * height, 34);
  b.fill(0, 38, 54);
  b.writeUInt32LE(2, 46);
  b.writeUInt32LE(0, 54);
  b.writeUInt32LE(0xffffff, 58);
  return b;
}

describe.skipIf(!binBuilt)('integrity faults: the decoder pixel limit', () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rlr-integrity-limits-'));
    const data = await tinyDataset(root);
    run = join(root, 'run');
    await trainTiny(data, run, ['--epochs', '1']);
    images = join(root, 'incoming');
    await mkdir(images);
    await writeFile(join(images, 'huge.bmp'), hugeBmpHead(12_000, 12_000));
    await copyFile(join(data, 'grid', 'test', 'good', '000.png'), join(images, 'ok.png'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('predict: the 12,000² BMP is refused as over the limit (with the setting), the other image is scored, exit 3', async () => {
    const out = join(root, 'pred');
    const r = await runBin(['predict', '--model', run, '--out', out, '--workers', '1', images]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(`${join(images, 'huge.bmp')}: is 12000 x 12000 = 144,000,000 pixels, over the limit of 100,000,000 pixels`);
    expect(r.stderr).not.toMatch(/corrupt or truncated/);
    const lines = (await readFile(join(out, 'predictions.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.find((l) => l.path.endsWith('huge.bmp'))).toMatchObject({ score: null, label: null, error: expect.stringMatching(/over the limit/) });
    expect(lines.find((l) => l.path.endsWith('ok.png')).score).toEqual(expect.any(Number));
  });

  it('RLR_MAX_IMAGE_PIXELS changes the limit for every format (here it refuses the 64² PNG too)', async () => {
    const out = join(root, 'pred-low');
    const r = await runBin(['predict', '--model', run, '--out', out, '--workers', '1', join(images, 'ok.png')], {
      env: { ...process.env, RLR_OFFLINE: '1', NO_COLOR: '1', RLR_MAX_IMAGE_PIXELS: '1000' },
    });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/ok\.png: is 64 x 64 = 4,096 pixels, over the limit of 1,000 pixels/);
    expect(existsSync(join(out, 'predictions.jsonl'))).toBe(true);
  });
});
