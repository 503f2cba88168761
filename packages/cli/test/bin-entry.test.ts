import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { binBuilt } from './bin-helpers.js';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string>; files: string[] };
const entry = join(pkgDir, pkg.bin.rlr);

/*
 * `npm ci` on a fresh clone runs before the build and links no bin whose file is missing, so the
 * `rlr` bin must be a committed file, not dist/bin.js: otherwise `npx rlr` in the repository asks
 * the registry for a package called "rlr".
 */
describe('the rlr bin entry', () => {
  it('is a committed file outside the build output, published and recorded in the lockfile', () => {
    expect(pkg.bin.rlr).not.toMatch(/(^|\/)dist\//);
    expect(existsSync(entry)).toBe(true);
    expect(readFileSync(entry, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(pkg.files).toContain(pkg.bin.rlr.replace(/^\.\//, '').split('/')[0]);
    const lock = JSON.parse(readFileSync(join(pkgDir, '..', '..', 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { bin?: Record<string, string> }>;
    };
    expect(lock.packages['packages/cli']?.bin?.rlr).toBe(pkg.bin.rlr.replace(/^\.\//, ''));
  });

  it.skipIf(!binBuilt)('runs the built CLI', () => {
    const r = spawnSync(process.execPath, [entry, '--version'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('says to build first when dist/ is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rlr-bin-'));
    try {
      writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
      mkdirSync(join(dir, 'bin'));
      copyFileSync(entry, join(dir, 'bin', 'rlr.js'));
      const r = spawnSync(process.execPath, [join(dir, 'bin', 'rlr.js'), '--version'], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('dist/bin.js is missing');
      expect(r.stderr).toContain('npm run build');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
