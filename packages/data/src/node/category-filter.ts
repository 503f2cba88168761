import { join } from 'node:path';
import { DataError } from '../errors.js';

/**
 * Applies a user's category filter to the categories found in a dataset; an unknown name is an
 * error listing what is available. No filter selects everything.
 */
export function selectCategories(available: string[], wanted: readonly string[] | undefined, root: string): string[] {
  if (!wanted || wanted.length === 0) return available;
  for (const name of wanted) {
    if (!available.includes(name)) {
      throw new DataError('not-found', join(root, name), `category "${name}" is not in the dataset`, `Available categories: ${available.join(', ') || '(none)'}.`);
    }
  }
  return available.filter((c) => wanted.includes(c));
}
