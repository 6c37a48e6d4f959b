import { BadInputError } from '@seqlab/core/base';

/**
 * Thrown for invalid arguments to seqlab/rnn functions; the message names the argument and the
 * value received. Code `bad_input`.
 */
export class RnnArgumentError extends BadInputError {
  override readonly name: string = 'RnnArgumentError';
}

export function positiveInt(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new RnnArgumentError(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function nonNegativeInt(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new RnnArgumentError(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function rate(name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new RnnArgumentError(`${name} must be a number in [0, 1), got ${JSON.stringify(value)}`);
  }
  return value;
}

export function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new RnnArgumentError(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}
