import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, sharedDir, sharedPath, requireShared } from './shared.js';

describe('shared folder helper', () => {
  it('finds the repository root by its turbo.json', () => {
    expect(existsSync(join(repoRoot(), 'turbo.json'))).toBe(true);
  });

  it('returns undefined for a path that is not in the shared folder', () => {
    expect(sharedPath('no/such/file/anywhere.bin')).toBeUndefined();
    expect(requireShared('no/such/file/anywhere.bin')).toBeUndefined();
  });

  it('honours RLR_SHARED_DIR', () => {
    const before = process.env.RLR_SHARED_DIR;
    process.env.RLR_SHARED_DIR = join(repoRoot(), 'internal');
    try {
      expect(sharedDir()).toBe(join(repoRoot(), 'internal'));
      expect(sharedPath('testing/package.json')).toBe(join(repoRoot(), 'internal', 'testing', 'package.json'));
    } finally {
      if (before === undefined) delete process.env.RLR_SHARED_DIR;
      else process.env.RLR_SHARED_DIR = before;
    }
  });
});
