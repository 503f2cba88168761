import { resolve } from 'node:path';
import type { Command } from 'commander';
import { startService } from '@rlr/serve';
import type { CommandContext } from '../context.js';
import { usageError } from '../errors.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { openPredictorFromFlags } from '../serve-predictor.js';
import { parseCount } from '../settings.js';

/** A positive number flag. */
function positive(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw usageError(`${flag}: "${String(value)}" is not a positive number`, `pass e.g. ${flag} ${fallback}`);
  return n;
}

/** The service limits from the flags (defaults: 20 MB, 30 s, 32 in flight, batches of 8, 5 ms). */
export function serviceLimits(opts: Record<string, unknown>) {
  const port = opts.port === undefined ? 8080 : parseCount(opts.port, '--port');
  if (port > 65535) throw usageError(`--port: ${port} is not a TCP port`, 'pass 0-65535 (0 picks a free port)');
  return {
    port,
    host: (opts.host as string | undefined) ?? '127.0.0.1',
    maxBodyBytes: Math.round(positive(opts.maxBodyMb, '--max-body-mb', 20) * 1024 * 1024),
    timeoutMs: positive(opts.timeoutMs, '--timeout-ms', 30_000),
    maxQueue: Math.max(1, opts.maxQueue === undefined ? 32 : parseCount(opts.maxQueue, '--max-queue')),
    maxBatch: Math.max(1, opts.maxBatch === undefined ? 8 : parseCount(opts.maxBatch, '--max-batch')),
    batchWaitMs: opts.batchWaitMs === undefined ? 5 : parseCount(opts.batchWaitMs, '--batch-wait-ms'),
  };
}

/** `rlr serve`: score images over HTTP until SIGTERM / Ctrl-C, then finish the requests in flight. */
export async function run(opts: Record<string, unknown>, ctx: CommandContext, _cmd: Command): Promise<ExitCodeValue> {
  const runDir = resolve(ctx.cwd, String(opts.model));
  const limits = serviceLimits(opts);
  const predictor = await openPredictorFromFlags(runDir, opts, ctx);
  let service;
  try {
    service = await startService(predictor, limits);
  } catch (e) {
    await predictor.close();
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') throw usageError(`--port ${limits.port}: the address ${limits.host}:${limits.port} is already in use`, 'pass another --port, or stop the other server');
    throw e;
  }
  ctx.log.result(`serving ${runDir} on ${service.url} (POST an image to ${service.url}/v1/predict; GET /healthz, /readyz, /metrics)`, { url: service.url, model: runDir, ...limits });
  await new Promise<void>((ok) => {
    if (ctx.signal.aborted) ok();
    else ctx.signal.addEventListener('abort', () => ok(), { once: true });
  });
  ctx.log.info('shutting down: finishing the requests in flight');
  await service.close();
  ctx.log.info('stopped');
  return ExitCode.ok;
}
