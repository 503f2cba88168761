/**
 * Where the worker thread's code is. Built packages (dist/ of the repository or of an npm
 * install) hold `rlr-worker.js` beside the pool code; running from the TypeScript sources
 * (vitest, tsx) there is only `rlr-worker.ts`, which is started through tsx.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface WorkerScript {
  /** The worker entry module. */
  url: URL;
  /** Whether it is TypeScript (needs tsx). */
  typescript: boolean;
}

export function workerScript(): WorkerScript {
  const js = new URL('./rlr-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return { url: js, typescript: false };
  const ts = new URL('./rlr-worker.ts', import.meta.url);
  if (existsSync(fileURLToPath(ts))) return { url: ts, typescript: true };
  throw new Error(`@rlr/core/node: the worker script ${fileURLToPath(js)} is missing; rebuild @rlr/core (npm run build) or reinstall it`);
}

/** File URL of tsx's ESM register API when tsx can be resolved from here, else null. */
export function tsxApi(): string | null {
  try {
    // require.resolve would give the CommonJS build, whose register() cannot load ESM hooks.
    const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
    const exports = (JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: Record<string, { import?: { default?: string } }> }).exports;
    const rel = exports?.['./esm/api']?.import?.default;
    return rel ? pathToFileURL(join(dirname(manifest), rel)).href : null;
  } catch {
    return null;
  }
}

/**
 * Code of an eval'd worker that registers tsx and then imports the TypeScript entry (a `.ts`
 * entry cannot be given to `new Worker` directly: the loader hooks must exist first).
 */
export function typescriptBootstrap(entry: URL, tsx: string): string {
  return `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); });`;
}
