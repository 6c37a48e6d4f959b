import path from 'node:path';
import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { isSeqlabError, type SeqlabErrorCode } from '@seqlab/core';
import { REPO_ROOT } from './config.js';

/** A request URL with any `key=` query value replaced (the job events stream accepts `?key=`), for logs. */
export function redactKeyFromUrl(url: string): string {
  return url.replace(/([?&]key=)[^&#]*/gi, '$1[redacted]');
}

/** Machine-readable error codes the API returns in `error.code`. */
export type ErrorCode =
  | 'invalid_request'
  | 'invalid_json'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'not_found'
  | 'bad_input'
  | 'unauthorized'
  | 'forbidden'
  | 'jobs_disabled'
  | 'admin_disabled'
  | 'method_not_allowed'
  | 'rate_limited'
  | 'model_unavailable'
  | 'model_file_corrupt'
  | 'unsupported'
  | 'limit_exceeded'
  | 'overloaded'
  | 'timeout'
  | 'shutting_down'
  | 'worker_fault'
  | 'internal';

/** One field problem inside a 400 answer. */
export interface FieldIssue {
  /** Dotted path of the field, e.g. `texts.2` or `horizon`. */
  field: string;
  message: string;
}

/**
 * The one error type handlers throw. The error middleware turns it into
 * `{ error: { code, message, details? } }` with `status`.
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: FieldIssue[] | Record<string, unknown>,
  ) {
    super(message);
  }

  /** 400 from a zod error, naming every failing field (the first one in the message). */
  static fromZod(error: z.ZodError, where = 'body'): HttpError {
    const details = error.issues.map((i) => ({ field: i.path.length ? i.path.join('.') : where, message: i.message }));
    const first = details[0]!;
    const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
    return new HttpError(400, 'invalid_request', `${first.field}: ${first.message}${more}`, details);
  }
}

/**
 * What a model worker or the worker pool reports with an error: the {@link SeqlabErrorCode} of
 * what the packages threw, `model_unavailable` when the service was started without the model
 * (or it is missing), `worker_fault` when the worker's backend broke (the worker is replaced),
 * `shutting_down` for work the shutdown timeout cut off.
 */
export type WorkerErrorKind = SeqlabErrorCode | 'model_unavailable' | 'worker_fault' | 'shutting_down';

/** An error reported by a model worker. */
export class WorkerError extends Error {
  override readonly name = 'WorkerError';
  constructor(
    readonly kind: WorkerErrorKind,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/**
 * The one table from error code to HTTP status and response code. Every error the packages
 * throw on purpose carries a code; nothing here looks at class names or message text.
 */
export const HTTP_BY_CODE: Readonly<Record<WorkerErrorKind, { status: number; code: ErrorCode }>> = Object.freeze({
  bad_input: { status: 400, code: 'invalid_request' },
  not_found: { status: 404, code: 'not_found' },
  unsupported: { status: 422, code: 'unsupported' },
  limit_exceeded: { status: 422, code: 'limit_exceeded' },
  model_file_corrupt: { status: 500, code: 'model_file_corrupt' },
  cancelled: { status: 503, code: 'timeout' },
  internal: { status: 500, code: 'internal' },
  model_unavailable: { status: 503, code: 'model_unavailable' },
  // The worker's backend broke (wasm trap, out of memory, corrupt weights); it is being replaced.
  worker_fault: { status: 500, code: 'worker_fault' },
  // Work the shutdown timeout cut off: a clear answer to retry elsewhere, not a reset connection.
  shutting_down: { status: 503, code: 'shutting_down' },
});

let hiddenRoots: string[] = [REPO_ROOT];

/** Registers folders (the models folder, the repository) whose absolute paths never appear in answers. */
export function hidePaths(...roots: string[]): void {
  hiddenRoots = [...new Set([...hiddenRoots, ...roots.map((r) => path.resolve(r))])].sort((a, b) => b.length - a.length);
}

/**
 * Removes server paths from a message: known roots become relative, and any other absolute path
 * is cut to its file name, so no answer reveals the server's file layout.
 */
export function redactPaths(message: string): string {
  let out = message;
  for (const root of hiddenRoots) out = out.split(root + path.sep).join('').split(root).join('.');
  return out.replace(/(^|[\s"'(=])\/(?:[^\s"'():]+\/)+([^\s"'():/]+)/g, '$1$2');
}

/** Maps anything thrown to an HttpError (unknown errors become a 500 without internals). */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof z.ZodError) return HttpError.fromZod(err);
  if (err instanceof WorkerError) {
    const { status, code } = HTTP_BY_CODE[err.kind] ?? HTTP_BY_CODE.internal;
    // An internal fault's message is for the logs, not for callers.
    return new HttpError(status, code, err.kind === 'internal' ? 'internal error' : redactPaths(err.message), err.details);
  }
  // Cost limits and option ranges are checked on the HTTP thread, before a worker sees the task.
  if (isSeqlabError(err)) {
    const { status, code } = HTTP_BY_CODE[err.code] ?? HTTP_BY_CODE.internal;
    return new HttpError(status, code, err.code === 'internal' ? 'internal error' : redactPaths(err.message), err.details);
  }
  // body-parser errors carry `type` and `status`.
  const e = err as { type?: string; status?: number; message?: string; limit?: number };
  if (e && typeof e === 'object') {
    if (e.type === 'entity.too.large')
      return new HttpError(413, 'payload_too_large', `request body exceeds the ${e.limit ?? ''} byte limit`.replace('  ', ' '));
    if (e.type === 'entity.parse.failed') return new HttpError(400, 'invalid_json', `body is not valid JSON: ${e.message ?? ''}`);
    if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported')
      return new HttpError(415, 'unsupported_media_type', e.message ?? 'unsupported encoding');
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500)
      return new HttpError(e.status, 'invalid_request', e.message ?? 'bad request');
  }
  return new HttpError(500, 'internal', 'internal error');
}

/** The single error middleware, mounted last. Logs 5xx with the stack, 4xx briefly. */
export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const httpError = toHttpError(err);
    if (httpError.status >= 500 && httpError.code === 'internal') logger.error({ err, url: redactKeyFromUrl(req.originalUrl) }, 'request failed');
    if (res.headersSent) {
      // Either the timeout already answered, or a stream had started: just make sure it ends.
      if (!res.writableEnded) res.end();
      return;
    }
    const body: { error: { code: ErrorCode; message: string; details?: unknown } } = {
      error: { code: httpError.code, message: redactPaths(httpError.message) },
    };
    if (httpError.details) body.error.details = httpError.details;
    res.status(httpError.status).json(body);
  };
}
