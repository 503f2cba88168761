import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateMetricsReport, type MetricsReport } from '@rlr/cli';
import { auroc } from '@rlr/metrics';
import { makeParts, type PartsLayout } from '../src/make-parts.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = resolve(here, '../../../packages/cli/dist/bin.js');
const run = promisify(execFile);

/** `rlr <args>` as a user runs it, in `cwd`; returns stdout. */
async function rlr(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [cli, ...args], { cwd, env: { ...process.env, RLR_OFFLINE: '1', NO_COLOR: '1' } });
  return stdout;
}

describe('custom-folder: the README steps with the committed parts.yaml, reduced (96 px, 3 epochs)', () => {
  let dir: string;
  let layout: PartsLayout;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rlr-custom-folder-'));
    layout = await makeParts({ out: dir, good: 16, defects: 4, incoming: 6, size: 96 });
    await copyFile(join(here, '..', 'parts.yaml'), join(dir, 'parts.yaml'));
    await rlr(dir, 'train', '--config', 'parts.yaml', '--image-size', '96', '--epochs', '3', '--out', 'runs/parts');
    await rlr(dir, 'eval', '--model', 'runs/parts');
    await rlr(dir, 'predict', '--model', 'runs/parts', 'incoming', '--out', 'predictions');
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lays out good images, labelled defects with same-stem masks, and new images', async () => {
    expect((await readdir(layout.good)).length).toBe(16);
    const defects = (await readdir(layout.defect)).sort();
    expect(defects).toHaveLength(4);
    expect((await readdir(layout.masks)).sort()).toEqual(defects);
    expect(Object.values(layout.truth).filter((l) => l === 1).length).toBe(3);
  });

  it('trains one model for the folder and saves it', async () => {
    const config = JSON.parse(await readFile(join(dir, 'runs/parts/model/config.json'), 'utf8'));
    expect(config.format).toBe('rlr-model');
    expect(config.spec.imageSize).toEqual([96, 96]);
  });

  it('evaluates on held-out good images and the labelled defects, with pixel metrics from the masks', async () => {
    const report = JSON.parse(await readFile(join(dir, 'runs/parts/report/metrics.json'), 'utf8')) as MetricsReport;
    expect(validateMetricsReport(report)).toEqual([]);
    expect(Object.keys(report.categories)).toEqual(['parts']);
    const parts = report.categories.parts;
    expect(parts.counts.anomalous).toBe(4);
    expect(parts.counts.normal).toBe(Math.round(0.2 * 16));
    expect(parts.pixel).not.toBeNull();
  });

  it('predicts the new images: a score and a label each, an overlay each, defects ranked above good parts', async () => {
    const lines = (await readFile(join(dir, 'predictions/predictions.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(6);
    const files = await readdir(join(dir, 'predictions'));
    const names = lines.map((p: { path: string }) => p.path.split('/').pop()!);
    for (const n of names) expect(files).toContain(n.replace(/\.png$/, '_overlay.png'));
    const scores = lines.map((p: { score: number }) => p.score);
    const truth = names.map((n: string) => layout.truth[n]);
    expect(auroc(truth, scores)).toBeGreaterThan(0.5);
  });
});
