import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandContext } from './check-commands.js';

/** The repository root: the nearest ancestor holding `turbo.json`. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'turbo.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('docs-check: no turbo.json above this file');
    dir = up;
  }
  return dir;
}

interface PackageJson {
  name?: string;
  version?: string;
  workspaces?: string[];
  scripts?: Record<string, string>;
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** Workspace folders (relative) and their package.json, from the root's `workspaces` globs. */
export function workspaces(root = repoRoot()): Map<string, PackageJson> {
  const out = new Map<string, PackageJson>();
  for (const glob of readJson<PackageJson>(join(root, 'package.json')).workspaces ?? []) {
    const parent = glob.replace(/\/\*$/, '');
    const dirs = glob.endsWith('/*') ? readdirSync(join(root, parent)).map((d) => `${parent}/${d}`) : [glob];
    for (const dir of dirs) {
      const pj = join(root, dir, 'package.json');
      if (existsSync(pj)) out.set(dir, readJson<PackageJson>(pj));
    }
  }
  return out;
}

/** Everything `checkScript` needs to know about this repository. */
export function commandContext(root = repoRoot()): CommandContext {
  const ws = workspaces(root);
  const lock = readJson<{ packages: Record<string, { version?: string }> }>(join(root, 'package-lock.json'));
  const lockVersions = new Map<string, string>();
  for (const [key, meta] of Object.entries(lock.packages)) {
    const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)$/.exec(key);
    if (m && meta.version && !lockVersions.has(m[1])) lockVersions.set(m[1], meta.version);
  }
  const byWorkspace = new Map<string, Set<string>>();
  for (const [dir, pj] of ws) {
    const scripts = new Set(Object.keys(pj.scripts ?? {}));
    byWorkspace.set(dir, scripts);
    if (pj.name) byWorkspace.set(pj.name, scripts);
  }
  const cli = join(root, 'packages/cli/dist/bin.js');
  const helps = new Map<string, string | undefined>();
  return {
    rlrHelp(sub) {
      if (!helps.has(sub)) {
        let text: string | undefined;
        try {
          text = execFileSync(process.execPath, [cli, sub, '--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        } catch {
          text = undefined;
        }
        helps.set(sub, text);
      }
      return helps.get(sub);
    },
    exists: (p) => existsSync(resolve(root, p)),
    workspaces: new Set([...ws.values()].map((p) => p.name!).filter(Boolean)),
    lockVersions,
    scripts: { root: new Set(Object.keys(readJson<PackageJson>(join(root, 'package.json')).scripts ?? {})), byWorkspace },
    optionalNative: new Map([
      ['@tensorflow/tfjs-node', '@tensorflow/tfjs-core'],
      ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-core'],
    ]),
  };
}
