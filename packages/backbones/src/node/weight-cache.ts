/**
 * The download cache for weights (Node): a remote source (`https://` URL or `hf://` id) is
 * downloaded once into the cache directory and read from disk afterwards.
 * - location: `RLR_CACHE`, else `$XDG_CACHE_HOME/rlr`, else the platform's user cache dir + `/rlr`;
 * - a download goes to `<file>.partial` and is renamed into place only when complete and checked
 *   (size, sha256 when known, and that it parses as its format: a safetensors header whose
 *   tensors fit, a tfjs model.json), so neither readers nor later runs see half a file;
 * - an interrupted download resumes from the partial file with an HTTP Range request guarded by
 *   `If-Range` (the ETag, else Last-Modified, recorded in `<file>.partial.json`), both within one
 *   call (`retries`) and across runs: a file that changed on the server meanwhile is downloaded
 *   again from the start, never spliced; without either validator it restarts from byte 0;
 * - every request has a connect and idle timeout (`timeoutMs`, 30 s) and an `AbortSignal` stops it
 *   at once;
 * - offline mode (`RLR_OFFLINE=1` or `offline: true`) never touches the network and says which file
 *   is missing and how to provide it.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '@rlr/core/node';
import { parseHubId, resolveSourceUrl, type DownloadProgress } from '../weight-source.js';
import { idleAbort } from '../idle-abort.js';
import { formatFromName, weightFileProblem, type WeightFormat } from './weight-file-check.js';

/** Default connect and idle timeout of a download request (ms). */
export const DEFAULT_DOWNLOAD_TIMEOUT_MS = 30_000;

/** Options of {@link ensureCached}. */
export interface CacheOptions {
  /** Cache directory (default {@link defaultCacheDir}). */
  cacheDir?: string;
  /** Never use the network (default: `RLR_OFFLINE` is `1`/`true`). */
  offline?: boolean;
  /** Expected sha256 of the file (hex); checked after download and recorded beside the file. */
  sha256?: string;
  /** Expected size in bytes. */
  size?: number;
  onProgress?: (p: DownloadProgress) => void;
  /** Resume attempts after a dropped or timed-out connection within one call (default 2). */
  retries?: number;
  /**
   * Connect and idle timeout in milliseconds (default {@link DEFAULT_DOWNLOAD_TIMEOUT_MS}): a
   * request whose answer does not start, or whose body stalls, for this long is abandoned (and
   * retried).
   */
  timeoutMs?: number;
  /** Stops the download at once; the partial file is kept for a later resume. */
  signal?: AbortSignal;
  /**
   * What the finished file must parse as before it is cached (default from its name:
   * `.safetensors`, `*.json` = tfjs model.json; other names are checked for size and sha256 only).
   */
  format?: WeightFormat;
  /** `fetch` to use (default the global one). */
  fetch?: typeof fetch;
  /** Extra request headers. `HF_TOKEN` is sent to huggingface.co automatically when set. */
  headers?: Record<string, string>;
}

/** `true` when `RLR_OFFLINE` asks for offline mode. */
export function offlineFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes|on)$/i.test(env.RLR_OFFLINE ?? '');
}

/** The cache directory: `RLR_CACHE`, else the user's cache directory + `/rlr`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RLR_CACHE) return env.RLR_CACHE;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'rlr');
  if (process.platform === 'win32' && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, 'rlr', 'cache');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'rlr');
  return join(homedir(), '.cache', 'rlr');
}

function safeSegments(path: string, source: string): string[] {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '..' || p === '.' || /[\0\\:*?"<>|]/.test(p))) {
    throw new Error(`${source}: the path contains segments that cannot be stored in the cache`);
  }
  return parts;
}

/**
 * Where a remote source lives in the cache: `hf/<owner>/<repo>/<revision>/<file>` for hub ids,
 * `url/<host>/<path>` for URLs (so files of one model keep their relative layout).
 */
export function cachePathFor(source: string, cacheDir = defaultCacheDir()): string {
  if (source.startsWith('hf://')) {
    const { repo, revision, file } = parseHubId(source);
    return join(cacheDir, 'hf', ...safeSegments(repo, source), revision, ...safeSegments(file, source));
  }
  const url = new URL(resolveSourceUrl(source));
  const segments = safeSegments(decodeURIComponent(url.pathname), source);
  if (segments.length === 0) segments.push('index');
  if (url.search) {
    const tag = createHash('sha256').update(url.search).digest('hex').slice(0, 12);
    segments[segments.length - 1] += `.${tag}`;
  }
  return join(cacheDir, 'url', url.host.replace(/:/g, '_'), ...segments);
}

