import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Development data (fixtures, real weights, real images) lives in a `shared/` folder beside the
 * project checkout, never inside it. CI has it; a user's clone usually does not, so tests that
 * need it skip with a message instead of failing.
 */
const here = dirname(fileURLToPath(import.meta.url));

/** The repository root: the nearest ancestor holding `turbo.json`. */
export function repoRoot(): string {
  let dir = here;
  for (;;) {
    if (existsSync(join(dir, 'turbo.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`@rlr/testing: no turbo.json above ${here}`);
    dir = parent;
  }
}

/**
 * Absolute path of the shared development folder, or `undefined` when absent.
 * `RLR_SHARED_DIR` overrides the default location `<repo>/../shared`.
 */
export function sharedDir(): string | undefined {
  const candidate = process.env.RLR_SHARED_DIR ?? resolve(repoRoot(), '..', 'shared');
  return existsSync(candidate) && statSync(candidate).isDirectory() ? candidate : undefined;
}

/** Absolute path of `rel` inside the shared folder, or `undefined` when it is not there. */
export function sharedPath(rel: string): string | undefined {
  const root = sharedDir();
  if (!root) return undefined;
  const p = join(root, rel);
  return existsSync(p) ? p : undefined;
}

const warned = new Set<string>();

/**
 * Resolve a shared path for a test file. Returns the path, or `undefined` after printing (once per
 * path) why the dependent tests are skipped. Use with `describe.skipIf(!p)`.
 */
export function requireShared(rel: string): string | undefined {
  const p = sharedPath(rel);
  if (!p && !warned.has(rel)) {
    warned.add(rel);
    const where = process.env.RLR_SHARED_DIR ?? resolve(repoRoot(), '..', 'shared');
    console.warn(
      `[skip] ${rel} not found under ${where}: tests that need shared development data are skipped ` +
        `(place the shared folder beside the checkout or set RLR_SHARED_DIR).`,
    );
  }
  return p;
}
