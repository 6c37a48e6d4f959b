/**
 * Stable, machine-readable error codes shared by every seqlab package and app. Apps map a code
 * to an HTTP status or an exit code in one table each; nothing matches class names or message
 * text.
 */
export type SeqlabErrorCode =
  /** The caller's input is wrong: an argument, option, file content, row or column. */
  | 'bad_input'
  /** A named model, file, column or resource does not exist. */
  | 'not_found'
  /** The request is valid but asks for something this build or backend cannot do. */
  | 'unsupported'
  /** A model file exists but is truncated, corrupt or does not match its manifest. */
  | 'model_file_corrupt'
  /** The request is valid but exceeds a configured cost or size limit (the message names it). */
  | 'limit_exceeded'
  /** The work was cancelled by its caller or stopped by its deadline. */
  | 'cancelled'
  /** A fault inside seqlab or its runtime (wasm trap, out of memory, non-finite weights). */
  | 'internal';

/** Every code, for tables that must cover them all. */
export const SEQLAB_ERROR_CODES: readonly SeqlabErrorCode[] = Object.freeze([
  'bad_input',
  'not_found',
  'unsupported',
  'model_file_corrupt',
  'limit_exceeded',
  'cancelled',
  'internal',
]);

/** Options every {@link SeqlabError} accepts. */
export interface SeqlabErrorOptions {
  /** The underlying error, kept for logs (never shown to API callers). */
  cause?: unknown;
  /** Structured detail for callers, e.g. `{ limit: 'maxSeriesLength', value: 12000, max: 10000 }`. */
  details?: Record<string, unknown>;
}

/**
 * The base class of every error seqlab throws on purpose. `code` is stable across versions;
 * `message` is for people and names the argument, file, row or column at fault.
 */
export class SeqlabError extends Error {
  override readonly name: string = 'SeqlabError';
  readonly details?: Record<string, unknown>;
  constructor(
    readonly code: SeqlabErrorCode,
    message: string,
    options: SeqlabErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.details) this.details = options.details;
  }
}

/**
 * The base of a {@link SeqlabError} subclass with a fixed code: one place for the constructor
 * the public classes below would otherwise each repeat. `instanceof` still works on both the
 * subclass and `SeqlabError`.
 */
function withCode(code: SeqlabErrorCode, name: string): new (message: string, options?: SeqlabErrorOptions) => SeqlabError {
  return class extends SeqlabError {
    override readonly name: string = name;
    constructor(message: string, options?: SeqlabErrorOptions) {
      super(code, message, options);
    }
  };
}

/** Bad arguments, options or data from the caller. */
export class BadInputError extends withCode('bad_input', 'BadInputError') {}

/** A model, file or column that does not exist. */
export class NotFoundError extends withCode('not_found', 'NotFoundError') {}

/** A valid request this build or backend cannot serve. */
export class UnsupportedError extends withCode('unsupported', 'UnsupportedError') {}

/** A valid request over a configured limit; `details.limit` names the limit. */
export class LimitExceededError extends withCode('limit_exceeded', 'LimitExceededError') {}

/** Work stopped because its caller went away or its deadline passed. */
export class CancelledError extends withCode('cancelled', 'CancelledError') {
  constructor(message = 'cancelled', options?: SeqlabErrorOptions) {
    super(message, options);
  }
}

/** A fault of seqlab or its runtime rather than of the input. */
export class InternalError extends withCode('internal', 'InternalError') {}

/** True for a {@link SeqlabError} (also across duplicated module instances, by shape). */
export function isSeqlabError(err: unknown): err is SeqlabError {
  if (err instanceof SeqlabError) return true;
  const e = err as { code?: unknown } | null;
  return (
    typeof e === 'object' && e !== null && err instanceof Error && typeof e.code === 'string' && (SEQLAB_ERROR_CODES as readonly string[]).includes(e.code)
  );
}
