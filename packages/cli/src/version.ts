import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * Version of an installed package by name, or `undefined` when it is not installed. Some packages
 * do not export `package.json`, so this resolves the entry point and walks up to its manifest.
 */
export function packageVersion(name: string): string | undefined {
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    try {
      return (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      return undefined;
    }
  }
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === name) return pkg.version;
  }
  return undefined;
}

/** The CLI's own version (from its package.json, read at run time). */
export const VERSION: string = packageVersion('@rlr/cli') ?? '0.0.0';

/** The packages whose versions a run folder records (`run.json`'s `versions`). */
const RECORDED_PACKAGES = ['@rlr/cli', '@rlr/core', '@rlr/backbones', '@rlr/data', '@tensorflow/tfjs-core'];

/** Versions of the packages a run was made with, `null` for one that is not installed. */
export function runVersions(): Record<string, string | null> {
  return Object.fromEntries(RECORDED_PACKAGES.map((p) => [p, packageVersion(p) ?? null]));
}
