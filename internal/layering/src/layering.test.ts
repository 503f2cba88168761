import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fileImports, findCycles, listWorkspaces, sourceFiles, type Manifest } from './import-graph.js';
import { PACKAGE_RANKS } from './ranks.js';

/*
 * The layering of docs/architecture.md, read from the repository itself: every workspace
 * package has a rank (ranks.ts), its package.json names only @rlr packages of a lower rank, every
 * file imports only packages its package.json names, and no two files of a package import each
 * other, directly or through others.
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const workspaces = listWorkspaces(root);
const rel = (path: string) => relative(root, path);

type DependencyField = 'dependencies' | 'devDependencies' | 'peerDependencies' | 'optionalDependencies';
const RUNTIME_FIELDS: DependencyField[] = ['dependencies', 'peerDependencies', 'optionalDependencies'];
const ALL_FIELDS: DependencyField[] = [...RUNTIME_FIELDS, 'devDependencies'];
const names = (m: Manifest, fields: DependencyField[]) => new Set(fields.flatMap((f) => Object.keys(m[f] ?? {})));

/** Files that ship with the package: under src/, not tests. Tests, benches and configs may use dev dependencies. */
const shipped = (dir: string, file: string) => {
  const r = relative(dir, file);
  return r.startsWith('src/') && !/\.(test|bench)\.tsx?$/.test(r);
};

describe('findCycles', () => {
  it('finds none in a graph without cycles', () => {
    const g = new Map([['a', ['b', 'c']], ['b', ['c']], ['c', []]]);
    expect(findCycles(g)).toEqual([]);
  });

  it('gives each cycle as a closed path', () => {
    const g = new Map([['a', ['b']], ['b', ['c', 'd']], ['c', ['a']], ['d', []], ['e', ['e']]]);
    expect(findCycles(g).sort()).toEqual([['a', 'b', 'c', 'a'], ['e', 'e']]);
  });
});

describe('package layering', () => {
  it('finds the library packages', () => {
    const found = workspaces.map((w) => w.manifest.name);
    for (const name of ['@rlr/core', '@rlr/backbones', '@rlr/data', '@rlr/metrics', '@rlr/cli']) expect(found).toContain(name);
  });

  it('places every workspace package in the rank table (internal/layering/src/ranks.ts)', () => {
    const unplaced = workspaces.map((w) => w.manifest.name).filter((n) => !(n in PACKAGE_RANKS));
    expect(unplaced, 'add these packages to PACKAGE_RANKS in internal/layering/src/ranks.ts').toEqual([]);
  });

  it('each package.json names only @rlr packages below it', () => {
    const wrong: string[] = [];
    for (const w of workspaces) {
      const own = PACKAGE_RANKS[w.manifest.name];
      for (const dep of names(w.manifest, ALL_FIELDS)) {
        if (!dep.startsWith('@rlr/') || dep === w.manifest.name) continue;
        const rank = PACKAGE_RANKS[dep];
        if (rank === undefined || own === undefined || rank >= own) wrong.push(`${w.manifest.name} (rank ${own}) depends on ${dep} (rank ${rank})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('each file imports only @rlr packages its package.json names (dependencies for shipped src/ files)', () => {
    const wrong: string[] = [];
    for (const w of workspaces) {
      const any = names(w.manifest, ALL_FIELDS);
      const runtime = names(w.manifest, RUNTIME_FIELDS);
      for (const file of sourceFiles(w.dir)) {
        const allowed = shipped(w.dir, file) ? runtime : any;
        for (const pkg of fileImports(file, w.dir).packages) {
          if (pkg.startsWith('@rlr/') && pkg !== w.manifest.name && !allowed.has(pkg)) wrong.push(`${rel(file)} imports ${pkg}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('no relative import leaves its package (import the package by name instead)', () => {
    const wrong = workspaces.flatMap((w) =>
      sourceFiles(w.dir).flatMap((file) => fileImports(file, w.dir).escapes.map((spec) => `${rel(file)} imports ${spec}`)),
    );
    expect(wrong).toEqual([]);
  });
});

describe('file imports', () => {
  it.each(workspaces.map((w) => [w.manifest.name, w.dir] as const))('%s has no import cycle between its files', (_name, dir) => {
    const graph = new Map(sourceFiles(dir).map((file) => [file, fileImports(file, dir).files]));
    const cycles = findCycles(graph).map((c) => c.map(rel).join(' → '));
    expect(cycles).toEqual([]);
  });
});
