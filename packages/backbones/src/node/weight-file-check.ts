/**
 * Cheap format checks of weight files, run on a finished download before it enters the cache
 * (and on cached files before they are used): a truncated or garbage file is refused with a
 * reason instead of being kept as complete. They read the header only, never the tensor data.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';

/** What a weight file must parse as: inferred from its name unless given. */
export type WeightFormat = 'safetensors' | 'tfjs-model' | 'none';

/** The format a file name implies: `.safetensors`, `*.json` (a tfjs model.json), else none. */
export function formatFromName(name: string): WeightFormat {
  const base = basename(name.split('?')[0]).toLowerCase();
  if (base.endsWith('.safetensors')) return 'safetensors';
  if (base.endsWith('.json')) return 'tfjs-model';
  return 'none';
}

/** Largest safetensors header accepted (the format's own limit is 100 MB). */
const MAX_HEADER = 100 * 1024 * 1024;

/**
 * Why `path` is not a valid file of `format`, or undefined when it is. Safetensors: the header
 * length fits, the header is JSON and every tensor's data lies inside the file. tfjs: model.json is
 * a JSON object with `modelTopology` or `weightsManifest`.
 */
export async function weightFileProblem(path: string, format: WeightFormat): Promise<string | undefined> {
  if (format === 'none') return undefined;
  const size = (await stat(path)).size;
  if (format === 'tfjs-model') {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(path, 'utf8'));
    } catch (e) {
      return `it is not JSON (${(e as Error).message}), so not a tfjs model.json`;
    }
    const o = json as Record<string, unknown> | null;
    if (!o || typeof o !== 'object' || (!('modelTopology' in o) && !('weightsManifest' in o))) {
      return 'it is JSON but has neither "modelTopology" nor "weightsManifest", so not a tfjs model.json';
    }
    return undefined;
  }
  if (size < 8) return `it has ${size} bytes, too short for a safetensors file`;
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(8);
    await fh.read(head, 0, 8, 0);
    const headerLen = Number(head.readBigUInt64LE(0));
    if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > size) {
      return `its safetensors header length ${headerLen} does not fit in its ${size} bytes (truncated, or not a safetensors file)`;
    }
    const header = Buffer.alloc(headerLen);
    await fh.read(header, 0, headerLen, 8);
    let entries: Record<string, { data_offsets?: [number, number] }>;
    try {
      entries = JSON.parse(header.toString('utf8')) as typeof entries;
    } catch {
      return 'its safetensors header is not valid JSON (corrupt, or not a safetensors file)';
    }
    let end = 0;
    for (const [name, e] of Object.entries(entries ?? {})) {
      if (name === '__metadata__') continue;
      const off = e?.data_offsets;
      if (!Array.isArray(off) || off.length !== 2) return `its safetensors header entry "${name}" has no data_offsets`;
      end = Math.max(end, Number(off[1]));
    }
    const needed = 8 + headerLen + end;
    if (needed > size) return `its tensors need ${needed} bytes but the file has ${size} (truncated)`;
    return undefined;
  } finally {
    await fh.close();
  }
}
