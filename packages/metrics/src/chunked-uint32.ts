/**
 * An append-only list of uint32 values stored in chunks.
 *
 * Pixel evaluation collects up to ~1e8 keys whose count is not known in advance (a CLI streams
 * batches). A doubling array would copy everything at each growth and briefly hold 1.5-2x the
 * data; chunks never copy, and the bucketing reads them once and lets each go (see
 * `key-buckets.ts`). Chunks start small so that tiny inputs stay tiny.
 */
export class ChunkedUint32 {
  /** Filled chunks, each full to its own length. */
  readonly chunks: Uint32Array[] = [];
  private current: Uint32Array;
  private filled = 0;
  private stored = 0;

  constructor(
    private readonly firstChunk = 1 << 12,
    private readonly maxChunk = 1 << 22,
  ) {
    this.current = new Uint32Array(firstChunk);
  }

  /** Number of values pushed so far. */
  get length(): number {
    return this.stored + this.filled;
  }

  /** Appends one value. */
  push(value: number): void {
    if (this.filled === this.current.length) this.grow();
    this.current[this.filled++] = value;
  }

  /**
   * For hot loops that fill the current chunk through a local index instead of a call per
   * value: the chunk being filled (its first {@link used} slots are taken). When the loop has
   * filled it to its length it calls {@link next}; when done, {@link commit}.
   */
  get chunk(): Uint32Array {
    return this.current;
  }

  /** Slots of {@link chunk} already filled. */
  get used(): number {
    return this.filled;
  }

  /** Files the current chunk, which the caller has filled to its length; returns a fresh one. */
  next(): Uint32Array {
    this.filled = this.current.length;
    this.grow();
    return this.current;
  }

  /** Records that the caller filled {@link chunk} up to `used` slots. */
  commit(used: number): void {
    this.filled = used;
  }

  /**
   * Hands over the stored values as a list of filled chunks (the last one trimmed by a view, not
   * a copy) and empties this buffer.
   */
  take(): Uint32Array[] {
    const out = this.chunks.slice();
    if (this.filled > 0) out.push(this.current.subarray(0, this.filled));
    this.chunks.length = 0;
    this.current = new Uint32Array(0);
    this.filled = 0;
    this.stored = 0;
    return out;
  }

  private grow(): void {
    if (this.current.length > 0) {
      this.chunks.push(this.current);
      this.stored += this.current.length;
    }
    const size = Math.min(this.maxChunk, Math.max(this.firstChunk, this.current.length * 2));
    this.current = new Uint32Array(size);
    this.filled = 0;
  }
}