/** sha256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

function requestHeaders(url: string, options: CacheOptions): Record<string, string> {
  const headers: Record<string, string> = { ...options.headers };
  if (process.env.HF_TOKEN && new URL(url).hostname === 'huggingface.co' && !headers.Authorization) {
    headers.Authorization = `Bearer ${process.env.HF_TOKEN}`;
  }
  return headers;
}

/** Thrown for HTTP answers that retrying cannot fix (404, 403, ...). */
class PermanentDownloadError extends Error {}

/** Thrown when {@link CacheOptions.signal} aborts a download. */
export class DownloadAbortedError extends Error {
  override readonly name = 'DownloadAbortedError';
}

/** What the Hugging Face hub says about an LFS file in its redirect: content sha256 and size. */
interface LinkedFile {
  sha256?: string;
  size?: number;
}

/** Recorded beside a partial download: what a resume must match (`<file>.partial.json`). */
interface PartialMeta {
  url: string;
  etag?: string;
  lastModified?: string;
  /** The whole file's size as the server announced it. */
  total?: number;
}

async function readPartialMeta(path: string): Promise<PartialMeta | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as PartialMeta;
  } catch {
    return undefined;
  }
}

/** The If-Range value of a partial download: a strong ETag, else Last-Modified (RFC 9110 13.1.5). */
function ifRangeOf(meta: PartialMeta | undefined): string | undefined {
  if (meta?.etag && !meta.etag.startsWith('W/')) return meta.etag;
  return meta?.lastModified;
}

/**
 * `fetch`, following the hub's redirects by hand so that their `X-Linked-Etag` (the file's sha256)
 * and `X-Linked-Size` headers can be read; the token is not forwarded to other hosts (the CDN).
 */
async function fetchRecordingHubLinks(
  url: string,
  headers: Record<string, string>,
  fetchImpl: typeof fetch,
  linked: LinkedFile,
  signal: AbortSignal,
): Promise<Response> {
  if (new URL(url).hostname !== 'huggingface.co') return fetchImpl(url, { headers, signal });
  let current = url;
  let h = headers;
  for (let hop = 0; ; hop++) {
    const res = await fetchImpl(current, { headers: h, redirect: 'manual', signal });
    const etag = /^(?:W\/)?"?([0-9a-f]{64})"?$/i.exec(res.headers.get('x-linked-etag') ?? '');
    if (etag) linked.sha256 = etag[1].toLowerCase();
    const size = Number(res.headers.get('x-linked-size'));
    if (Number.isFinite(size) && size > 0) linked.size = size;
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location || hop >= 5) return res;
    await res.body?.cancel();
    const next = new URL(location, current);
    if (next.hostname !== 'huggingface.co') {
      h = { ...h };
      delete h.Authorization;
    }
    current = next.toString();
  }
}

/** Remove a partial download and what is recorded about it. */
async function discardPartial(partial: string): Promise<void> {
  await rm(partial, { force: true });
  await rm(`${partial}.json`, { force: true });
}

/**
 * One download attempt into `partial`, resuming from its current size when the recorded
 * validator allows (`If-Range`), else from byte 0.
 * @param linked filled with the hub's sha256 and size when the source is on huggingface.co
 * @returns the total size of the file as the server announced it, else the bytes received
 */
