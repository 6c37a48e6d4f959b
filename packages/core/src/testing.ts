import { memory } from '@tensorflow/tfjs-core';

/** Thrown by {@link expectNoLeakedTensors} when a function leaves tensors behind. */
export class TensorLeakError extends Error {
  override readonly name = 'TensorLeakError';
}

/**
 * Runs `fn` and fails if the number of live tensors afterwards differs from before (beyond
 * `allowed` extra tensors that `fn` returns on purpose). Every package's tests use it.
 *
 * @example
 * ```ts
 * await expectNoLeakedTensors(() => model.predict(x).dispose());
 * ```
 */
export async function expectNoLeakedTensors<T>(
  fn: () => T | Promise<T>,
  options: { allowed?: number; label?: string } = {},
): Promise<T> {
  const before = memory().numTensors;
  const result = await fn();
  const after = memory().numTensors;
  const allowed = options.allowed ?? 0;
  if (after - before !== allowed) {
    const what = options.label ? ` in ${options.label}` : '';
    throw new TensorLeakError(
      `tensor leak${what}: ${after - before} tensors left behind (before ${before}, after ${after}, allowed ${allowed})`,
    );
  }
  return result;
}

/** Live tensors right now (a shorthand for tests that sample memory in loops). */
export function liveTensors(): number {
  return memory().numTensors;
}
