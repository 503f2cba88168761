import { DataError } from '@rlr/data';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';

/**
 * An error the user can act on: one line saying what went wrong, one saying how to fix it, and the
 * exit code that classifies it.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Bad flag, config value or missing required setting. */
export function usageError(message: string, hint?: string): CliError {
  return new CliError(message, ExitCode.usage, hint);
}

/** Dataset or image problem. */
export function dataError(message: string, hint?: string, cause?: unknown): CliError {
  return new CliError(message, ExitCode.data, hint, { cause });
}

/** Model directory, checkpoint or weights problem. */
export function modelError(message: string, hint?: string, cause?: unknown): CliError {
  return new CliError(message, ExitCode.model, hint, { cause });
}

/** Thrown (and caught by the runner) when the user interrupted a command that then saved its state. */
export class InterruptedError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.interrupted, hint);
  }
}

interface Rule {
  test: RegExp;
  exitCode: ExitCodeValue;
  hint: string;
}

/*
 * Errors thrown by the packages are plain `Error`s whose messages name the file or setting at
 * fault (docs/architecture.md). These rules only classify them and add the fix; the first match
 * wins, so the more specific patterns come first.
 */
const RULES: Rule[] = [
  {
    test: /training diverged/i,
    exitCode: ExitCode.usage,
    hint: 'lower --lr (the paper uses 1e-4), or check the training images; a checkpointed run continues with --resume',
  },
  {
    test: /offline|RLR_OFFLINE|not in the cache|no cached|could not (fetch|download)|fetch failed|ENOTFOUND|EAI_AGAIN|ECONNREFUSED/i,
    exitCode: ExitCode.model,
    hint: 'pass local weights with --weights <path>, put them in the weight cache (see `rlr info`), or use --weights random to calibrate a randomly initialised backbone',
  },
  {
    test: /safetensors|checkpoint|weights?\b|model\.json|config\.json/i,
    exitCode: ExitCode.model,
    hint: 'check --model / --weights: a run directory written by `rlr train` holds model/config.json and model/weights.safetensors',
  },
  {
    test: /unsupported image format|Input buffer contains unsupported|corrupt|premature end|VipsJpeg|pngload|could not decode|cannot decode|unreadable/i,
    exitCode: ExitCode.data,
    hint: 'remove or replace the unreadable image (supported: PNG, JPEG, WebP, TIFF, BMP-free formats sharp reads)',
  },
  {
    test: /ENOENT|no such file|not found|does not exist|no images|no categor|split_csv|1cls\.csv|train\/good|ground_truth|normal_dir|normalDir/i,
    exitCode: ExitCode.data,
    hint: 'check --data and --format (mvtec: <root>/<category>/train/good, visa: <root>/split_csv/1cls.csv, folder: --normal-dir …)',
  },
  {
    test: /EACCES|EPERM|permission denied/i,
    exitCode: ExitCode.data,
    hint: 'check the file permissions of the path in the message',
  },
];

/** `err` as a DataError, also when it comes from another bundle of @rlr/data (e.g. its CommonJS build). */
function asDataError(err: unknown): DataError | undefined {
  if (err instanceof DataError) return err;
  const e = err as Partial<DataError> | null;
  return err instanceof Error && e?.name === 'DataError' && typeof e.subject === 'string' && typeof e.problem === 'string' && typeof e.fix === 'string' ? (err as DataError) : undefined;
}

/** The exit code and fix for any thrown value. */
export function classifyError(err: unknown): { message: string; exitCode: ExitCodeValue; hint?: string } {
  if (err instanceof CliError) return { message: err.message, exitCode: err.exitCode, hint: err.hint };
  // @rlr/data's DataError carries the fix on its own: show it on its own line.
  const data = asDataError(err);
  if (data) return { message: `${data.subject}: ${data.problem}`, exitCode: ExitCode.data, hint: data.fix };
  const message = err instanceof Error ? err.message : String(err);
  const firstLine = message.split('\n')[0] ?? message;
  for (const rule of RULES) {
    if (rule.test.test(message)) return { message: firstLine, exitCode: rule.exitCode, hint: rule.hint };
  }
  return {
    message: firstLine,
    exitCode: ExitCode.internal,
    hint: 'this looks like a bug: rerun with --verbose and report the output',
  };
}

/**
 * The text printed for an error: `error: <message>` and `  fix: <hint>`, plus the stack (and the
 * chain of causes) with `verbose`.
 */
export function formatError(err: unknown, verbose: boolean): string {
  const { message, hint } = classifyError(err);
  const lines = [`error: ${message}`];
  if (hint) lines.push(`  fix: ${hint}`);
  if (verbose) {
    let cur: unknown = err;
    while (cur) {
      lines.push(cur instanceof Error ? (cur.stack ?? String(cur)) : String(cur));
      cur = cur instanceof Error ? cur.cause : undefined;
      if (cur) lines.push('caused by:');
    }
  }
  return lines.join('\n');
}