async function downloadOnce(
  source: string,
  url: string,
  partial: string,
  options: CacheOptions,
  linked: LinkedFile,
): Promise<number | undefined> {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const metaPath = `${partial}.json`;
  const meta = await readPartialMeta(metaPath);
  let start = (await sizeOf(partial)) ?? 0;
  const ifRange = ifRangeOf(meta);
  if (start > 0 && (!ifRange || meta?.url !== url)) {
    // Nothing proves the server still has the same file: a resume could splice two versions.
    await discardPartial(partial);
    start = 0;
  }
  const headers = requestHeaders(url, options);
  if (start > 0) {
    headers.Range = `bytes=${start}-`;
    headers['If-Range'] = ifRange!;
  }
  // One abort signal per attempt: the caller's, or the idle timer re-armed whenever bytes arrive.
  const timeoutMs = options.timeoutMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS;
  const idle = idleAbort(timeoutMs, options.signal, `from ${url} `);
  const stalled = (e: unknown) =>
    idle.timedOut() ? new Error(`no data from ${url} for ${timeoutMs / 1000} s (connect/idle timeout)`, { cause: e }) : e;
  try {
    let res: Response;
    try {
      res = await fetchRecordingHubLinks(url, headers, fetchImpl, linked, idle.signal);
    } catch (e) {
      throw stalled(e);
    }
    let total: number | undefined;
    const etag = res.headers.get('etag') ?? undefined;
    if (res.status === 206 && start > 0) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
      const changed =
        !m || Number(m[1]) !== start || (meta?.etag && etag && etag !== meta.etag) || (meta?.total !== undefined && m[3] !== '*' && Number(m[3]) !== meta.total);
      if (changed) {
        // The server resumed somewhere else, or another version: start over rather than splice.
        await res.body?.cancel();
        await discardPartial(partial);
        throw new Error(`${url} answered a resume request with another range or version (${res.headers.get('content-range')}, ETag ${etag}); starting over`);
      }
      total = m[3] === '*' ? meta?.total : Number(m[3]);
    } else if (res.status === 416 && start > 0) {
      // Nothing left to fetch: the partial file may already be whole. The caller checks it.
      await res.body?.cancel();
      const m = /\/(\d+)$/.exec(res.headers.get('content-range') ?? '');
      if (m && Number(m[1]) === start) return start;
      await discardPartial(partial);
      throw new Error(`${url} refused to resume at byte ${start}; the partial download was discarded`);
    } else if (res.status === 200 || (res.ok && res.status !== 206)) {
      // A whole body: the first request, a server without ranges, or a file that changed
      // (If-Range did not match). Whatever was kept is replaced.
      start = 0;
      const len = Number(res.headers.get('content-length'));
      // With a Content-Encoding (gzip…) the length counts encoded bytes, not the ones written here.
      const encoded = !/^(identity)?$/i.test(res.headers.get('content-encoding') ?? '');
      total = Number.isFinite(len) && len > 0 && !encoded ? len : undefined;
      const record: PartialMeta = { url, etag, lastModified: res.headers.get('last-modified') ?? undefined, total };
      await writeFileAtomic(metaPath, JSON.stringify(record));
    } else if (res.ok) {
      // 206 to a request without Range: not something to build a file from.
      await res.body?.cancel();
      throw new Error(`${url} answered HTTP 206 to a request for the whole file`);
    } else {
      await res.body?.cancel();
      const hint =
        res.status === 401 || res.status === 403
          ? ' (a gated or private repo needs HF_TOKEN)'
          : res.status === 404
          ? ' (check the name)'
          : '';
      throw new PermanentDownloadError(`could not download ${source}: HTTP ${res.status} ${res.statusText} from ${url}${hint}`);
    }
    const file = await open(partial, start > 0 ? 'a' : 'w');
    let loaded = start;
    options.onProgress?.({ source, loaded, total });
    try {
      if (res.body) {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          idle.arm();
          await file.write(chunk);
          loaded += chunk.byteLength;
          options.onProgress?.({ source, loaded, total });
        }
      }
    } catch (e) {
      throw stalled(e);
    } finally {
      await file.close();
    }
    return total ?? loaded;
  } finally {
    idle.dispose();
  }
}

/** Wait `ms`, or less when `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The fix for a cache file that is bad: where it is and how to get rid of it. */
function cacheFix(target: string): string {
  return `delete ${target} (and ${target}.sha256) to download it again, or use another cache folder (--cache-dir, RLR_CACHE)`;
}

/**
 * Make sure a remote source is in the cache and return its local path. Local paths are returned
 * unchanged (after checking that they exist).
 * @throws in offline mode when the file is not cached; when the download fails after `retries`
 *   resumes (the partial file is kept); when the size, sha256 or format do not match (the bad file
 *   is removed, never cached); {@link DownloadAbortedError} when `options.signal` aborts
 */
