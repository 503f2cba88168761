import { DataError } from '@rlr/data';
import { asEngineError, type EngineErrorKind } from '@rlr/engine';
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

/** A file system failure (disk full, read-only, permission denied, …) on a path the message names. */
export function ioError(message: string, hint?: string, cause?: unknown): CliError {
  return new CliError(message, ExitCode.io, hint, { cause });
}

/** Thrown (and caught by the runner) when the user interrupted a command that then saved its state. */
export class InterruptedError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.interrupted, hint);
  }
}

/** The exit code of each kind of @rlr/engine error. */
const ENGINE_EXIT_CODES: Record<EngineErrorKind, ExitCodeValue> = {
  usage: ExitCode.usage,
  data: ExitCode.data,
  model: ExitCode.model,
  interrupted: ExitCode.interrupted,
};

/** Whether `err` reports an interruption (the CLI's own, or @rlr/engine's). */
export function isInterrupted(err: unknown): boolean {
  return err instanceof InterruptedError || asEngineError(err)?.kind === 'interrupted';
}

interface Rule {
  test: RegExp;
  exitCode: ExitCodeValue;
  /** The fix; a function gets the message (e.g. to name the folder in it). */
  hint: string | ((message: string) => string);
}

/** The fix for an unusable checkpoint, naming its run folder when the message has the path. */
function checkpointHint(message: string): string {
  const run = /((?:[A-Za-z]:)?[\\/][^\s'"]*?)[\\/]checkpoint(?:[\\/'":\s]|$)/.exec(message)?.[1];
  const folder = run ? `${run}/checkpoint` : "the run's checkpoint/ folder";
  const resume = run ? `rlr train --out ${run} --resume` : 'rlr train --out <run> --resume';
  return `delete (or move away) ${folder} and rerun \`${resume}\` to train that run from the start, or start afresh with \`rlr train … --out <new folder>\``;
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
    test: /checkpoint/i,
    exitCode: ExitCode.model,
    hint: checkpointHint,
  },
  {
    test: /safetensors|weights?\b|model\.json|config\.json/i,
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
];

/** `err` as a DataError, also when it comes from another bundle of @rlr/data (e.g. its CommonJS build). */
export function asDataError(err: unknown): DataError | undefined {
  if (err instanceof DataError) return err;
  const e = err as Partial<DataError> | null;
  return err instanceof Error && e?.name === 'DataError' && typeof e.subject === 'string' && typeof e.problem === 'string' && typeof e.fix === 'string' ? (err as DataError) : undefined;
}

/** What each file-system error code means, for the message. */
const IO_CODES: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'a folder is where a file is expected',
  ENOTDIR: 'a file is where a folder is expected',
  EEXIST: 'something already exists at that path',
  ENAMETOOLONG: 'the path is too long',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EIO: 'an input/output error (a failing disk or network file system)',
  EBUSY: 'the file is busy (locked by another program)',
  ETXTBSY: 'the file is busy',
  EFBIG: 'the file is too large for the file system',
  EXDEV: 'a rename across file systems',
};

/** The fix for a file-system error `code` on `path`. */
function ioHint(code: string, path: string | undefined): string {
  const where = path ? ` ${path}` : ' the path in the message';
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
    case 'EFBIG':
      return `free space on the disk that holds${where}, or pass an --out on another disk; an interrupted \`rlr train\` continues with --resume`;
    case 'EROFS':
    case 'EACCES':
    case 'EPERM':
      return `make${where} writable (or readable) for you, or pass an --out in a folder you can write to`;
    case 'EISDIR':
    case 'ENOTDIR':
    case 'EEXIST':
      return `a file and a folder are in each other's way at${where}: pass another --out (or --data), or move that file away`;
    case 'ENAMETOOLONG':
      return 'use a shorter --out (or dataset) path';
    case 'EMFILE':
    case 'ENFILE':
      return 'raise the open-file limit (ulimit -n 4096) or lower --workers, then rerun';
    default:
      return `check the disk that holds${where}, then rerun`;
  }
}

/** The first file-system error (one with a known errno `code`) in `err`'s chain of causes. */
export function fileSystemError(err: unknown): (NodeJS.ErrnoException & { code: string }) | undefined {
  for (let cur: unknown = err, depth = 0; cur instanceof Error && depth < 8; cur = cur.cause, depth++) {
    const code = (cur as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && Object.hasOwn(IO_CODES, code)) return cur as NodeJS.ErrnoException & { code: string };
    // Some layers rethrow with the errno only in the text, e.g. "ENOSPC: no space left on device, write".
    const m = /\b(E[A-Z]{2,12})\b[:,]/.exec(cur.message);
    if (m && Object.hasOwn(IO_CODES, m[1])) {
      const path = /'([^']+)'/.exec(cur.message)?.[1];
      return Object.assign(new Error(cur.message), { code: m[1], path });
    }
  }
  return undefined;
}

/** The exit code and fix for any thrown value. */
export function classifyError(err: unknown): { message: string; exitCode: ExitCodeValue; hint?: string } {
  if (err instanceof CliError) return { message: err.message, exitCode: err.exitCode, hint: err.hint };
  // @rlr/engine's errors say what kind they are and carry their fix.
  const engine = asEngineError(err);
  if (engine) return { message: engine.message, exitCode: ENGINE_EXIT_CODES[engine.kind], hint: engine.fix };
  // Disk full, read-only, permission denied…: their own class, naming the path.
  const fsError = fileSystemError(err);
  if (fsError) {
    const { code, path, syscall } = fsError;
    const what = syscall ? ` (${syscall})` : '';
    return {
      message: `${path ? `${path}: ` : ''}${IO_CODES[code]}${what} [${code}]`,
      exitCode: ExitCode.io,
      hint: ioHint(code, path),
    };
  }
  // @rlr/data's DataError carries the fix on its own: show it on its own line.
  const data = asDataError(err);
  if (data) return { message: `${data.subject}: ${data.problem}`, exitCode: ExitCode.data, hint: data.fix };
  const message = err instanceof Error ? err.message : String(err);
  const firstLine = message.split('\n')[0] ?? message;
  for (const rule of RULES) {
    if (rule.test.test(message)) return { message: firstLine, exitCode: rule.exitCode, hint: typeof rule.hint === 'string' ? rule.hint : rule.hint(message) };
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
