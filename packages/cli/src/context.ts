import { Logger, type OutputMode } from './log.js';
import type { TextSink } from './progress.js';

/** What every command receives besides its options. */
export interface CommandContext {
  log: Logger;
  /** Print stack traces and extra detail. */
  verbose: boolean;
  /** Aborted on the first Ctrl-C / SIGTERM: long loops stop at the next safe point and save. */
  signal: AbortSignal;
  /** Folder relative paths on the command line resolve against. */
  cwd: string;
  stdout: TextSink;
  stderr: TextSink;
}

/** The output flags every command takes. */
export interface OutputFlags {
  /** `true` for the output flag; `rlr bench --json <file>` uses the name for a file path instead. */
  json?: boolean | string;
  quiet?: boolean;
  verbose?: boolean;
}

/** `--json` wins over `--quiet`; the default is human-readable text. */
export function outputMode(flags: OutputFlags): OutputMode {
  if (flags.json === true) return 'json';
  if (flags.quiet) return 'quiet';
  return 'human';
}
