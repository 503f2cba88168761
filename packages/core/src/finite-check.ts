/**
 * Finiteness checks: a NaN or an infinity in a model's weights turns every score into NaN or
 * -Infinity, which must never be read as "normal". Loaders and scoring call these to refuse such
 * values with a message naming where they came from.
 */

/** Index of the first NaN or ±Infinity in `data`, or -1 when every value is finite. */
export function firstNonFinite(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) {
    // `x - x` is 0 for finite x and NaN for NaN and ±Infinity: one comparison per value.
    const x = data[i];
    if (x - x !== 0) return i;
  }
  return -1;
}

/** Number of NaN or ±Infinity values in `data`. */
export function countNonFinite(data: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < data.length; i++) if (data[i] - data[i] !== 0) n++;
  return n;
}

/**
 * Throw when a floating-point tensor of `tensors` holds a NaN or an infinity. The message names
 * `where`, the tensor, how many values and the first bad index, then `fix`.
 */
export function assertFiniteTensors(
  tensors: Iterable<[string, { data: ArrayLike<number> }]>,
  where: string,
  fix: string,
): void {
  for (const [name, t] of tensors) {
    if (!(t.data instanceof Float32Array) && !(t.data instanceof Float64Array)) continue;
    const at = firstNonFinite(t.data);
    if (at < 0) continue;
    const n = countNonFinite(t.data);
    throw new Error(
      `${where}: tensor "${name}" holds ${n} non-finite value${n === 1 ? '' : 's'} (${t.data[at]} at index ${at}); ` +
        `the weights are damaged and would make every score NaN. ${fix}`,
    );
  }
}
