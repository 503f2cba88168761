import type { Command } from 'commander';
import { probeBackends, initBackend } from '../backend.js';
import type { CommandContext } from '../context.js';
import { formatTable } from '../format.js';
import { listWeightCache, weightCacheDir } from '../weight-cache.js';
import { packageVersion } from '../version.js';

const PACKAGES = ['@rlr/cli', '@rlr/core', '@rlr/backbones', '@rlr/data', '@rlr/metrics', '@rlr/onnx', 'onnxruntime-node', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-node', 'sharp'];

/** `rlr info`: versions, backends available and in use, weight cache contents. */
export async function run(opts: Record<string, unknown>, ctx: CommandContext, _cmd: Command): Promise<void> {
  const versions = Object.fromEntries(PACKAGES.map((p) => [p, packageVersion(p) ?? null]));
  const backends = await probeBackends();
  const inUse = await initBackend('auto');
  const cacheDir = weightCacheDir(opts.cacheDir as string | undefined, ctx.cwd);
  const cache = await listWeightCache(cacheDir);
  const data = {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    versions,
    backends: backends.map((b) => ({ name: b.name, available: b.available, reason: b.reason ?? null })),
    backend_in_use: inUse,
    cache: { dir: cacheDir, entries: cache },
  };
  const text = [
    `rlr ${versions['@rlr/cli']}  (node ${process.version}, ${data.platform})`,
    '',
    formatTable(
      ['package', 'version'],
      PACKAGES.map((p) => [p, versions[p] ?? 'not installed']),
    ),
    '',
    formatTable(
      ['backend', 'status'],
      backends.map((b) => [b.name, b.available ? (b.name === inUse ? 'available, default' : 'available') : `unavailable: ${b.reason}`]),
    ),
    '',
    `weight cache: ${cacheDir}`,
    cache.length === 0 ? '  (empty)' : formatTable(['file', 'MB'], cache.map((c) => [c.name, (c.bytes / 1e6).toFixed(1)])),
  ].join('\n');
  ctx.log.result(text, data);
}
