/**
 * Entry of a {@link WorkerPool} thread (built as its own file, `dist/rlr-worker.js`): imports
 * the backend module(s) the application named, selects the backend, then serves requests one
 * at a time (each request's tensors are its own; running them in order keeps results
 * independent of message timing).
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { runTask, setModuleImporter } from './worker-tasks.js';
import type { SerializedError, TaskReply, TaskRequest, WorkerInit } from './worker-protocol.js';

const init = workerData as WorkerInit;
const port = parentPort;
if (!port) throw new Error('@rlr/core/node: rlr-worker is a worker_threads entry; create it through createWorkerPool()');

let tsxRegistered = false;

/** Import a module; TypeScript sources (a package run from its sources) go through tsx. */
async function importModule(specifier: string): Promise<Record<string, unknown>> {
  if (/\.[mc]?ts$/.test(specifier) && !tsxRegistered) {
    if (!init.tsx) throw new Error(`cannot import the TypeScript module ${specifier}: tsx is not installed; build the package and use its dist/ files`);
    const api = (await import(init.tsx)) as { register: () => unknown };
    api.register();
    tsxRegistered = true;
  }
  return (await import(specifier)) as Record<string, unknown>;
}
setModuleImporter(importModule);

function serialize(e: unknown): SerializedError {
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: err.name, message: err.message, stack: err.stack };
}

function reply(message: TaskReply, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

async function start(): Promise<{ backend: string }> {
  for (const m of init.modules) {
    try {
      await importModule(m);
    } catch (e) {
      throw new Error(`cannot import the backend module "${m}": ${(e as Error).message}`);
    }
  }
  if (init.prod) tf.enableProdMode();
  if (!tf.findBackendFactory(init.backend)) {
    throw new Error(
      `tfjs backend "${init.backend}" is not available after importing ${init.modules.join(', ')}; ` +
        'pass the backend package that registers it as backendModule (e.g. @tensorflow/tfjs-backend-wasm for "wasm")',
    );
  }
  let ok: boolean;
  try {
    ok = await tf.setBackend(init.backend);
  } catch (e) {
    throw new Error(`tfjs backend "${init.backend}" failed to initialise: ${(e as Error).message}`);
  }
  if (!ok) throw new Error(`tfjs backend "${init.backend}" failed to initialise in the worker`);
  await tf.ready();
  return { backend: tf.getBackend() };
}

let queue: Promise<void> = start().then(
  (result) => reply({ id: 0, ok: true, result }),
  (e) => reply({ id: 0, ok: false, error: serialize(e) }),
);

port.on('message', (req: TaskRequest) => {
  queue = queue.then(async () => {
    try {
      const r = await runTask(req.task, req.payload);
      reply({ id: req.id, ok: true, result: r?.result }, r?.transfer);
    } catch (e) {
      reply({ id: req.id, ok: false, error: serialize(e) });
    }
  });
});
