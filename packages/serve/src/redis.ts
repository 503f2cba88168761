import { Redis } from 'ioredis';

/** A Redis URL with any password replaced by `***`, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/** Refusal of a `--queue` URL: malformed, or no Redis answers there. */
export class QueueConnectionError extends Error {
  constructor(
    message: string,
    /** What to do about it, naming the flag. */
    readonly hint: string,
  ) {
    super(message);
    this.name = 'QueueConnectionError';
  }
}

/** Check that `url` is a `redis://` / `rediss://` URL. */
export function parseRedisUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new QueueConnectionError(`--queue "${url}" is not a URL`, 'pass redis://host:6379/0 (or rediss:// for TLS)');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new QueueConnectionError(`--queue ${redactUrl(url)}: the scheme must be redis:// or rediss://`, 'pass redis://host:6379/0');
  return u;
}

/**
 * Connect to `url` once and PING it, giving up after `timeoutMs` (no endless reconnecting), so a
 * wrong or down Redis is reported at start, naming the URL.
 * @throws {@link QueueConnectionError}
 */
export async function checkRedis(url: string, timeoutMs = 3000): Promise<void> {
  parseRedisUrl(url);
  const client = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  client.on('error', () => undefined); // reported by connect() below
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise((_ok, fail) => (timer = setTimeout(() => fail(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs))),
    ]);
  } catch (e) {
    throw new QueueConnectionError(`cannot reach Redis at ${redactUrl(url)}: ${(e as Error).message}`, 'start Redis there (e.g. redis-server --port 6379), or pass the right --queue redis://host:port/db');
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/** A connection for BullMQ's blocking commands (a Worker needs `maxRetriesPerRequest: null`). */
export function redisConnection(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: null });
  return client;
}
