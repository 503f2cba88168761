import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { cachePathFor, DEFAULT_DOWNLOAD_TIMEOUT_MS, defaultCacheDir, getBackboneEntry, isRemoteSource, offlineFromEnv } from '@rlr/backbones/node';
import { usageError } from './errors.js';

/** The weight cache folder: `--cache-dir`, else the backbones package's default (RLR_CACHE, XDG, ~/.cache/rlr). */
export function weightCacheDir(flag: string | undefined, cwd: string): string {
  return flag ? resolve(cwd, flag) : defaultCacheDir();
}

/** Whether downloads are forbidden (`--offline` or RLR_OFFLINE=1). */
export function isOffline(flag: unknown): boolean {
  return Boolean(flag) || offlineFromEnv();
}

/** Whether a backbone's published default weights are already in the cache. */
export function defaultWeightsCached(backbone: string, cacheDir: string): boolean {
  const source = getBackboneEntry(backbone).defaultWeights;
  return isRemoteSource(source) ? existsSync(cachePathFor(source, cacheDir)) : existsSync(source);
}

/** Files in the cache folder (recursively), with sizes; empty when the folder does not exist. */
export async function listWeightCache(dir: string): Promise<{ name: string; bytes: number }[]> {
  const out: { name: string; bytes: number }[] = [];
  async function walk(d: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && !e.name.startsWith('.')) out.push({ name: relative(dir, p), bytes: (await stat(p)).size });
    }
  }
  await walk(dir);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * `--download-timeout <s>` in milliseconds (default 30 s): how long a weights download waits for
 * the server to answer, or to send more bytes, before it gives up on the attempt.
 */
export function parseDownloadTimeout(value: unknown): number {
  if (value === undefined) return DEFAULT_DOWNLOAD_TIMEOUT_MS;
  const s = Number(value);
  if (!Number.isFinite(s) || s <= 0 || s > 86_400) {
    throw usageError(`--download-timeout must be a number of seconds between 0 and 86400, got ${JSON.stringify(value)}`, 'e.g. --download-timeout 120 for a slow connection');
  }
  return Math.round(s * 1000);
}
