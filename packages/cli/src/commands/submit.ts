import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_QUEUE_NAME, QueueConnectionError, redactUrl, submitAndWait } from '@rlr/serve';
import { writeFileAtomic } from '../atomic-write.js';
import type { CommandContext } from '../context.js';
import { dataError, ioError, InterruptedError } from '../errors.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { checkWritable } from '../paths.js';
import { parseCount } from '../settings.js';
import { collectImages } from './predict.js';
import { reachQueue } from './worker.js';

/** `rlr submit`: queue a folder of images for `rlr worker`s, wait, write predictions.jsonl. */
export async function run(opts: Record<string, unknown>, ctx: CommandContext, _cmd: Command, args: string[]): Promise<ExitCodeValue> {
  const out = resolve(ctx.cwd, (opts.out as string | undefined) ?? 'predictions.jsonl');
  await checkWritable(dirname(out), '--out');
  // http(s):// arguments are image URLs the workers fetch; the rest are files or folders here.
  const urls = args.filter((a) => /^https?:\/\//i.test(a));
  const local = args.filter((a) => !/^https?:\/\//i.test(a));
  const files = local.length ? await collectImages(local, ctx.cwd) : [];
  if (files.length + urls.length === 0) throw dataError(`no images found in ${args.join(', ')}`, 'pass image files (png, jpg, bmp, tif, webp), folders holding them, or http(s):// image URLs');
  const total = files.length + urls.length;
  const url = await reachQueue(opts);
  const queueName = (opts.queueName as string | undefined) ?? DEFAULT_QUEUE_NAME;
  const attempts = Math.max(1, opts.attempts === undefined ? 3 : parseCount(opts.attempts, '--attempts'));
  ctx.log.info(`submitting ${total} image(s)${urls.length ? ` (${urls.length} by URL)` : ''} to ${redactUrl(url)} queue ${queueName}`);
  const task = ctx.log.progress('score', total, 'img');
  let last = 0;
  let lines;
  try {
    lines = await submitAndWait({
      url,
      queueName,
      paths: files,
      urls,
      attempts,
      backoffMs: opts.backoffMs === undefined ? 1000 : parseCount(opts.backoffMs, '--backoff-ms'),
      signal: ctx.signal,
      onProgress: (done) => {
        task.tick(done - last);
        last = done;
      },
    });
  } catch (e) {
    task.done();
    if (e instanceof QueueConnectionError) throw ioError(e.message, e.hint, e);
    if (ctx.signal.aborted) throw new InterruptedError(`stopped waiting after ${last} of ${total} images; ${out} was not written, the jobs stay queued`, 'rerun the same rlr submit: finished jobs are not scored again');
    throw e;
  }
  task.done();
  await writeFileAtomic(out, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const failed = lines.filter((l) => l.error !== undefined);
  const anomalous = lines.filter((l) => l.label === 1).length;
  ctx.log.result(`${lines.length} image(s): ${anomalous} anomalous, ${failed.length} failed\npredictions: ${out}`, { predictions: out, images: lines.length, anomalous, failed: failed.length });
  if (failed.length > 0) {
    ctx.log.error(`error: ${failed.length} image(s) could not be scored (listed in ${out} with "error"), e.g. ${failed[0].path ?? failed[0].url}: ${failed[0].error}\n  fix: replace or remove those images and rerun rlr submit (scored images are not scored again)`);
    return ExitCode.data;
  }
  return ExitCode.ok;
}
