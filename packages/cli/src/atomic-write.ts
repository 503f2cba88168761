import { writeFileAtomic } from '@rlr/core/node';

/** Atomic file writes (temporary file, then rename) come from `@rlr/data/node`. */
export { writeFileAtomic };

/** Write a JSON document atomically (two-space indent, trailing newline). */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}
