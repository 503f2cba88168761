import { readFile, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, resolve, sep } from 'node:path';
import type { BlobStore } from '../blob-store.js';
import { writeFileAtomic } from './atomic-write.js';

/**
 * A blob store over a directory: blob `a/b.bin` is the file `<dir>/a/b.bin`. Writes are atomic
 * (temporary file, then rename) and create folders; names may not leave the directory.
 */
export function fileStore(dir: string): Required<BlobStore> {
  const location = resolve(dir);
  const pathOf = (name: string) => {
    const rel = normalize(name);
    if (!name || isAbsolute(name) || rel === '..' || rel.startsWith(`..${sep}`)) {
      throw new Error(`${location}: blob name "${name}" must be a relative path inside the store; pass a name such as "weights.safetensors"`);
    }
    return join(location, rel);
  };
  return {
    location,
    async read(name) {
      const path = pathOf(name);
      try {
        const buf = await readFile(path);
        return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new Error(code === 'ENOENT' ? `${path}: no such blob in ${location}; save it first or check the directory` : `${path}: could not be read (${(e as Error).message})`);
      }
    },
    async write(name, bytes) {
      await writeFileAtomic(pathOf(name), bytes);
    },
    async exists(name) {
      const path = pathOf(name); // a name outside the store is an error, not "absent"
      try {
        return (await stat(path)).isFile();
      } catch {
        return false;
      }
    },
    async remove(name) {
      await rm(pathOf(name), { force: true });
    },
  };
}
