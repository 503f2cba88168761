/**
 * Validation of `outIndices`, the stage selection shared by every backbone.
 */

/**
 * Check that `outIndices` selects distinct existing stages.
 * @param stageCount number of stages (valid indices are 0..stageCount-1)
 * @param who backbone name for the message
 * @param describe optional hint appended to the range error (e.g. the stage names)
 * @returns a copy of `outIndices`
 */
export function checkOutIndices(outIndices: readonly number[], stageCount: number, who: string, describe = ''): number[] {
  if (outIndices.length === 0) throw new Error(`${who}: outIndices is empty; pass at least one stage in 0..${stageCount - 1}`);
  const seen = new Set<number>();
  for (const i of outIndices) {
    if (!Number.isInteger(i) || i < 0 || i >= stageCount) {
      throw new Error(`${who}: outIndices contains ${i}; stages are 0..${stageCount - 1}${describe}`);
    }
    if (seen.has(i)) throw new Error(`${who}: outIndices lists stage ${i} twice`);
    seen.add(i);
  }
  return [...outIndices];
}
