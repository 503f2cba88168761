import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '@rlr/data/node';
import { binBuilt, jsonLines, spawnBin } from './bin-helpers.js';

/*
 * Ctrl-C / SIGTERM end everything a command started. Processes are found through /proc (Linux):
 * the direct children of every thread of a process, recursively.
 */
const hasProc = existsSync('/proc/self/task');

/** Whether `pid` is a live process (a zombie waiting to be reaped counts as ended). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Every descendant process of `pid`. */
function descendants(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    let kids: string;
    try {
      kids = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const k of kids.trim().split(/\s+/).filter(Boolean).map(Number)) out.push(k, ...descendants(k));
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` every 100 ms until it returns a value, or fail after `ms`. */
async function until<T>(fn: () => T | undefined, ms: number, what: string): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) {
    const v = fn();
    if (v !== undefined) return v;
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Exit code of `child` once it has closed; after `ms` it and its descendants are killed and the test fails. */
function closed(child: ChildProcess, ms = 20_000): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      for (const k of descendants(child.pid!)) process.kill(k, 'SIGKILL');
      child.kill('SIGKILL');
      reject(new Error(`pid ${child.pid} still running ${ms / 1000} s after the signal`));
    }, ms);
    child.on('close', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
}

/** A bench that would run for minutes: the demo preset, many iterations. */
const LONG_BENCH = ['bench', '--backends', 'wasm', '--presets', 'demo', '--iterations', '1000', '--warmup', '0', '--batch-size', '2', '--workers', '2'];

describe.skipIf(!binBuilt || !hasProc)('signals end every process a command started', () => {
  it.each([
    ['one SIGTERM', 1],
    ['two SIGTERMs', 2],
  ])('rlr bench: %s stop the measuring child process and exit 130', async (_, count) => {
    const child = spawnBin(LONG_BENCH);
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.resume();
    const pid = child.pid!;
    const kids = await until(() => {
      const d = descendants(pid);
      return d.length > 0 ? d : undefined;
    }, 30_000, 'the bench child process');
    await sleep(500); // let the child get going (backend, workers)
    const done = closed(child);
    for (let i = 0; i < count; i++) {
      child.kill('SIGTERM');
      await sleep(100);
    }
    const code = await done;
    expect(code, err.slice(-1500)).toBe(130);
    await until(() => (kids.every((k) => !alive(k)) ? true : undefined), 5_000, `processes ${kids.join(', ')} to end`);
  });

  describe('rlr train with 2 workers', () => {
    let data: string;
    let root: string;
    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'rlr-signals-'));
      data = join(root, 'data');
      await generateDataset({ root: data, categories: ['grid'], trainCount: 8, testCount: 2, size: 64, seed: 3 });
    });

    it('SIGTERM stops it after saving; no process or thread outlives it', async () => {
      const model = ['--preset', 'demo', '--weights', 'random', '--image-size', '64', '--out-indices', '1,2', '--hidden', '32,32', '--heads', '4', '--layers', '1', '--batch-size', '4'];
      const child = spawnBin(['train', '--data', data, '--format', 'mvtec', ...model, '--epochs', '500', '--workers', '2', '--out', join(root, 'run'), '--json']);
      const pid = child.pid!;
      let out = '';
      let err = '';
      child.stderr!.on('data', (d) => (err += d));
      child.stdout!.on('data', (d) => (out += d));
      await until(() => (jsonLines(out.slice(0, out.lastIndexOf('\n') + 1)).some((e) => e.event === 'epoch') ? true : undefined), 60_000, 'the first epoch');
      const threads = readdirSync(`/proc/${pid}/task`).length;
      expect(threads).toBeGreaterThan(2); // the worker threads run
      const kids = descendants(pid);
      const done = closed(child);
      child.kill('SIGTERM');
      const code = await done;
      expect(code, err.slice(-1500)).toBe(130);
      expect(alive(pid)).toBe(false);
      expect(kids.filter(alive)).toEqual([]);
    });
  });
});
