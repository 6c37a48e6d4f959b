import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Router, type Request, type Response } from 'express';
import type { z } from 'zod';
import { REPO_ROOT, type Config } from '../config.js';
import { HttpError, redactPaths, toHttpError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { Schemas } from '../schemas.js';
import type { Services } from '../services/services.js';

/** Parses `req.body` with `schema`, throwing a 400 that names the failing field. */
export function parseBody<S extends z.ZodType>(schema: S, req: Request): z.output<S> {
  if (req.body === undefined && !req.is('application/json')) {
    throw new HttpError(415, 'unsupported_media_type', `body: expected Content-Type application/json, got ${req.get('content-type') ?? 'none'}`);
  }
  if (req.body === undefined || req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) {
    throw new HttpError(400, 'invalid_request', 'body: expected a JSON object (Content-Type: application/json)', [
      { field: 'body', message: 'expected a JSON object' },
    ]);
  }
  const result = schema.safeParse(req.body);
  if (!result.success) throw HttpError.fromZod(result.error);
  return result.data;
}

/** The request's abort signal (set by the timeout middleware in app.ts). */
function signalOf(res: Response): AbortSignal | undefined {
  return res.locals.signal as AbortSignal | undefined;
}

/** Sends JSON unless the request already timed out (its 503 has been sent). */
function reply(res: Response, body: unknown): void {
  if (!res.headersSent) res.json(body);
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

let airline: Promise<{ name: string; dates: string[]; values: number[] }> | undefined;

// The demo's sample series, parsed here rather than shipped twice.
function airlinePassengers() {
  airline ??= readFile(path.join(REPO_ROOT, 'data/classic_ts/airline-passengers.csv'), 'utf8').then((text) => {
    const rows = text.trim().split(/\r?\n/).slice(1);
    const dates: string[] = [];
    const values: number[] = [];
    for (const row of rows) {
      const [d, v] = row.split(',');
      dates.push(d!.replace(/"/g, ''));
      values.push(Number(v));
    }
    return { name: 'airline-passengers', dates, values };
  });
  return airline;
}

/** The `/v1` endpoints: validation first, then a thin call into the services. */
export function v1Routes(config: Config, services: Services, schemas: Schemas, metrics: Metrics): Router {
  const router = Router();

  router.post('/v1/sentiment', async (req, res) => {
    const body = parseBody(schemas.sentiment, req);
    const results = await services.sentiment(body.texts, { model: body.model, signal: signalOf(res) });
    reply(res, { results });
  });

  router.post('/v1/generate', async (req, res) => {
    const { prompt, stream, model, ...options } = parseBody(schemas.generate, req);
    const wantsStream = stream || (req.get('accept') ?? '').includes('text/event-stream');
    const call = { model, signal: signalOf(res) };
    if (!wantsStream) {
      const out = await services.generate(prompt, options, call);
      metrics.generatedTokens.inc(out.tokens);
      reply(res, { prompt, text: out.text, tokens: out.tokens, finishReason: out.finishReason });
      return;
    }
    // SSE: every text piece is a `token` event; a final `done` event carries the totals. The
    // request timeout stops applying once the stream has started (maxTokens bounds it).
    res.locals.streaming = true;
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    const t0 = performance.now();
    try {
      const out = await services.stream(prompt, options, (text) => {
          // The client may have gone; the abort signal stops the worker at its next token.
          if (!res.destroyed) res.write(`event: token\ndata: ${JSON.stringify({ text })}\n\n`);
        }, call);
      metrics.generatedTokens.inc(out.tokens);
      const seconds = (performance.now() - t0) / 1000;
      if (!res.destroyed) res.write(`event: done\ndata: ${JSON.stringify({ text: out.text, tokens: out.tokens, tokensPerSecond: out.tokens / seconds })}\n\n`);
    } catch (err) {
      // The same mapping as every other answer: the error's code decides, server paths never shown.
      const e = toHttpError(err);
      if (!res.destroyed && !res.writableEnded) res.write(`event: error\ndata: ${JSON.stringify({ code: e.code, status: e.status, message: redactPaths(e.message) })}\n\n`);
    }
    res.end();
  });

  router.post('/v1/forecast', async (req, res) => {
    const body = parseBody(schemas.forecast, req);
    if (body.panel) {
      const panel = Object.entries(body.panel).map(([id, s]) => ({ id, values: s.values, ...(s.dates ? { dates: s.dates } : {}) }));
      const out = await services.forecastPanel(
        { model: body.model, panel, horizon: body.horizon, level: body.level, ...(body.newSeries ? { newSeries: body.newSeries } : {}) },
        { signal: signalOf(res) },
      );
      reply(res, out);
      return;
    }
    const columns = body.columns ?? { value: body.series! };
    const out = await services.forecast(
      { model: body.model, options: body.options, columns, dates: body.dates, horizon: body.horizon, level: body.level },
      { signal: signalOf(res) },
    );
    reply(res, out);
  });

  router.post('/v1/embed', async (req, res) => {
    const body = parseBody(schemas.embed, req);
    const vectors = await services.embed(body.texts, { signal: signalOf(res) });
    reply(res, { dimensions: vectors[0]?.length ?? 0, embeddings: vectors.map((v) => Array.from(v)) });
  });

  router.post('/v1/similarity', async (req, res) => {
    const body = parseBody(schemas.similarity, req);
    const [query, ...candidates] = await services.embed([body.query, ...body.candidates], { signal: signalOf(res) });
    const scores = candidates.map((c, i) => ({ text: body.candidates[i]!, score: cosine(query!, c) }));
    reply(res, { query: body.query, scores, ranking: [...scores].sort((a, b) => b.score - a.score).map((s) => s.text) });
  });

  router.get('/v1/samples/airline-passengers', async (_req, res) => {
    res.json(await airlinePassengers());
  });

  router.get('/v1/info', (_req, res) => {
    const r = services.readiness();
    res.json({
      backend: r.backend,
      models: r.models,
      batching: { windowMs: config.batchWindowMs, maxBatchSize: config.batchMaxSize },
      workers: config.workers,
      limits: {
        maxTexts: config.maxTexts,
        maxTextLength: config.maxTextLength,
        maxGenerateTokens: config.maxGenerateTokens,
        maxForecastSeries: config.maxForecastSeries,
        maxForecastPanelValues: config.maxForecastPanelValues,
        bodyLimit: config.bodyLimit,
      },
    });
  });

  return router;
}
