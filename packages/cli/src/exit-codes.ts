/**
 * Exit codes of the `rlr` binary. Scripts can branch on them; the README documents the table.
 */
export const ExitCode = {
  /** The command did what it was asked. */
  ok: 0,
  /** A bug or an unexpected failure: rerun with `--verbose` and report the stack trace. */
  internal: 1,
  /** Bad command line or config file (unknown option, malformed value, missing required setting). */
  usage: 2,
  /** The input data cannot be used: dataset root missing, wrong format, unreadable image. */
  data: 3,
  /** Model or weights cannot be used: missing weights offline, not a run directory, incompatible checkpoint. */
  model: 4,
  /** The command finished but a quality gate failed (e.g. the demo's mean image AUROC < 0.9). */
  quality: 5,
  /**
   * A file or folder could not be read or written: permission denied, read-only file system, disk
   * full or over quota, a file where a folder is expected (or the reverse), too many open files.
   */
  io: 6,
  /** Interrupted by Ctrl-C / SIGINT / SIGTERM after saving what could be saved (128 + SIGINT). */
  interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
