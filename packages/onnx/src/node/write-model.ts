import { rename, writeFile, rm } from 'node:fs/promises';

/** Write `bytes` to `path` atomically (a temporary file beside it, then a rename). */
export async function writeOnnxModel(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
