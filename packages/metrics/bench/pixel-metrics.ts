/**
 * Pixel-metric benchmark: seconds and peak RSS of pixel AUROC, AP, F1-max and AU-PRO (each on
 * its own, and all four from one sort) at 1e7 and 1e8 pixels.
 *
 *   npx tsx bench/pixel-metrics.ts            # both sizes (about 3 minutes on 2 cores)
 *   npx tsx bench/pixel-metrics.ts 1e7        # one size
 *
 * The set is MVTec-like: 256 x 256 maps, a third of the images anomalous with 1-3 elliptic
 * defects, float32 maps of noise raised inside the defects (tens of millions of distinct values
 * at 1e8 pixels: a hard case for a threshold sweep). Each measurement runs in a fresh child process so
 * that peak RSS belongs to it alone; RSS includes the inputs themselves (5 bytes per pixel).
 * Wall seconds depend on what else runs on the machine; CPU seconds (user + system) much less.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { auPro, auroc, averagePrecision, f1Max, pixelMetrics } from '../src/index.js';

const SIDE = 256;
const METRICS = ['auroc', 'ap', 'f1Max', 'aupro', 'all four'] as const;
type Metric = (typeof METRICS)[number];

/** xorshift32: deterministic and fast enough to make 1e8 values in about a second. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

function makeSet(pixels: number): { maps: Float32Array; masks: Uint8Array; images: number } {
  const hw = SIDE * SIDE;
  const images = Math.round(pixels / hw);
  const maps = new Float32Array(images * hw);
  const masks = new Uint8Array(images * hw);
  const rand = rng(3407);
  for (let b = 0; b < images; b++) {
    const base = b * hw;
    for (let p = 0; p < hw; p++) maps[base + p] = 0.8 * rand();
    if (b % 3 !== 0) continue;
    const defects = 1 + Math.floor(rand() * 3);
    for (let d = 0; d < defects; d++) {
      const cy = rand() * SIDE;
      const cx = rand() * SIDE;
      const ry = 3 + rand() * 25;
      const rx = 3 + rand() * 25;
      for (let y = Math.max(0, Math.floor(cy - ry)); y < Math.min(SIDE, cy + ry); y++) {
        for (let x = Math.max(0, Math.floor(cx - rx)); x < Math.min(SIDE, cx + rx); x++) {
          if (((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 > 1) continue;
          masks[base + y * SIDE + x] = 1;
          maps[base + y * SIDE + x] = 0.4 + 0.8 * rand();
        }
      }
    }
  }
  return { maps, masks, images };
}

function child(pixels: number, metric: Metric): void {
  const { maps, masks, images } = makeSet(pixels);
  const opts = { height: SIDE, width: SIDE };
  const rssBefore = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let value: number;
  switch (metric) {
    case 'auroc':
      value = auroc(masks, maps);
      break;
    case 'ap':
      value = averagePrecision(masks, maps);
      break;
    case 'f1Max':
      value = f1Max(masks, maps).f1;
      break;
    case 'aupro':
      value = auPro(maps, masks, opts);
      break;
    default:
      value = pixelMetrics(maps, masks, opts).aupro;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  // maxRSS is the peak of this process in KiB (data generation included, which is below it).
  const peak = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(JSON.stringify({ pixels: maps.length, images, metric, seconds, cpuSeconds, peak, rssBefore, value }));
}

function parent(sizes: number[]): void {
  const self = fileURLToPath(import.meta.url);
  const gib = (b: number): string => (b / 2 ** 30).toFixed(2);
  console.log(`node ${process.version}, ${SIDE}x${SIDE} maps, each row a fresh process`);
  console.log('wall s: elapsed; CPU s: user + system time of the process (what it costs on an idle machine)');
  console.log('pixels     metric     wall s   CPU s  peak RSS GiB  RSS with inputs GiB  value');
  for (const size of sizes) {
    for (const metric of METRICS) {
      const r = spawnSync(process.execPath, [...process.execArgv, self, '--child', String(size), metric], {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      });
      if (r.status !== 0) {
        console.error(r.stderr);
        throw new Error(`benchmark child for ${size} pixels / ${metric} failed with status ${r.status}`);
      }
      const m = JSON.parse(r.stdout) as {
        pixels: number;
        metric: string;
        seconds: number;
        cpuSeconds: number;
        peak: number;
        rssBefore: number;
        value: number;
      };
      console.log(
        `${m.pixels.toExponential(2).padEnd(10)} ${m.metric.padEnd(10)} ${m.seconds.toFixed(2).padStart(6)} ` +
          `${m.cpuSeconds.toFixed(2).padStart(7)}  ${gib(m.peak).padStart(12)}  ${gib(m.rssBefore).padStart(19)}  ${m.value.toFixed(6)}`,
      );
    }
  }
}

const args = process.argv.slice(2);
if (args[0] === '--child') child(Number(args[1]), args[2] as Metric);
else parent(args.length > 0 ? args.map(Number) : [1e7, 1e8]);
