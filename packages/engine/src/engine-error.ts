/**
 * Errors the engine raises on purpose: what went wrong, the fix (in `rlr` flag names, which is
 * also what a library user changes), and a kind the CLI turns into its exit code.
 */

/** `usage`: a bad setting; `data`: images or dataset; `model`: model folder or weights; `interrupted`: stopped by a signal. */
export type EngineErrorKind = 'usage' | 'data' | 'model' | 'interrupted';

/** An error the user can act on. */
export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly kind: EngineErrorKind,
    message: string,
    readonly fix?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** `err` as an EngineError, also when it comes from another bundle of @rlr/engine. */
export function asEngineError(err: unknown): EngineError | undefined {
  if (err instanceof EngineError) return err;
  const e = err as Partial<EngineError> | null;
  return err instanceof Error && e?.name === 'EngineError' && typeof e.kind === 'string' ? (err as EngineError) : undefined;
}
