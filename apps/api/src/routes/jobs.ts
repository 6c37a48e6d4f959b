/**
 * Job routes (scope `train`): submit a training, evaluation or batch prediction job as JSON (data
 * named in the data folder, or an earlier upload) or as multipart with the data file streamed to
 * the uploads folder; read its state; follow it as Server-Sent Events; cancel it. The engine is
 * @seqlab/jobs' (in-process, or BullMQ workers when SEQLAB_REDIS_URL is set).
 */
import { existsSync, promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { isSeqlabError } from '@seqlab/core';
import { isFinalStatus, saveUpload, type JobEngine, type JobEvent, type JobSpec, type JobState } from '@seqlab/jobs';
import { requireScope, type KeyRing } from '../auth.js';
import type { Config } from '../config.js';
import { HttpError, redactPaths, toHttpError } from '../errors.js';
import type { Schemas } from '../schemas.js';

/** An upload's id: the name saveUpload gives the file (a UUID and the sent file's extension). */
const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(\.[A-Za-z0-9]{1,10})?$/;
const JOB_ID = /^[A-Za-z0-9-]{1,64}$/;
/** SSE comment lines this often keep proxies (haproxy, nginx) from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

function badSpec(message: string, field: string): HttpError {
  return new HttpError(422, 'bad_input', redactPaths(message), [{ field, message: redactPaths(message) }]);
}

/** A spec problem as 422 `bad_input` naming the field (from zod, or from the engine's own check). */
function asSpecError(err: unknown): unknown {
  if (err instanceof HttpError) return err;
  if (err instanceof z.ZodError) {
    const e = HttpError.fromZod(err, 'spec');
    return new HttpError(422, 'bad_input', e.message, e.details);
  }
  if (isSeqlabError(err) && err.code === 'bad_input') {
    const field = /^job: (?:an? \w+ job needs |options |)(\w+)/.exec(err.message)?.[1] ?? 'spec';
    return badSpec(err.message, field);
  }
  return err;
}

/** The file `data` names: an upload id, else a file inside the data folder. */
function dataFile(config: Config, data: string): string {
  if (UPLOAD_ID.test(data)) {
    const upload = path.join(config.uploadsDir, data);
    if (existsSync(upload)) return upload;
  }
  if (path.isAbsolute(data) || data.split(/[\\/]/).includes('..')) {
    throw badSpec(`data: "${data}" must be a file name inside the data folder (no absolute paths, no "..") or an upload id`, 'data');
  }
  const file = path.resolve(config.dataDir, data);
  if (!existsSync(file) || !statSync(file).isFile()) throw badSpec(`data: no file "${data}" in the data folder, and no upload with that id`, 'data');
  return file;
}

interface Submission {
  spec: unknown;
  /** The upload's file, when the data came with the request. */
  upload?: string;
}

/** A request's multipart parts: the `spec` field, and the `file` part streamed to the uploads folder. */
function readMultipart(req: Request, config: Config): Promise<Submission> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: { files: 1, fields: 2, fieldSize: 256 * 1024 } });
    } catch (err) {
      return reject(badSpec(`body: ${(err as Error).message}`, 'body'));
    }
    let specText: string | undefined;
    let saving: Promise<string> | undefined;
    let problem: unknown;
    const fail = (err: unknown): void => {
      // Stop parsing; the rest of the body is read and dropped so the client gets the answer.
      req.unpipe(bb);
      req.resume();
      reject(err);
    };
    bb.on('field', (name, value, info) => {
      if (name === 'spec') specText = value;
      if (info.valueTruncated) problem ??= badSpec(`${name}: longer than 256 KB`, name);
    });
    bb.on('file', (name, stream, info) => {
      if (name !== 'file' || saving !== undefined) {
        stream.resume();
        problem ??= badSpec(`${name}: unexpected file part; send the data as one part named "file"`, name);
        return;
      }
      const ext = path.extname(info.filename ?? '').toLowerCase();
      const maxBytes = Math.floor(config.maxUploadMb * 1024 * 1024);
      saving = saveUpload(stream, { dir: config.uploadsDir, maxBytes, ...(/^\.[a-z0-9]{1,10}$/.test(ext) ? { extension: ext } : {}) }).then((u) => u.path);
      saving.catch((err: unknown) => {
        const over = isSeqlabError(err) && err.code === 'limit_exceeded';
        fail(over ? new HttpError(413, 'payload_too_large', `file: the upload is larger than SEQLAB_MAX_UPLOAD_MB=${config.maxUploadMb} MB`) : badSpec(`file: ${(err as Error).message}`, 'file'));
      });
    });
    bb.on('error', (err: Error) => fail(badSpec(`body: malformed multipart data (${err.message})`, 'body')));
    bb.on('close', () => {
      void (async () => {
        const upload = saving === undefined ? undefined : await saving.catch(() => undefined);
        if (saving !== undefined && upload === undefined) return; // already answered by fail()
        if (problem !== undefined || specText === undefined || upload === undefined) {
          if (upload !== undefined) await fs.rm(upload, { force: true });
          return reject(problem ?? badSpec(upload === undefined ? 'file: multipart jobs need the data as a part named "file"' : 'spec: missing (a part named "spec" holding the job as JSON)', upload === undefined ? 'file' : 'spec'));
        }
        let spec: unknown;
        try {
          spec = JSON.parse(specText);
        } catch (err) {
          await fs.rm(upload, { force: true });
          return reject(badSpec(`spec: not valid JSON (${(err as Error).message})`, 'spec'));
        }
        resolve({ spec, upload });
      })();
    });
    (req as IncomingMessage).pipe(bb);
  });
}

