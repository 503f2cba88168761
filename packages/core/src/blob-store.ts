/**
 * Where models, checkpoints and feature caches are persisted. `@rlr/core` never touches files
 * itself: Node callers pass `fileStore(dir)` from `@rlr/core/node`, browsers pass `urlStore(url)`.
 */
export interface BlobStore {
  /** Human-readable location for messages, e.g. a directory path or a URL. */
  readonly location: string;
  /** Read a whole blob; throws an error naming the location and blob when it is missing. */
  read(name: string): Promise<Uint8Array>;
  /** Write a whole blob, atomically where the medium allows (readers never see half a file). */
  write(name: string, bytes: Uint8Array): Promise<void>;
  exists(name: string): Promise<boolean>;
  remove?(name: string): Promise<void>;
}

/** An in-memory store (tests, browsers, temporary models). */
export function memoryStore(location = 'memory'): BlobStore & { readonly blobs: Map<string, Uint8Array> } {
  const blobs = new Map<string, Uint8Array>();
  return {
    location,
    blobs,
    async read(name) {
      const b = blobs.get(name);
      if (!b) throw new Error(`${location}: no blob named "${name}"`);
      return b.slice();
    },
    async write(name, bytes) {
      blobs.set(name, bytes.slice());
    },
    async exists(name) {
      return blobs.has(name);
    },
    async remove(name) {
      blobs.delete(name);
    },
  };
}

/**
 * A read-only store over HTTP(S) (or any URL `fetch` understands): blob `name` is fetched from
 * `new URL(name, baseUrl)`. Writing throws.
 */
export function urlStore(baseUrl: string, fetchImpl: typeof fetch = fetch): BlobStore {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const urlOf = (name: string) => new URL(name, base).toString();
  return {
    location: base,
    async read(name) {
      const url = urlOf(name);
      let res: Response;
      try {
        res = await fetchImpl(url);
      } catch (e) {
        throw new Error(`could not fetch ${url}: ${(e as Error).message}`);
      }
      if (!res.ok) throw new Error(`could not fetch ${url}: HTTP ${res.status} ${res.statusText}`);
      return new Uint8Array(await res.arrayBuffer());
    },
    async write(name) {
      throw new Error(`${urlOf(name)}: a URL store is read-only; save the model to a file store instead`);
    },
    async exists(name) {
      try {
        const res = await fetchImpl(urlOf(name), { method: 'HEAD' });
        return res.ok;
      } catch {
        return false;
      }
    },
  };
}
