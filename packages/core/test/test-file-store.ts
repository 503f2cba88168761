/**
 * A minimal directory-backed BlobStore for tests (the real one is `fileStore` in
 * `@rlr/data/node`): atomic writes by temp file + rename.
 */
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobStore } from '../src/blob-store.js';

export function testFileStore(dir: string): BlobStore {
  return {
    location: dir,
    async read(name) {
      try {
        return new Uint8Array(await readFile(join(dir, name)));
      } catch {
        throw new Error(`${dir}: no file "${name}"`);
      }
    },
    async write(name, bytes) {
      await mkdir(dir, { recursive: true });
      const tmp = join(dir, `.${name}.tmp`);
      await writeFile(tmp, bytes);
      await rename(tmp, join(dir, name));
    },
    async exists(name) {
      return stat(join(dir, name)).then(() => true, () => false);
    },
    async remove(name) {
      await rm(join(dir, name), { force: true });
    },
  };
}
