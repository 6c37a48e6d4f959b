import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { isSeqlabError } from '@seqlab/core';

/** Machine-readable error codes the API returns in `error.code`. */
export type ErrorCode =
  | 'invalid_request'
  | 'invalid_json'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'not_found'
  | 'method_not_allowed'
  | 'rate_limited'
  | 'model_unavailable'
  | 'overloaded'
  | 'timeout'
  | 'limit_exceeded'
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

/** Errors thrown by the model worker carry one of these kinds so they map to the right status. */
export type WorkerErrorKind = 'bad_input' | 'model_unavailable' | 'cancelled' | 'limit_exceeded' | 'worker_fault' | 'internal';

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

/** Maps anything thrown to an HttpError (unknown errors become a 500 without internals). */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof z.ZodError) return HttpError.fromZod(err);
  if (err instanceof WorkerError) {
    if (err.kind === 'bad_input') return new HttpError(400, 'invalid_request', err.message, err.details);
    if (err.kind === 'limit_exceeded') return new HttpError(422, 'limit_exceeded', err.message, err.details);
    if (err.kind === 'model_unavailable') return new HttpError(503, 'model_unavailable', err.message);
    if (err.kind === 'cancelled') return new HttpError(503, 'timeout', err.message);
    if (err.kind === 'worker_fault') return new HttpError(500, 'worker_fault', err.message);
  }
  // Cost limits and option ranges checked on the HTTP thread, before a worker sees the task.
  if (isSeqlabError(err)) {
    if (err.code === 'limit_exceeded') return new HttpError(422, 'limit_exceeded', err.message, err.details);
    if (err.code === 'bad_input') return new HttpError(400, 'invalid_request', err.message, err.details);
    if (err.code === 'cancelled') return new HttpError(503, 'timeout', err.message);
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
    if (httpError.status >= 500 && httpError.code === 'internal') logger.error({ err, url: req.originalUrl }, 'request failed');
    if (res.headersSent) {
      // Either the timeout already answered, or a stream had started: just make sure it ends.
      if (!res.writableEnded) res.end();
      return;
    }
    const body: { error: { code: ErrorCode; message: string; details?: unknown } } = {
      error: { code: httpError.code, message: httpError.message },
    };
    if (httpError.details) body.error.details = httpError.details;
    res.status(httpError.status).json(body);
  };
}