export async function ensureCached(source: string, options: CacheOptions = {}): Promise<string> {
  if (!/^(hf|https?):\/\//i.test(source)) {
    if ((await sizeOf(source)) === undefined) throw new Error(`weights file "${source}" does not exist; check the path`);
    return source;
  }
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const target = cachePathFor(source, cacheDir);
  const checksumFile = `${target}.sha256`;
  const format = options.format ?? formatFromName(target);
  const cachedSize = await sizeOf(target);
  if (cachedSize !== undefined) {
    if (options.size !== undefined && cachedSize !== options.size) {
      throw new Error(`cached ${target} has ${cachedSize} bytes but ${options.size} were expected; ${cacheFix(target)}`);
    }
    if (options.sha256) {
      const recorded = (await readFile(checksumFile, 'utf8').catch(() => '')).trim() || (await sha256File(target));
      if (recorded.toLowerCase() !== options.sha256.toLowerCase()) {
        throw new Error(`cached ${target} has sha256 ${recorded}, expected ${options.sha256}; ${cacheFix(target)}`);
      }
    }
    // Cheap (header only): catches a bad file cached by an older version.
    const problem = await weightFileProblem(target, format);
    if (problem) throw new Error(`cached ${target} (from ${source}) is damaged: ${problem}; ${cacheFix(target)}`);
    return target;
  }
  const offline = options.offline ?? offlineFromEnv();
  if (offline) {
    throw new Error(
      `offline mode${
        options.offline === undefined ? ' (RLR_OFFLINE is set)' : ''
      }: ${source} is not in the cache (expected at ${target}). ` +
        `Download ${resolveSourceUrl(source)} on a machine with network access and place it at that path, ` +
        `pass a local file path as the weights instead, or turn offline mode off.`,
    );
  }
  const url = resolveSourceUrl(source);
  const partial = `${target}.partial`;
  await mkdir(dirname(target), { recursive: true });
  const attempts = (options.retries ?? 2) + 1;
  let total: number | undefined;
  const linked: LinkedFile = {};
  const interrupted = async () =>
    new DownloadAbortedError(`download of ${source} was interrupted; ${(await sizeOf(partial)) ?? 0} bytes are kept in ${partial} and the next run resumes from there`);
  for (let attempt = 1; ; attempt++) {
    if (options.signal?.aborted) throw await interrupted();
    try {
      total = await downloadOnce(source, url, partial, options, linked);
      break;
    } catch (e) {
      if (options.signal?.aborted) throw await interrupted();
      if (e instanceof PermanentDownloadError) throw e;
      if (attempt >= attempts) {
        const have = (await sizeOf(partial)) ?? 0;
        throw new Error(
          `download of ${source === url ? url : `${source} from ${url}`} failed after ${attempts} attempts (${(e as Error).message}); ` +
            `${have} bytes are kept in ${partial} and the next run resumes from there`,
          { cause: e },
        );
      }
      await pause(500 * attempt, options.signal);
    }
  }
  const size = (await sizeOf(partial)) ?? 0;
  const expectedSize = options.size ?? linked.size ?? total;
  const refuse = async (problem: string) => {
    await discardPartial(partial);
    return new Error(`download of ${source} into ${target} ${problem}; nothing was cached, rerun to download it again (or pass a local file as the weights)`);
  };
  if (expectedSize !== undefined && size !== expectedSize) throw await refuse(`gave ${size} bytes, expected ${expectedSize}`);
  const digest = await sha256File(partial);
  const expectedSha = options.sha256?.toLowerCase() ?? linked.sha256;
  if (expectedSha && digest !== expectedSha) {
    throw await refuse(`has sha256 ${digest}, expected ${expectedSha}${options.sha256 ? '' : ' (from the hub)'} (corrupt download or wrong checksum)`);
  }
  const problem = await weightFileProblem(partial, format);
  if (problem) throw await refuse(`is not a valid ${format} file: ${problem}`);
  await rename(partial, target);
  await rm(`${partial}.json`, { force: true });
  await writeFileAtomic(checksumFile, `${digest}\n`);
  return target;
}

/** The bytes of a weights file given by path, URL or `hf://` id (downloaded into the cache once). */
export async function readWeightsFile(source: string, options: CacheOptions = {}): Promise<Uint8Array> {
  const path = await ensureCached(source, options);
  const buf = await readFile(path);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
