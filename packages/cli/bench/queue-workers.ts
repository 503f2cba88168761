/**
 * Throughput of `rlr worker` on a real Redis: the same folder scored by 1, then 2 (then N) workers.
 *
 *   npx turbo run build --filter=@rlr/cli...
 *   npx tsx packages/cli/bench/queue-workers.ts [--images 300] [--workers 1,2] [--concurrency 4] [--image-size 128]
 *
 * Trains a demo-preset run (random calibrated EfficientNet-B3 weights, 1 epoch) on generated data,
 * writes `--images` generated PNGs, starts a throwaway redis-server, and for each worker count
 * starts that many `rlr worker`s, waits until they consume, and times `rlr submit` of the folder
 * (a fresh queue name each time, so nothing is reused). Prints images/s per worker count, and the
 * cores the workers got (their CPU seconds over the wall time), their CPU time per image, and how
 * much of the machine stayed idle meanwhile (near 0 %: the workers were short of cores, not of work).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { generateDataset } from '@rlr/data/node';
import { BIN, childEnv, runBin } from '../test/bin-helpers.js';
import { startRedis } from '../test/redis-server.js';

const { values } = parseArgs({ options: { images: { type: 'string', default: '300' }, workers: { type: 'string', default: '1,2' }, concurrency: { type: 'string', default: '4' }, 'image-size': { type: 'string', default: '128' } } });
const count = Number(values.images);
const size = Number(values['image-size']);
const fleet = values.workers.split(',').map(Number);

/** CPU seconds (user + system) a process has used so far, from /proc (Linux; 0 elsewhere). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}
const startCpu = new Map<number, number>();

/** Idle and total jiffies of the whole machine (Linux /proc/stat), to tell a starved run from a bottleneck. */
function machineTicks(): { idle: number; total: number } {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { idle: f[3] + f[4], total: f.reduce((a, b) => a + b, 0) };
  } catch {
    return { idle: 0, total: 0 };
  }
}

const root = await mkdtemp(join(tmpdir(), 'rlr-queue-bench-'));
const redis = await startRedis();
try {
  const data = join(root, 'data');
  const run = join(root, 'run');
  await generateDataset({ root: data, categories: ['grid'], trainCount: 8, testCount: 2, size, seed: 5 });
  const t = await runBin(['train', '--data', data, '--format', 'mvtec', '--preset', 'demo', '--weights', 'random', '--image-size', String(size), '--epochs', '1', '--workers', '1', '--out', run, '--quiet']);
  if (t.code !== 0) throw new Error(`training failed: ${t.stderr}`);
  const dir = join(root, 'images');
  await mkdir(dir);
  for (let i = 0; i < count; i++) {
    const px = Buffer.alloc(size * size * 3);
    for (let k = 0; k < px.length; k++) px[k] = (k * 7 + i * 13) & 255;
    await sharp(px, { raw: { width: size, height: size, channels: 3 } }).png().toFile(join(dir, `${String(i).padStart(5, '0')}.png`));
  }
  console.log(`${count} images of ${size}x${size}, demo preset, ${cpus().length} cores, concurrency ${values.concurrency} per worker`);
  console.log(`load average before: ${loadavg()[0].toFixed(1)}`);
  console.log('workers  seconds  images/s  speed-up  cores used  CPU ms/img  machine idle');
  let base = 0;
  for (const n of fleet) {
    const queueName = `bench-${n}-${Date.now()}`;
    const workers: ChildProcess[] = [];
    await Promise.all(
      Array.from({ length: n }, () => {
        const child = spawn(process.execPath, [BIN, 'worker', '--queue', redis.url, '--queue-name', queueName, '--model', run, '--concurrency', values.concurrency, '--threshold', '1', '--json'], { env: childEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
        workers.push(child);
        return new Promise<void>((ok) => child.stdout!.on('data', (d: Buffer) => /"event":"result"/.test(String(d)) && ok()));
      }),
    );
    startCpu.set(n, workers.reduce((sum, w) => sum + cpuSeconds(w.pid!), 0));
    const m0 = machineTicks();
    const t0 = performance.now();
    const r = await runBin(['submit', '--queue', redis.url, '--queue-name', queueName, dir, '--out', join(root, `p-${n}.jsonl`), '--quiet'], { timeoutMs: 3_600_000 });
    const s = (performance.now() - t0) / 1000;
    if (r.code !== 0) throw new Error(`submit failed: ${r.stderr}`);
    const cpu = workers.reduce((sum, w) => sum + cpuSeconds(w.pid!), 0) - (startCpu.get(n) ?? 0);
    const m1 = machineTicks();
    const idle = m1.total > m0.total ? (m1.idle - m0.idle) / (m1.total - m0.total) : NaN;
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => new Promise((ok) => (w.exitCode !== null ? ok(0) : w.once('close', ok)))));
    const rate = count / s;
    base ||= rate;
    console.log(`${String(n).padStart(7)}  ${s.toFixed(1).padStart(7)}  ${rate.toFixed(1).padStart(8)}  ${(rate / base).toFixed(2).padStart(8)}  ${(cpu / s).toFixed(2).padStart(10)}  ${((cpu / count) * 1000).toFixed(0).padStart(10)}  ${(idle * 100).toFixed(0).padStart(11)} %`);
  }
} finally {
  await redis.stop();
  await rm(root, { recursive: true, force: true });
}
