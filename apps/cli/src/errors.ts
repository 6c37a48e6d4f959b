import { CommanderError } from 'commander';
import type { ZodError } from 'zod';
import { isSeqlabError, SeqlabError, type SeqlabErrorCode } from '@seqlab/core/base';

/**
 * Exit codes of the `seqlab` command. Scripts may rely on these; they are documented in the
 * README and printed by `seqlab --help`.
 */
export const EXIT = Object.freeze({
  /** Success. */
  ok: 0,
  /** The work itself failed (training diverged, a fault inside seqlab or its runtime). */
  runtime: 1,
  /** Bad usage or bad input: an unknown option or column, an out-of-range value, non-numeric data, a request over a limit. */
  usage: 2,
  /** A file or model that was named does not exist. */
  notFound: 3,
  /** A model file exists but is corrupt, truncated or unreadable. */
  corrupt: 4,
  /** Interrupted by SIGINT/SIGTERM (or cancelled); a checkpoint was written when training. */
  interrupted: 130,
});

/**
 * The one table from error code to exit code. Every error seqlab throws on purpose carries a
 * {@link SeqlabErrorCode}; the CLI's own errors are SeqlabErrors too.
 */
export const EXIT_BY_CODE: Readonly<Record<SeqlabErrorCode, number>> = Object.freeze({
  bad_input: EXIT.usage,
  not_found: EXIT.notFound,
  unsupported: EXIT.usage,
  model_file_corrupt: EXIT.corrupt,
  limit_exceeded: EXIT.usage,
  cancelled: EXIT.interrupted,
  internal: EXIT.runtime,
});

/** A failure the CLI expects and can describe in one line. */
export class CliError extends SeqlabError {
  override readonly name: string = 'CliError';
}

/** A failure caused by what the user gave: options or data (code `bad_input`, exit 2). */
export abstract class BadInputCliError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('bad_input', message, options);
  }
}

/** A bad option value or a bad combination of options (exit 2). */
export class UsageError extends BadInputCliError {
  override readonly name: string = 'UsageError';
}

/** Input data the command cannot use: an unknown column, non-numeric values, an empty file (exit 2). */
export class InputError extends BadInputCliError {
  override readonly name: string = 'InputError';
}

/** A named file, directory or model that does not exist (exit 3). */
export class NotFoundError extends CliError {
  override readonly name: string = 'NotFoundError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('not_found', message, options);
  }
}

/** The run was interrupted by a signal (exit 130). */
export class InterruptedError extends CliError {
  override readonly name: string = 'InterruptedError';
  constructor(message: string) {
    super('cancelled', message);
  }
}

interface ErrnoLike {
  code?: unknown;
  path?: unknown;
}

function isZodError(err: unknown): err is ZodError {
  return err instanceof Error && err.name === 'ZodError' && Array.isArray((err as Partial<ZodError>).issues);
}

/** The error code and one-line message of anything thrown. */
export function classifyError(err: unknown): { code: SeqlabErrorCode; message: string } {
  if (isSeqlabError(err)) return { code: err.code, message: err.message };
  // By name, not instanceof: the program answers --version and --help without loading zod.
  if (isZodError(err)) return { code: 'bad_input', message: formatZodError(err) };
  if (err instanceof CommanderError) return { code: 'bad_input', message: err.message.replace(/^error:\s*/, '') };
  if (err instanceof Error) {
    // Node's own file errors from reading the user's files.
    const errno = err as ErrnoLike;
    if (errno.code === 'ENOENT') return { code: 'not_found', message: typeof errno.path === 'string' ? `file not found: ${errno.path}` : err.message };
    if (errno.code === 'EISDIR' || errno.code === 'ENOTDIR') return { code: 'bad_input', message: err.message };
    return { code: 'internal', message: err.message };
  }
  return { code: 'internal', message: String(err) };
}

/** The code, one-line message and exit code for any thrown value. */
export function describeError(err: unknown): { code: SeqlabErrorCode; message: string; exitCode: number } {
  const { code, message } = classifyError(err);
  // One line: package messages sometimes carry detail after a newline; --verbose shows it.
  const firstLine = message.split('\n')[0]!.trim() || 'unknown error';
  return { code, message: firstLine, exitCode: EXIT_BY_CODE[code] };
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
  /** Also print `{ "error": { code, message, exitCode } }` to stdout for `--json` callers. */
  json?: boolean;
}

/**
 * The one place errors become output: a single `seqlab: <message>` line on stderr (plus the
 * stack with `--verbose`, plus a JSON error object on stdout with `--json`) and the exit code
 * for the error's kind in `process.exitCode`. Never calls `process.exit`, so pending output
 * is flushed and tests can drive commands in-process.
 */
export function handleError(err: unknown, options: HandleErrorOptions = {}): number {
  const { code, message, exitCode } = describeError(err);
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
  if (options.json) process.stdout.write(`${JSON.stringify({ error: { code, message, exitCode } })}\n`);
  process.exitCode = exitCode;
  return exitCode;
}
