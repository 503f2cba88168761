import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * What `npm publish` would upload, checked from `npm pack --dry-run --json` of every publishable
 * workspace package (those not marked private): the built dist, README and LICENSE are in the
 * tarball, every target of `exports`, `main`, `module`, `types` and `bin` is one of its files, no
 * test or source files leak in, and no dependency points at something only this repository has
 * (`*`, `file:`, `link:`, `workspace:` specifiers, private packages, or a version of a sibling
 * package other than the one in the repository). Needs the packages built (`npm run build`).
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  files?: string[];
  exports?: unknown;
  main?: string;
  module?: string;
  types?: string;
  bin?: string | Record<string, string>;
  license?: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const workspaces = ['internal', 'packages', 'examples'].flatMap((group) =>
  readdirSync(join(root, group), { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(root, group, e.name, 'package.json')))
    .map((e) => {
      const dir = join(root, group, e.name);
      return { dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest };
    }),
);
const byName = new Map(workspaces.map((w) => [w.manifest.name, w.manifest]));
const publishable = workspaces.filter((w) => !w.manifest.private);

/** Every string target inside an `exports` value (conditions and subpaths, nested). */
function exportTargets(e: unknown): string[] {
  if (typeof e === 'string') return [e];
  if (e && typeof e === 'object') return Object.values(e).flatMap(exportTargets);
  return [];
}

const norm = (p: string) => p.replace(/^\.\//, '');

describe('publishable packages', () => {
  it('are the eight library packages', () => {
    expect(publishable.map((w) => w.manifest.name).sort()).toEqual(['@rlr/backbones', '@rlr/cli', '@rlr/core', '@rlr/data', '@rlr/engine', '@rlr/metrics', '@rlr/onnx', '@rlr/serve']);
  });

  it('the root LICENSE is the Apache License 2.0 the packages declare', () => {
    const text = readFileSync(join(root, 'LICENSE'), 'utf8');
    expect(text).toContain('Apache License');
    expect(text).toContain('Version 2.0, January 2004');
    expect(text).toContain('END OF TERMS AND CONDITIONS');
    for (const w of publishable) expect(w.manifest.license, w.manifest.name).toBe('Apache-2.0');
  });

  describe.each(publishable.map((w) => [w.manifest.name, w] as const))('%s', (_, w) => {
    const m = w.manifest;
    let packed: Set<string> | undefined;
    const files = () => {
      if (!packed) {
        if (!existsSync(join(w.dir, 'dist'))) throw new Error(`${w.dir}/dist is missing: run npm run build first`);
        const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: w.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        const [info] = JSON.parse(out) as { files: { path: string }[] }[];
        packed = new Set(info.files.map((f) => f.path));
      }
      return packed;
    };

    it('packs dist, README.md, LICENSE (identical to the root one) and nothing from src or tests', () => {
      const f = [...files()];
      expect(f).toContain('README.md');
      expect(f).toContain('LICENSE');
      expect(f).toContain('package.json');
      expect(f.some((p) => p.startsWith('dist/') && p.endsWith('.js'))).toBe(true);
      expect(f.some((p) => p.startsWith('dist/') && p.endsWith('.d.ts'))).toBe(true);
      expect(f.filter((p) => /(^|\/)(src|test)\/|\.test\.|\.tsbuildinfo$/.test(p))).toEqual([]);
      expect(readFileSync(join(w.dir, 'LICENSE'), 'utf8')).toBe(readFileSync(join(root, 'LICENSE'), 'utf8'));
    });

    it('every exports / main / module / types / bin target is in the tarball', () => {
      const targets = [
        ...exportTargets(m.exports),
        ...[m.main, m.module, m.types].filter((x): x is string => !!x),
        ...(typeof m.bin === 'string' ? [m.bin] : Object.values(m.bin ?? {})),
      ].map(norm);
      expect(targets.length).toBeGreaterThan(0);
      const f = files();
      expect(targets.filter((t) => !f.has(t))).toEqual([]);
    });

    it('depends only on published versions', () => {
      const problems: string[] = [];
      for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies'] as const) {
        for (const [dep, spec] of Object.entries(m[field] ?? {})) {
          if (spec === '*' || spec === '' || /^(file|link|workspace|portal|git\+?[a-z]*):/.test(spec)) problems.push(`${field}.${dep}: "${spec}" only resolves inside this repository`);
          const sibling = byName.get(dep);
          if (sibling?.private) problems.push(`${field}.${dep}: a private workspace package, never published`);
          if (sibling && !sibling.private && spec !== sibling.version) problems.push(`${field}.${dep}: "${spec}" but the repository has ${sibling.version}`);
        }
      }
      expect(problems).toEqual([]);
    });
  });
});
