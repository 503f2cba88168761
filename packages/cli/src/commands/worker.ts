import { resolve } from 'node:path';
import type { Command } from 'commander';
import { checkRedis, DEFAULT_QUEUE_NAME, QueueConnectionError, redactUrl, startQueueWorker } from '@rlr/serve';
import type { CommandContext } from '../context.js';
import { ioError, usageError } from '../errors.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { openPredictorFromFlags } from '../serve-predictor.js';
import { parseCount } from '../settings.js';

/** `--queue`, checked to answer, as the CLI's I/O error (exit 6) when it does not. */
export async function reachQueue(opts: Record<string, unknown>): Promise<string> {
  const url = opts.queue;
  if (typeof url !== 'string') throw usageError('--queue is required', 'pass --queue redis://host:6379/0');
  try {
    await checkRedis(url);
  } catch (e) {
    if (e instanceof QueueConnectionError) throw ioError(e.message, e.hint, e);
    throw e;
  }
  return url;
}

/** `rlr worker`: score queued images until SIGTERM / Ctrl-C, then finish the active jobs. */
export async function run(opts: Record<string, unknown>, ctx: CommandContext, _cmd: Command): Promise<ExitCodeValue> {
  const url = await reachQueue(opts); // before the model loads: a wrong --queue fails in seconds
  const runDir = resolve(ctx.cwd, String(opts.model));
  const concurrency = Math.max(1, opts.concurrency === undefined ? 4 : parseCount(opts.concurrency, '--concurrency'));
  const lockMs = opts.lockMs === undefined ? 30_000 : Math.max(1000, parseCount(opts.lockMs, '--lock-ms'));
  const queueName = (opts.queueName as string | undefined) ?? DEFAULT_QUEUE_NAME;
  const predictor = await openPredictorFromFlags(runDir, opts, ctx);
  let scored = 0;
  let failed = 0;
  let worker;
  try {
    worker = await startQueueWorker({
      url,
      queueName,
      predictor,
      concurrency,
      maxBatch: concurrency,
      lockDurationMs: lockMs,
      onJob: (e) => {
        if (e.ok) scored++;
        else {
          failed++;
          ctx.log.warn(`job ${e.id} failed: ${e.error}`);
        }
      },
    });
  } catch (e) {
    await predictor.close();
    if (e instanceof QueueConnectionError) throw ioError(e.message, e.hint, e);
    throw e;
  }
  ctx.log.result(`worker on ${redactUrl(url)} queue ${queueName}: scoring with ${runDir}, ${concurrency} job(s) at a time (stop with Ctrl-C or SIGTERM)`, { queue: redactUrl(url), queue_name: queueName, model: runDir, concurrency });
  await new Promise<void>((ok) => {
    if (ctx.signal.aborted) ok();
    else ctx.signal.addEventListener('abort', () => ok(), { once: true });
  });
  ctx.log.info('stopping: finishing the active jobs');
  await worker.close();
  await predictor.close();
  ctx.log.info(`stopped after ${scored} scored and ${failed} failed job(s)`);
  return ExitCode.ok;
}
