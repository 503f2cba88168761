/**
 * Connected regions of a binary mask. The MVTec AD PRO protocol treats each 8-connected region of
 * a ground-truth mask as one defect (SciPy's `ndimage.label` with a 3x3 structure of ones).
 */

/** Which neighbours join a region: 4 (edges) or 8 (edges and corners, the MVTec AD protocol). */
export type Connectivity = 4 | 8;

/** The regions of one mask. */
export interface ConnectedComponents {
  /** Number of regions. */
  count: number;
  /** `[H, W]` region of each pixel: 0 for background, 1..count for the regions in scan order. */
  labels: Int32Array;
  /** `[count]` pixel count of region k + 1 at index k. */
  sizes: Uint32Array;
}

/**
 * Labels the regions of one mask image with reusable buffers: one labeler serves every image of
 * a set, so labelling allocates nothing per image. Flood fill with an explicit stack (no
 * recursion, so a full 4k x 4k region cannot overflow the call stack).
 */
export class ComponentLabeler {
  /** `[H, W]` labels of the last labelled image (0 = background, 1..count). */
  readonly labels: Int32Array;
  /** Region sizes of the last labelled image; valid up to the count `label` returned. */
  readonly sizes: Uint32Array;
  private readonly stack: Int32Array;
  private dirty = false;

  constructor(
    readonly height: number,
    readonly width: number,
    readonly connectivity: Connectivity = 8,
  ) {
    if (connectivity !== 4 && connectivity !== 8) {
      throw new Error(`connected components: connectivity must be 4 or 8, got ${String(connectivity)}`);
    }
    const n = height * width;
    this.labels = new Int32Array(n);
    // At most one region per 2 pixels (4-connected checkerboard).
    this.sizes = new Uint32Array((n >> 1) + 1);
    this.stack = new Int32Array(n);
  }

  /**
   * Labels the image `mask[offset .. offset + H·W)` (non-zero = foreground) and returns its
   * number of regions; results are in {@link labels} and {@link sizes}.
   */
  label(mask: ArrayLike<number>, offset = 0): number {
    const { height: h, width: w, labels, sizes, stack } = this;
    const diagonal = this.connectivity === 8;
    if (this.dirty) labels.fill(0); // an image without regions leaves the labels all zero
    let count = 0;
    for (let start = 0; start < h * w; start++) {
      if (mask[offset + start] === 0 || labels[start] !== 0) continue;
      count++;
      labels[start] = count;
      let top = 0;
      stack[top++] = start;
      let size = 0;
      while (top > 0) {
        const p = stack[--top];
        size++;
        const r = (p / w) | 0;
        const c = p - r * w;
        const r0 = r > 0 ? r - 1 : r;
        const r1 = r < h - 1 ? r + 1 : r;
        const c0 = c > 0 ? c - 1 : c;
        const c1 = c < w - 1 ? c + 1 : c;
        for (let rr = r0; rr <= r1; rr++) {
          for (let cc = c0; cc <= c1; cc++) {
            if (!diagonal && rr !== r && cc !== c) continue;
            const q = rr * w + cc;
            if (labels[q] === 0 && mask[offset + q] !== 0) {
              labels[q] = count; // mark on push so that no pixel enters the stack twice
              stack[top++] = q;
            }
          }
        }
      }
      sizes[count - 1] = size;
    }
    this.dirty = count > 0;
    return count;
  }
}

/**
 * The connected regions of a binary mask `[H, W]` (row-major; non-zero = foreground).
 *
 * @param mask - `[H, W]` e.g. a `Uint8Array` of 0/1
 * @param connectivity - 8 (default, MVTec AD protocol) or 4
 *
 * @example
 * ```ts
 * const { count, sizes } = connectedComponents(Uint8Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1), 3, 3);
 * // count 1 (diagonal neighbours join), sizes [3]; with connectivity 4: count 3
 * ```
 */
export function connectedComponents(
  mask: ArrayLike<number>,
  height: number,
  width: number,
  connectivity: Connectivity = 8,
): ConnectedComponents {
  if (mask.length !== height * width) {
    throw new Error(
      `connected components: mask has ${mask.length} pixels but height x width = ${height} x ${width} = ${height * width}; ` +
        'pass one [H, W] mask and its true size',
    );
  }
  const labeler = new ComponentLabeler(height, width, connectivity);
  const count = labeler.label(mask);
  return { count, labels: labeler.labels, sizes: labeler.sizes.slice(0, count) };
}
