/**
 * Faults: a NaN inside a trained run's weights. The score it would give is NaN or -Infinity,
 * which compares false with every threshold and so used to read as "normal" (exit 0). Now the
 * model refuses to load (checksum, then finiteness), and a NaN that only appears at scoring
 * (the backbone's weights) stops `rlr predict` / `rlr eval` with a model error, writing no label.
 */
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binBuilt, runBin } from '../bin-helpers.js';
import { poisonSafetensors, tinyDataset, trainTiny } from './integrity-helpers.js';

let root: string;
let data: string;
let run: string;
const testImage = () => join(data, 'grid', 'test');

/** A copy of the trained run to damage. */
async function copyRun(name: string): Promise<string> {
  const dir = join(root, name);
  await cp(run, dir, { recursive: true });
  // run.json names its own folder nowhere that predict needs; the copy is a run of its own.
  return dir;
}

describe.skipIf(!binBuilt)('integrity faults: non-finite weights and scores', () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rlr-integrity-weights-'));
    data = await tinyDataset(root);
    run = join(root, 'run');
    await trainTiny(data, run);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('the trained model records the sha256 of its weights', async () => {
    const cfg = JSON.parse(await readFile(join(run, 'model', 'config.json'), 'utf8'));
    expect(cfg.checksums['weights.safetensors']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('one NaN in model/weights.safetensors: predict exits 4 naming the file, writes no prediction', async () => {
    const dir = await copyRun('nan-model');
    const weights = join(dir, 'model', 'weights.safetensors');
    await poisonSafetensors(weights);
    const out = join(root, 'pred-nan-model');
    const r = await runBin(['predict', '--model', dir, '--out', out, '--workers', '1', testImage()]);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain(`${weights}: checksum mismatch`);
    expect(r.stderr).toMatch(/fix: .*retrain/);
    expect(r.stdout).not.toMatch(/normal|Infinity/);
    expect(existsSync(join(out, 'predictions.jsonl'))).toBe(false);
  });

  it('the same NaN in a model saved without checksums: refused by the finiteness check', async () => {
    const dir = await copyRun('nan-model-old');
    const weights = join(dir, 'model', 'weights.safetensors');
    const tensor = await poisonSafetensors(weights);
    const cfgPath = join(dir, 'model', 'config.json');
    const cfg = JSON.parse(await readFile(cfgPath, 'utf8'));
    delete cfg.checksums;
    await writeFile(cfgPath, JSON.stringify(cfg));
    const r = await runBin(['eval', '--model', dir, '--out', join(root, 'eval-nan'), '--workers', '1']);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain(`${weights}: tensor "${tensor}" holds 1 non-finite value (NaN at index 0)`);
    expect(existsSync(join(root, 'eval-nan', 'metrics.json'))).toBe(false);
  });

  it('a NaN in model/backbone.safetensors: predict and eval stop at the non-finite score with exit 4, no "normal"', async () => {
    const dir = await copyRun('nan-backbone');
    await poisonSafetensors(join(dir, 'model', 'backbone.safetensors'));
    const out = join(root, 'pred-nan-backbone');
    const r = await runBin(['predict', '--model', dir, '--out', out, '--json', '--workers', '1', testImage()]);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stdout + r.stderr).toMatch(/non-finite score \(NaN\/Infinity\)/);
    expect(r.stdout + r.stderr).toMatch(/restore the run folder from a backup or retrain it/);
    expect(r.stdout).not.toMatch(/"label":0/);
    expect(existsSync(join(out, 'predictions.jsonl'))).toBe(false);
    const e = await runBin(['eval', '--model', dir, '--out', join(root, 'eval-nan-backbone'), '--workers', '2']);
    expect(e.code, e.stderr).toBe(4);
    expect(e.stderr).toMatch(/non-finite score/);
  });
});
