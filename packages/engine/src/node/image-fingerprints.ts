import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';

/**
 * What identifies an image's content for the feature cache: its path, size, modification time and
 * the sha256 of its bytes. A file replaced in place (even with the same size and time) gets
 * another fingerprint, so its cached features are not reused.
 */
export interface ImageFingerprint {
  path: string;
  size: number;
  mtimeMs: number;
  sha256: string;
}

/** Fingerprints of `paths`, in order (a few files read at a time). */
export async function fingerprintImages(paths: string[], concurrency = 4): Promise<ImageFingerprint[]> {
  const out = new Array<ImageFingerprint>(paths.length);
  let next = 0;
  async function worker(): Promise<void> {
    for (let i = next++; i < paths.length; i = next++) {
      const path = paths[i];
      const [st, bytes] = await Promise.all([stat(path), readFile(path)]);
      out[i] = { path, size: st.size, mtimeMs: Math.floor(st.mtimeMs), sha256: createHash('sha256').update(bytes).digest('hex') };
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, paths.length) }, worker));
  return out;
}

/**
 * How `current` differs from the fingerprints a cache was made with: `undefined` when they are the
 * same images, else a short description naming the first changed file.
 */
export function fingerprintChange(cached: unknown, current: ImageFingerprint[]): string | undefined {
  if (!Array.isArray(cached)) return 'it was made without content fingerprints of its images';
  if (cached.length !== current.length) return `it holds ${cached.length} images, this run has ${current.length}`;
  const changed = current.filter((f, i) => {
    const c = cached[i] as Partial<ImageFingerprint> | undefined;
    return !c || c.path !== f.path || c.size !== f.size || c.mtimeMs !== f.mtimeMs || c.sha256 !== f.sha256;
  });
  if (changed.length === 0) return undefined;
  return `${changed.length} of ${current.length} training images changed since it was made (e.g. ${changed[0].path})`;
}
