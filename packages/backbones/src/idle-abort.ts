/**
 * The abort signal of one download attempt: it fires when the caller's signal does, or when no
 * bytes arrive for `timeoutMs` (connect and idle timeout alike). Call `arm()` whenever data
 * arrives and `dispose()` when the attempt ends.
 */
export interface IdleAbort {
  signal: AbortSignal;
  /** (Re)start the idle timer. */
  arm(): void;
  /** Whether the attempt was ended by the timer (not by the caller). */
  timedOut(): boolean;
  /** Stop the timer and stop listening to the caller's signal. */
  dispose(): void;
}

/** An {@link IdleAbort} for `timeoutMs`, tied to the caller's `signal`; the timer starts armed. */
export function idleAbort(timeoutMs: number, signal: AbortSignal | undefined, what: string): IdleAbort {
  const controller = new AbortController();
  let fired = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      fired = true;
      controller.abort(new Error(`no data ${what}for ${timeoutMs / 1000} s`));
    }, timeoutMs);
  };
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  arm();
  return {
    signal: controller.signal,
    arm,
    timedOut: () => fired,
    dispose() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}
