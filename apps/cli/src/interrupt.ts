/**
 * Ctrl-C for long work that takes an AbortSignal: the first SIGINT/SIGTERM aborts the signal (the
 * work stops at its next checkpoint and throws a `cancelled` error), a second one exits at once.
 */
export async function withInterrupt<T>(fn: (signal: AbortSignal) => Promise<T>, onInterrupted: (err: unknown) => Error): Promise<T> {
  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) {
      process.stderr.write('\nseqlab: interrupted again; exiting without waiting\n');
      process.exit(130);
    }
    process.stderr.write('\nseqlab: interrupt received; stopping (the last finished epoch is checkpointed)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn(controller.signal);
  } catch (err) {
    throw controller.signal.aborted ? onInterrupted(err) : err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
