/**
 * Weight sources: a local path, an `https://` URL, or a Hugging Face hub id
 * `hf://<owner>/<repo>[@revision]/<file>`, which resolves to the hub's download URL
 * `https://huggingface.co/<owner>/<repo>/resolve/<revision>/<file>` (revision `main` by default).
 * Browser-safe: remote sources are fetched with progress; files need `@rlr/backbones/node`.
 */
import { idleAbort } from './idle-abort.js';

/** Progress of a download, reported as bytes arrive. */
export interface DownloadProgress {
  /** The source as given (path, URL or `hf://` id). */
  source: string;
  /** Bytes received so far (including a resumed part). */
  loaded: number;
  /** Total bytes, when the server says. */
  total: number | undefined;
}

/** A parsed Hugging Face hub id. */
export interface HubFile {
  repo: string;
  revision: string;
  file: string;
}

/** Parse `hf://owner/repo[@revision]/path/to/file`. */
export function parseHubId(source: string): HubFile {
  const m = /^hf:\/\/([^/@]+\/[^/@]+)(?:@([^/]+))?\/(.+)$/.exec(source);
  const badSegment = (s: string) => s === '..' || s === '.' || s === '';
  if (!m || m[1].split('/').some(badSegment) || m[3].split('/').some(badSegment)) {
    throw new Error(
      `"${source}" is not a Hugging Face id; write hf://<owner>/<repo>/<file>, e.g. hf://timm/tf_efficientnet_b6.aa_in1k/model.safetensors`,
    );
  }
  return { repo: m[1], revision: m[2] ?? 'main', file: m[3] };
}

/** `true` for `hf://`, `http://` and `https://` sources. */
export function isRemoteSource(source: string): boolean {
  return /^(hf|https?):\/\//i.test(source);
}

/** The URL a remote source downloads from (`hf://` ids become hub download URLs). */
export function resolveSourceUrl(source: string): string {
  if (source.startsWith('hf://')) {
    const { repo, revision, file } = parseHubId(source);
    return `https://huggingface.co/${repo}/resolve/${encodeURIComponent(revision)}/${file
      .split('/')
      .map(encodeURIComponent)
      .join('/')}`;
  }
  if (/^https?:\/\//i.test(source)) return source;
  throw new Error(`"${source}" is not a URL or hf:// id`);
}

/** Options of {@link fetchBytes}. */
export interface FetchBytesOptions {
  onProgress?: (p: DownloadProgress) => void;
  fetch?: typeof fetch;
  /** Extra request headers (e.g. an Authorization token). */
  headers?: Record<string, string>;
  /** Connect and idle timeout in ms: no answer, or no new bytes, for this long fails the download (default 30 000). */
  timeoutMs?: number;
  /** Stops the download at once. */
  signal?: AbortSignal;
}

/**
 * Download a remote source into memory (browsers and other environments without a disk cache).
 * @throws naming the URL and the HTTP status, or the timeout
 */
export async function fetchBytes(source: string, options: FetchBytesOptions = {}): Promise<Uint8Array> {
  const url = resolveSourceUrl(source);
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const idle = idleAbort(timeoutMs, options.signal, '');
  const failure = (e: unknown) =>
    new Error(
      `could not download ${source} from ${url}: ${
        idle.timedOut() ? `no data for ${timeoutMs / 1000} s (connect/idle timeout)` : options.signal?.aborted ? 'aborted' : (e as Error).message
      }`,
      { cause: e },
    );
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  try {
    let res: Response;
    try {
      res = await fetchImpl(url, { headers: options.headers, signal: idle.signal });
    } catch (e) {
      throw failure(e);
    }
    if (!res.ok) throw new Error(`could not download ${source}: HTTP ${res.status} ${res.statusText} from ${url}`);
    const length = Number(res.headers.get('content-length'));
    // With a Content-Encoding (gzip…) the length counts encoded bytes, not the ones read here.
    const encoded = !/^(identity)?$/i.test(res.headers.get('content-encoding') ?? '');
    const total = Number.isFinite(length) && length > 0 && !encoded ? length : undefined;
    if (!res.body) return new Uint8Array(await res.arrayBuffer());
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        idle.arm();
        chunks.push(value);
        loaded += value.byteLength;
        options.onProgress?.({ source, loaded, total });
      }
    } catch (e) {
      throw failure(e);
    }
    if (total !== undefined && loaded !== total) throw new Error(`could not download ${source} from ${url}: got ${loaded} of ${total} bytes (connection closed early)`);
  } finally {
    idle.dispose();
  }
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
