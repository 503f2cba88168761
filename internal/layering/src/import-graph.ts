import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** The parts of a workspace package.json the layering check reads. */
export interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** One workspace package: its folder and manifest. */
export interface Workspace {
  dir: string;
  manifest: Manifest;
}

/** The folders of the npm workspaces (root package.json `workspaces`, `group/*` patterns). */
export const WORKSPACE_GROUPS = ['internal', 'packages', 'examples'] as const;

/** Every workspace package under `root` (folders of the workspace groups that hold a package.json). */
export function listWorkspaces(root: string): Workspace[] {
  return WORKSPACE_GROUPS.flatMap((group) => {
    const groupDir = join(root, group);
    if (!existsSync(groupDir)) return [];
    return readdirSync(groupDir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(join(groupDir, e.name, 'package.json')))
      .map((e) => {
        const dir = join(groupDir, e.name);
        return { dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest };
      });
  });
}

const SOURCE_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts'];
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'coverage']);

/** Every TypeScript file of a package (sources, tests, benches, configs), skipping build output. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || SKIPPED_DIRS.has(e.name)) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(path));
    else if (SOURCE_EXTENSIONS.some((x) => e.name.endsWith(x)) && !e.name.endsWith('.d.ts')) out.push(path);
  }
  return out.sort();
}

/**
 * The module specifiers a file imports: static imports and re-exports (type-only ones too, as a
 * type import still ties the two files together) and dynamic `import()` calls.
 */
export function moduleSpecifiers(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map((f) => f.fileName);
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`; undefined for relative paths and `node:` built-ins. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * The source file a relative specifier names (`./x.js` → `x.ts`, `./dir` → `dir/index.ts`), or
 * undefined when it names no TypeScript source (a JSON file, a built `dist` file).
 */
export function resolveRelative(fromFile: string, specifier: string): string | undefined {
  const base = resolve(dirname(fromFile), specifier);
  const candidates = [
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.js$/, '.tsx'),
    base.replace(/\.mjs$/, '.mts'),
    base.replace(/\.cjs$/, '.cts'),
    ...SOURCE_EXTENSIONS.map((x) => base + x),
    ...SOURCE_EXTENSIONS.map((x) => join(base, 'index' + x)),
  ];
  return candidates.find((c) => SOURCE_EXTENSIONS.some((x) => c.endsWith(x)) && existsSync(c) && statSync(c).isFile());
}

/** One file's imports, split into files of the same package and packages by name. */
export interface FileImports {
  files: string[];
  packages: string[];
  /** Relative specifiers that leave the package's folder (they should import the package instead). */
  escapes: string[];
}

/** What `file` (inside the package folder `packageDir`) imports. */
export function fileImports(file: string, packageDir: string): FileImports {
  const out: FileImports = { files: [], packages: [], escapes: [] };
  for (const spec of moduleSpecifiers(file)) {
    if (spec.startsWith('.')) {
      const target = resolveRelative(file, spec);
      if (target === undefined) continue;
      if (relative(packageDir, target).startsWith('..' + sep)) out.escapes.push(spec);
      else out.files.push(target);
    } else {
      const name = packageOf(spec);
      if (name !== undefined) out.packages.push(name);
    }
  }
  return out;
}

/**
 * The import cycles of a directed graph: every strongly connected component with more than one
 * node, or a node that imports itself, each given as one closed path (`a → b → … → a`, the first
 * node repeated at the end). Tarjan's algorithm.
 */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      components.push(component);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return components
    .filter((c) => c.length > 1 || (graph.get(c[0]) ?? []).includes(c[0]))
    .map((c) => closedPath(graph, new Set(c), [...c].sort()[0]));
}

/** A shortest path from `start` back to itself inside `members` (breadth-first). */
function closedPath(graph: ReadonlyMap<string, readonly string[]>, members: Set<string>, start: string): string[] {
  const parent = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        // Walk back from v to start through the parents, then read it forwards.
        const back: string[] = [];
        for (let u = v; u !== start; u = parent.get(u)!) back.push(u);
        return [start, ...back.reverse(), start];
      }
      if (!parent.has(w) && w !== start) {
        parent.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}
