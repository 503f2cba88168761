import * as tf from '@tensorflow/tfjs-core';
import { usageError } from './errors.js';

/** tfjs backends the CLI can run on, fastest first. */
export const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** Whether a backend can be used here, and why not. */
export interface BackendStatus {
  name: BackendName;
  available: boolean;
  /** Package that provides it. */
  package: string;
  /** Why it is unavailable (e.g. the optional package is not installed). */
  reason?: string;
}

const PACKAGES: Record<BackendName, string> = {
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

/*
 * Backend packages register themselves with tfjs-core when imported. tfjs-node is optional (its
 * install downloads libtensorflow), so it is imported by a computed specifier that bundlers leave
 * alone, and only when asked for or when picking the default.
 */
const loaders: Record<BackendName, () => Promise<unknown>> = {
  tensorflow: async () => {
    const spec = PACKAGES.tensorflow;
    try {
      return (await import(spec)) as unknown;
    } catch {
      return (await import(`${spec}-gpu`)) as unknown;
    }
  },
  wasm: () => import('@tensorflow/tfjs-backend-wasm'),
  cpu: () => import('@tensorflow/tfjs-backend-cpu'),
};

const probed = new Map<BackendName, Promise<BackendStatus>>();

/** Import the backend's package (once) and report whether tfjs-core now knows it. */
export function probeBackend(name: BackendName): Promise<BackendStatus> {
  let p = probed.get(name);
  if (!p) {
    p = (async (): Promise<BackendStatus> => {
      try {
        await loaders[name]();
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const reason = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' ? `${PACKAGES[name]} is not installed` : (e as Error).message.split('\n')[0];
        return { name, available: false, package: PACKAGES[name], reason };
      }
      // A tfjs-node built against another tfjs-core copy registers elsewhere: not usable from here.
      const ok = tf.findBackendFactory(name) !== null && tf.findBackendFactory(name) !== undefined;
      return ok
        ? { name, available: true, package: PACKAGES[name] }
        : { name, available: false, package: PACKAGES[name], reason: `${PACKAGES[name]} registered with a different @tensorflow/tfjs-core` };
    })();
    probed.set(name, p);
  }
  return p;
}

/** Status of every backend, fastest first. */
export async function probeBackends(): Promise<BackendStatus[]> {
  return Promise.all(BACKENDS.map((b) => probeBackend(b)));
}

/** Parse a `--backend` value (`auto` or a backend name). */
export function parseBackendName(value: string | undefined): BackendName | 'auto' {
  if (value === undefined || value === 'auto') return 'auto';
  if ((BACKENDS as readonly string[]).includes(value)) return value as BackendName;
  throw usageError(`--backend: unknown backend "${value}"`, `use one of auto, ${BACKENDS.join(', ')}`);
}

/**
 * Make `requested` the active tfjs backend, or with `auto` the fastest one that initialises
 * (tensorflow, then wasm, then cpu). Returns the backend in use.
 */
export async function initBackend(requested: BackendName | 'auto' = 'auto'): Promise<BackendName> {
  // The application decides: no debug checks, and no "install tfjs-node" banner from the cpu backend.
  tf.enableProdMode();
  const candidates: readonly BackendName[] = requested === 'auto' ? BACKENDS : [requested];
  const failures: string[] = [];
  for (const name of candidates) {
    const status = await probeBackend(name);
    if (!status.available) {
      failures.push(`${name}: ${status.reason}`);
      continue;
    }
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
      failures.push(`${name}: failed to initialise`);
    } catch (e) {
      failures.push(`${name}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  if (requested !== 'auto') {
    const hint =
      requested === 'tensorflow'
        ? 'install @tensorflow/tfjs-node (needs network access to download libtensorflow) or use --backend wasm'
        : 'use --backend auto to pick the fastest backend that works';
    throw usageError(`backend "${requested}" is not available (${failures.join('; ')})`, hint);
  }
  throw usageError(`no tfjs backend could be initialised (${failures.join('; ')})`, 'reinstall @rlr/cli with its dependencies (npm ci)');
}
