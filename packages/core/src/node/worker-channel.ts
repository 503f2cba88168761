/**
 * What the pool's sessions (training, prediction, feature extraction) need from the
 * {@link WorkerPool} that starts them: its size and a way to send requests. It is declared here,
 * not in `worker-pool.ts`, so that those session files do not import the pool that imports them.
 */
export interface WorkerChannel {
  /** Number of worker threads. */
  readonly size: number;
  /** Whether the pool was closed. */
  readonly closed: boolean;
  /** A key for objects kept in the workers (replicas, sessions, extractors). */
  newKey(prefix: string): string;
  /** Send one request to worker `index`; `transfer` lists buffers moved (not copied) to it. */
  call<R = unknown>(index: number, task: string, payload: unknown, transfer?: ArrayBuffer[]): Promise<R>;
  /** Send the same request to every worker (payloads are copied to each). */
  broadcast<R = unknown>(task: string, payload: unknown): Promise<R[]>;
}
