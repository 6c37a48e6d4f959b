import { BadInputError } from '@seqlab/core';

/** Thrown for bad forecasting input: the message names the argument, column or row at fault. Code `bad_input`. */
export class ForecastInputError extends BadInputError {
  override readonly name: string = 'ForecastInputError';
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
