import { PixelMetricsAccumulator } from '../src/pixel-metrics.js';
const N = +process.argv[2]; const hw = 65536; const B = Math.round(N / hw);
const maps = new Float32Array(B * hw); const masks = new Uint8Array(B * hw);
let s = 1; const r = () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return (s >>> 0) / 4294967296; };
for (let i = 0; i < maps.length; i++) { maps[i] = r(); masks[i] = (i % hw) < 3000 && (i / hw | 0) % 3 === 0 ? 1 : 0; }
const c0 = process.cpuUsage();
let t = performance.now();
let cc = process.cpuUsage();
const cpu = () => { const d = process.cpuUsage(cc); cc = process.cpuUsage(); return ` cpu ${((d.user + d.system) / 1e6).toFixed(2)}`; };
const acc = new PixelMetricsAccumulator({ height: 256, width: 256 });
acc.add(maps, masks);
console.log('add', ((performance.now() - t) / 1000).toFixed(2), cpu()); t = performance.now();
(acc as any).sort();
console.log('sort', ((performance.now() - t) / 1000).toFixed(2), cpu()); t = performance.now();
const m = acc.compute();
console.log('sweep all', ((performance.now() - t) / 1000).toFixed(2), cpu(), m.auroc);
const c = process.cpuUsage(c0);
console.log('cpu user/sys', (c.user / 1e6).toFixed(2), (c.system / 1e6).toFixed(2));
console.log('maxRSS GiB', (process.resourceUsage().maxRSS / 2 ** 20).toFixed(2));
