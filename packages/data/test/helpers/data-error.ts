import { expect } from 'vitest';
import { DataError } from '../../src/errors.js';

/** The DataError `p` rejects with; fails the test when it resolves or rejects with anything else. */
export async function errorOf(p: Promise<unknown>): Promise<DataError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error('expected a DataError');
}
