import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { listFiles } from '../../src/owned-folder.js';
import type { BinResult } from '../bin-helpers.js';

/** The smallest model the CLI trains (64 px, one layer, width 32, random calibrated backbone). */
export const TINY = ['--preset', 'demo', '--weights', 'random', '--image-size', '64', '--out-indices', '1,2', '--hidden', '32,32', '--heads', '4', '--layers', '1', '--batch-size', '4', '--workers', '1'];

/** A fresh temporary folder. */
export function tempFolder(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `rlr-fault-${prefix}-`));
}

/** Every file under `dir` with the sha256 of its bytes: compare two to prove nothing changed. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await listFiles(dir)) out[f] = createHash('sha256').update(await readFile(join(dir, f))).digest('hex');
  // listFiles leaves out rlr's marker; a user folder has none, so this is every file.
  return out;
}

/** The `error:` and `fix:` lines of a failed run (human output), asserted to be there. */
export function errorLines(r: BinResult, code: number): { error: string; fix: string } {
  expect(r.code, r.stderr.slice(-1500)).toBe(code);
  const lines = r.stderr.trim().split('\n');
  const at = lines.findIndex((l) => l.startsWith('error: '));
  expect(at, r.stderr).toBeGreaterThanOrEqual(0);
  expect(lines[at + 1], r.stderr).toMatch(/^ {2}fix: /);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(r.stderr).not.toMatch(/looks like a bug/);
  return { error: lines[at], fix: lines[at + 1] };
}