/** The state of a job as the contract shows it; server paths are cut from reports and errors. */
export function jobView(state: JobState, modelsDir: string): Record<string, unknown> {
  const report = state.report === undefined ? null : (JSON.parse(redactPaths(JSON.stringify(state.report).split(modelsDir + path.sep).join(''))) as unknown);
  return {
    id: state.id,
    type: state.spec.type,
    task: state.spec.task,
    model: state.spec.model ?? null,
    state: state.status,
    progress: state.progress ?? null,
    report,
    result: state.result ?? null,
    error: state.error ? { code: state.error.code, message: redactPaths(state.error.message) } : null,
    attempts: state.attempts,
    createdAt: new Date(state.createdAt).toISOString(),
    startedAt: state.startedAt ? new Date(state.startedAt).toISOString() : null,
    finishedAt: state.finishedAt ? new Date(state.finishedAt).toISOString() : null,
  };
}

async function submit(req: Request, res: Response, config: Config, schemas: Schemas, engine: JobEngine): Promise<void> {
  const multipart = req.is('multipart/form-data') === 'multipart/form-data';
  if (!multipart && req.body === undefined) {
    throw new HttpError(415, 'unsupported_media_type', `body: expected application/json or multipart/form-data, got ${req.get('content-type') ?? 'none'}`);
  }
  const { spec, upload } = multipart ? await readMultipart(req, config) : { spec: req.body as unknown, upload: undefined };
  try {
    const parsed = (upload === undefined ? schemas.jobSpec : schemas.jobSpec.omit({ data: true })).parse(spec) as Omit<JobSpec, 'data'> & { data?: string };
    const data = upload ?? dataFile(config, parsed.data!);
    const id = await engine.submit({ ...parsed, data } as JobSpec);
    res.status(202).location(`/v1/jobs/${id}`).json({ id, state: 'queued', ...(upload ? { upload: path.basename(upload) } : {}) });
  } catch (err) {
    if (upload !== undefined) await fs.rm(upload, { force: true });
    throw asSpecError(err);
  }
}

function sse(res: Response, event: string, data: unknown): void {
  if (!res.destroyed && !res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** Streams a job's events: its current state, then progress and states, ending after a final state. */
async function streamEvents(res: Response, engine: JobEngine, id: string, modelsDir: string): Promise<void> {
  const pending: JobEvent[] = [];
  let live = false;
  const write = (e: JobEvent): void => {
    if (e.type === 'progress') return sse(res, e.event.type, e.event);
    sse(res, 'state', jobView(e.state, modelsDir));
    if (isFinalStatus(e.state.status)) finish();
  };
  // Subscribe before reading the state, so no event falls between the two.
  const unsubscribe = engine.subscribe(id, (e) => (live ? write(e) : pending.push(e)));
  function finish(): void {
    clearInterval(heartbeat);
    unsubscribe();
    if (!res.writableEnded) res.end();
  }
  const current = await engine.get(id).catch((err: unknown) => {
    unsubscribe();
    throw err;
  });
  if (current === undefined) {
    unsubscribe();
    throw new HttpError(404, 'not_found', `no job "${id}"`);
  }
  const heartbeat = setInterval(() => !res.destroyed && res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  res.once('close', finish);
  // A client that left while the state was read is not waited for.
  if (res.destroyed) return finish();
  res.locals.streaming = true;
  res.status(200).set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', 'X-Accel-Buffering': 'no' });
  res.flushHeaders();
  write({ type: 'state', id, state: current });
  if (isFinalStatus(current.status)) return;
  live = true;
  for (const e of pending.splice(0)) {
    if (res.writableEnded) break;
    // Events from before the current state was read are already part of it.
    if (e.type === 'progress' || e.state.status !== current.status) write(e);
  }
}

async function stateOf(engine: JobEngine, id: string): Promise<JobState> {
  const state = JOB_ID.test(id) ? await engine.get(id) : undefined;
  if (state === undefined) throw new HttpError(404, 'not_found', `no job "${id}"`);
  return state;
}

/**
 * `POST /v1/jobs`, `GET /v1/jobs/:id`, `GET /v1/jobs/:id/events`, `DELETE /v1/jobs/:id`. Without
 * a keys file (`keys` undefined) every route answers 404 `jobs_disabled`.
 */
export function jobRoutes(config: Config, schemas: Schemas, engine: JobEngine | undefined, keys: KeyRing | undefined): Router {
  const router = Router();
  const train = requireScope(keys, 'train');
  const jobs = (): JobEngine => engine ?? (() => {
    throw new HttpError(404, 'jobs_disabled', 'jobs are off on this server');
  })();

  router.post('/v1/jobs', train, async (req, res) => submit(req, res, config, schemas, jobs()));
  router.get('/v1/jobs/:id', train, async (req, res) => {
    res.json(jobView(await stateOf(jobs(), String(req.params.id)), config.modelsDir));
  });
  router.get('/v1/jobs/:id/events', train, async (req, res) => {
    if (!JOB_ID.test(String(req.params.id))) throw new HttpError(404, 'not_found', `no job "${req.params.id}"`);
    try {
      await streamEvents(res, jobs(), String(req.params.id), config.modelsDir);
    } catch (err) {
      if (!res.headersSent) throw err;
      const e = toHttpError(err);
      sse(res, 'error', { code: e.code, message: redactPaths(e.message) });
      res.end();
    }
  });
  router.delete('/v1/jobs/:id', train, async (req, res) => {
    const engine = jobs();
    const state = await stateOf(engine, String(req.params.id));
    if (isFinalStatus(state.status)) {
      res.status(202).json({ id: state.id, state: state.status });
      return;
    }
    const cancelling = await engine.cancel(state.id);
    const now = cancelling ? undefined : await engine.get(state.id);
    res.status(202).json({ id: state.id, state: now && isFinalStatus(now.status) ? now.status : 'cancelling' });
  });
  return router;
}
