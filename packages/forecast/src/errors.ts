/** Thrown for bad forecasting input: the message names the argument, column or row at fault. */
export class ForecastInputError extends Error {
  override readonly name = 'ForecastInputError';
}

/** Throws a {@link ForecastInputError} unless `value` is a positive integer. */
export function positiveInt(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ForecastInputError(`${what} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/** Throws a {@link ForecastInputError} unless `value` is a non-negative integer. */
export function nonNegativeInt(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new ForecastInputError(`${what} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}
