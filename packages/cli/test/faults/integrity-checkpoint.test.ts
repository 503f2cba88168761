/**
 * Faults: a damaged trainer checkpoint. 1,000 bytes flipped inside the newest checkpoint's tensor
 * data used to resume silently (and train on from garbage). Now its sha256 does not match the
 * index, `--resume` warns naming the file and continues from the previous checkpoint; with both
 * damaged it stops with a model error naming the files and the fix.
 */
import { readFile, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binBuilt, jsonLines, runBin } from '../bin-helpers.js';
import { tinyDataset, trainTiny } from './integrity-helpers.js';

let root: string;
let data: string;

/** Flip `count` bytes in the last part of a file's data (inside the tensors, not the header). */
async function flipBytes(path: string, count: number): Promise<void> {
  const bytes = new Uint8Array(await readFile(path));
  for (let i = bytes.length - count - 16; i < bytes.length - 16; i++) bytes[i] ^= 0x5a;
  await writeFile(path, bytes);
}

describe.skipIf(!binBuilt)('integrity faults: damaged checkpoints', () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rlr-integrity-ckpt-'));
    data = await tinyDataset(root);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('1,000 bytes flipped in the newest checkpoint: --resume warns, names the file, continues from the previous one', async () => {
    const run = join(root, 'run');
    await trainTiny(data, run, ['--checkpoint-every', '1']);
    const ckptDir = join(run, 'checkpoint');
    const index = JSON.parse(await readFile(join(ckptDir, 'checkpoint.json'), 'utf8'));
    expect(index.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(index.previous).toMatchObject({ epoch: 1, batch: 0, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    await flipBytes(join(ckptDir, index.tensors), 1000);

    const r = await runBin(['train', '--epochs', '3', '--workers', '1', '--out', run, '--resume', '--json']);
    expect(r.code, r.stderr.slice(-1500)).toBe(0);
    const events = jsonLines(r.stdout);
    const warnings = events.filter((e) => e.event === 'warning').map((e) => String(e.message));
    expect(warnings.some((w) => w.includes(`${join(ckptDir, index.tensors)} is damaged (checksum mismatch`) && w.includes(`previous checkpoint ${index.previous.tensors} (epoch 1`))).toBe(true);
    expect(events.find((e) => e.event === 'resume')).toMatchObject({ epoch: 1, batch: 0 });
    // Epochs 2 and 3 were trained again from the intact checkpoint.
    expect(events.filter((e) => e.event === 'epoch').map((e) => e.epoch)).toEqual([2, 3]);
  });

  it('both checkpoints damaged: exit 4, both files named, the fix says how to start over', async () => {
    const run = join(root, 'run2');
    await trainTiny(data, run, ['--checkpoint-every', '1']);
    const ckptDir = join(run, 'checkpoint');
    const index = JSON.parse(await readFile(join(ckptDir, 'checkpoint.json'), 'utf8'));
    await flipBytes(join(ckptDir, index.tensors), 1000);
    await flipBytes(join(ckptDir, index.previous.tensors), 10);
    const r = await runBin(['train', '--epochs', '3', '--workers', '1', '--out', run, '--resume']);
    expect(r.code, r.stderr.slice(-1500)).toBe(4);
    expect(r.stderr).toContain(`${join(ckptDir, index.tensors)}: checksum mismatch`);
    expect(r.stderr).toContain(`${join(ckptDir, index.previous.tensors)}: checksum mismatch`);
    expect(r.stderr).toContain(`fix: delete ${ckptDir} and rerun the same rlr train command with --resume`);
  });
});
