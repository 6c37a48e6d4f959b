import { CommanderError } from 'commander';
import { ZodError } from 'zod';

/**
 * Exit codes of the `seqlab` command. Scripts may rely on these; they are documented in the
 * README and printed by `seqlab --help`.
 */
export const EXIT = Object.freeze({
  /** Success. */
  ok: 0,
  /** The work itself failed (training diverged, a package threw an unexpected error, ...). */
  runtime: 1,
  /** Bad usage or bad input: an unknown option or column, an out-of-range value, non-numeric data. */
  usage: 2,
  /** A file or model that was named does not exist (or is not a readable model). */
  notFound: 3,
  /** Interrupted by SIGINT/SIGTERM; a checkpoint was written when training. */
  interrupted: 130,
});

/** The kinds of failure `handleError` distinguishes. */
export type ErrorKind = 'usage' | 'input' | 'not-found' | 'runtime' | 'interrupted';

/** A failure the CLI expects and can describe in one line. */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A bad option value or a bad combination of options (exit 2). */
export class UsageError extends CliError {
  override readonly name = 'UsageError';
  constructor(message: string) {
    super('usage', message);
  }
}

/** Input data the command cannot use: an unknown column, non-numeric values, an empty file (exit 2). */
export class InputError extends CliError {
  override readonly name = 'InputError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('input', message, options);
  }
}

/** A named file, directory or model that does not exist (exit 3). */
export class NotFoundError extends CliError {
  override readonly name = 'NotFoundError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('not-found', message, options);
  }
}

/** The run was interrupted by a signal (exit 130). */
export class InterruptedError extends CliError {
  override readonly name = 'InterruptedError';
  constructor(message: string) {
    super('interrupted', message);
  }
}

const EXIT_BY_KIND: Record<ErrorKind, number> = {
  usage: EXIT.usage,
  input: EXIT.usage,
  'not-found': EXIT.notFound,
  runtime: EXIT.runtime,
  interrupted: EXIT.interrupted,
};

/*
 * Errors thrown by the seqlab packages, recognised by name so the CLI does not need to import
 * every error class (and keeps working when a package adds one). Names map to the kind of
 * failure they describe from the user's point of view.
 */
const PACKAGE_ERROR_KINDS: Record<string, ErrorKind> = {
  ModelFileError: 'not-found',
  ModelNotFoundError: 'not-found',
  CsvError: 'input',
  CsvParseError: 'input',
  DataError: 'input',
  SeriesError: 'input',
  ValidationError: 'input',
  ForecastInputError: 'input',
  RnnArgumentError: 'usage',
  TokenizeFormatError: 'input',
  EmbeddingsError: 'input',
  ConfigError: 'usage',
  RangeError: 'usage',
};

interface ErrnoLike {
  code?: unknown;
  path?: unknown;
  syscall?: unknown;
}

/** The kind and one-line message for any thrown value. */
export function describeError(err: unknown): { kind: ErrorKind; message: string; exitCode: number } {
  let kind: ErrorKind = 'runtime';
  let message: string;
  if (err instanceof CliError) {
    kind = err.kind;
    message = err.message;
  } else if (err instanceof ZodError) {
    kind = 'usage';
    message = formatZodError(err);
  } else if (err instanceof CommanderError) {
    kind = 'usage';
    message = err.message.replace(/^error:\s*/, '');
  } else if (err instanceof Error) {
    const errno = err as ErrnoLike;
    if (errno.code === 'ENOENT') {
      kind = 'not-found';
      message = typeof errno.path === 'string' ? `file not found: ${errno.path}` : err.message;
    } else if (errno.code === 'EISDIR' || errno.code === 'ENOTDIR') {
      kind = 'usage';
      message = err.message;
    } else {
      kind = PACKAGE_ERROR_KINDS[err.name] ?? PACKAGE_ERROR_KINDS[err.constructor.name] ?? 'runtime';
      message = err.message;
    }
  } else {
    message = String(err);
  }
  // One line: package messages sometimes carry detail after a newline; --verbose shows it.
  const firstLine = message.split('\n')[0]!.trim() || 'unknown error';
  return { kind, message: firstLine, exitCode: EXIT_BY_KIND[kind] };
}

/** Formats zod issues as `--max-tokens: expected a positive integer, got "abc"`. */
export function formatZodError(err: ZodError): string {
  return err.issues
    .map((issue) => {
      const key = issue.path.map(String).join('.');
      return key ? `${optionFlag(key)}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

/** `maxTokens` -> `--max-tokens`. */
export function optionFlag(key: string): string {
  if (/^\d+$/.test(key)) return `argument ${Number(key) + 1}`;
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Options of {@link handleError}. */
export interface HandleErrorOptions {
  /** Print the stack trace (and causes) after the one-line message. */
  verbose?: boolean;
  /** Also print `{ "error": { kind, message, exitCode } }` to stdout for `--json` callers. */
  json?: boolean;
}

/**
 * The one place errors become output: a single `seqlab: <message>` line on stderr (plus the
 * stack with `--verbose`, plus a JSON error object on stdout with `--json`) and the exit code
 * for the error's kind in `process.exitCode`. Never calls `process.exit`, so pending output
 * is flushed and tests can drive commands in-process.
 */
export function handleError(err: unknown, options: HandleErrorOptions = {}): number {
  const { kind, message, exitCode } = describeError(err);
  // Commander already printed its own message for parse errors.
  if (!(err instanceof CommanderError)) process.stderr.write(`seqlab: ${message}\n`);
  if (options.verbose && err instanceof Error) {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    let cause = err.cause;
    while (cause instanceof Error) {
      process.stderr.write(`caused by: ${cause.stack ?? cause.message}\n`);
      cause = cause.cause;
    }
  }
  if (options.json) process.stdout.write(`${JSON.stringify({ error: { kind, message, exitCode } })}\n`);
  process.exitCode = exitCode;
  return exitCode;
}
