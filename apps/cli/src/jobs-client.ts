/**
 * The HTTP side of `seqlab jobs`: where the service is, its JSON routes (errors as SeqlabErrors)
 * and a job's Server-Sent Events stream.
 */
import { SeqlabError, type SeqlabErrorCode } from '@seqlab/core/base';
import { UsageError } from './errors.js';

/** Where `seqlab jobs` finds the service and its key. */
export interface Service {
  url: string;
  key?: string;
}

/** The default service address, `$SEQLAB_URL` or the local `npm start`. */
export const DEFAULT_URL = 'http://127.0.0.1:3000';

/** A job as the service shows it (GET /v1/jobs/:id). */
export interface JobView {
  id: string;
  type: string;
  task: string;
  state: string;
  progress: Record<string, unknown> | null;
  result: { name: string; version: number } | null;
  error: { code: string; message: string } | null;
  [field: string]: unknown;
}

/** The service named by `--url`/`--key` or `$SEQLAB_URL`/`$SEQLAB_API_KEY`. */
export function serviceOf(opts: Record<string, unknown>): Service {
  const url = String(opts.url ?? process.env.SEQLAB_URL ?? DEFAULT_URL).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(url)) throw new UsageError(`--url: expected http(s)://host:port, got "${url}"`);
  const key = typeof opts.key === 'string' ? opts.key : process.env.SEQLAB_API_KEY;
  return { url, ...(key ? { key } : {}) };
}

/** The service's error answer as a SeqlabError (404 -> not found, other 4xx -> bad input, else internal). */
function answerError(status: number, body: unknown, what: string): SeqlabError {
  const e = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  const code: SeqlabErrorCode = status === 404 ? 'not_found' : status >= 400 && status < 500 ? 'bad_input' : 'internal';
  return new SeqlabError(code, `${what}: ${status} ${e?.code ?? ''}${e?.message ? `: ${e.message}` : ''}`.trim());
}

/** One JSON call; an error answer or an unreachable service throws a SeqlabError. */
export async function request(service: Service, method: string, url: string, body?: { json?: unknown; form?: FormData }): Promise<unknown> {
  const headers: Record<string, string> = service.key ? { authorization: `Bearer ${service.key}` } : {};
  if (body?.json !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(service.url + url, { method, headers, ...(body?.json !== undefined ? { body: JSON.stringify(body.json) } : body?.form ? { body: body.form } : {}) });
  } catch (err) {
    throw new SeqlabError('internal', `cannot reach the service at ${service.url} (${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}); set --url or SEQLAB_URL`);
  }
  const parsed = jsonOrUndefined(await res.text());
  if (!res.ok) throw answerError(res.status, parsed, `${method} ${url}`);
  return parsed;
}

/** The JSON of an answer; `undefined` for an empty or non-JSON body (a proxy's error page). */
function jsonOrUndefined(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** One Server-Sent Event of a job's stream. */
export interface JobEvent {
  event: string;
  data: Record<string, unknown>;
}

/** A job's events (GET /v1/jobs/:id/events) as they arrive, until the service ends the stream. */
export async function* jobEvents(service: Service, id: string): AsyncGenerator<JobEvent> {
  const url = `${service.url}/v1/jobs/${encodeURIComponent(id)}/events`;
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...(service.key ? { authorization: `Bearer ${service.key}` } : {}) } }).catch((err: Error) => {
    throw new SeqlabError('internal', `cannot reach the service at ${service.url} (${err.message})`);
  });
  if (!res.ok || !res.body) throw answerError(res.status, await res.json().catch(() => undefined), `watch ${id}`);
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    // Events end with a blank line; the last piece may be an event still arriving.
    const blocks = buffer.split('\n\n');
    buffer = blocks.pop()!;
    for (const block of blocks) {
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event !== undefined && data !== undefined) yield { event, data: JSON.parse(data) as Record<string, unknown> };
    }
  }
}
