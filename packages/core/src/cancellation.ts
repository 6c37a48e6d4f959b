import { CancelledError, isSeqlabError } from './errors.js';

/**
 * Throws a {@link CancelledError} when `signal` has been aborted. An abort reason that already is
 * a cancellation (e.g. "deadline of 30000 ms passed") is rethrown as it is, so callers see why.
 *
 * @param what Names the work in the message, e.g. `'generation'`.
 */
export function throwIfCancelled(signal: AbortSignal | undefined, what = 'work'): void {
  if (!signal?.aborted) return;
  const reason: unknown = signal.reason;
  if (isSeqlabError(reason) && reason.code === 'cancelled') throw reason;
  const why = reason instanceof Error ? `: ${reason.message}` : '';
  throw new CancelledError(`${what} was cancelled${why}`, { cause: reason });
}

/**
 * A checkpoint for long loops (training batches, generation steps, backtest windows): each call
 * throws a {@link CancelledError} once `signal` is aborted. Aborts usually arrive as a message
 * or a timer, which a busy loop would never let run, so the checkpoint also yields to the event
 * loop whenever `intervalMs` have passed since it last did. Without a signal it costs nothing
 * and never yields, so code that does not ask for cancellation behaves exactly as before.
 *
 * @example
 * ```ts
 * const checkpoint = cancellationCheckpoint(options.signal, 'training');
 * for (const batch of batches) {
 *   await checkpoint();
 *   step(batch);
 * }
 * ```
 */
export function cancellationCheckpoint(signal: AbortSignal | undefined, what = 'work', intervalMs = 10): () => Promise<void> {
  if (!signal) return () => Promise.resolve();
  let last = performance.now();
  return async () => {
    throwIfCancelled(signal, what);
    const now = performance.now();
    if (now - last < intervalMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    last = performance.now();
    throwIfCancelled(signal, what);
  };
}
