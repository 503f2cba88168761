import { readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, relative, resolve } from 'node:path';

/** Where downloaded backbone weights live: `--cache-dir`, else RLR_CACHE_DIR, else ~/.cache/rlr. */
export function weightCacheDir(flag: string | undefined, cwd: string): string {
  if (flag) return resolve(cwd, flag);
  if (process.env.RLR_CACHE_DIR) return resolve(cwd, process.env.RLR_CACHE_DIR);
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg ? resolve(xdg) : join(homedir(), '.cache'), 'rlr');
}

/** Whether downloads are forbidden (`--offline` or RLR_OFFLINE=1). */
export function isOffline(flag: unknown): boolean {
  return Boolean(flag) || /^(1|true|yes)$/i.test(process.env.RLR_OFFLINE ?? '');
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
