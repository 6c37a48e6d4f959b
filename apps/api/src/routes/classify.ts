import { Router, type Response } from 'express';
import type { TextClassificationPipeline } from '@seqlab/tasks';
import { isSeqlabError } from '@seqlab/core';
import type { Config } from '../config.js';
import { WorkerError } from '../errors.js';
import type { Schemas } from '../schemas.js';
import { parseBody } from './v1.js';

/**
 * `POST /v1/classify`: any text classifier under the models folder (recurrent, fasttext,
 * tfidf-lr, the sentence-encoder kinds use and hybrid, sentiment models as binary classifiers)
 * through `pipeline('text-classification')`, so the answer equals `seqlab classify`. Texts are
 * bounded by the same limits as every text endpoint (MAX_TEXTS, MAX_TEXT_LENGTH). Pipelines are
 * loaded once per model and kept (a sentence-encoder model loads its own encoder, about 27 MB).
 *
 * The models run in this process rather than the worker pool: the linear kinds are plain
 * arithmetic and the recurrent ones answer on the compiled fast path in about a millisecond per
 * text, and routing a new task through the pool waits for the service-hardening work on it.
 */
export function classifyRoutes(config: Config, schemas: Schemas): Router {
  const router = Router();
  const loaded = new Map<string, Promise<TextClassificationPipeline>>();

  async function classifier(model: string | undefined): Promise<TextClassificationPipeline> {
    const { DEFAULT_MODELS, pipeline } = await import('@seqlab/tasks');
    const name = model ?? DEFAULT_MODELS['text-classification']!;
    let p = loaded.get(name);
    if (!p) {
      // Names only (no paths), resolved inside the configured models folder.
      p = pipeline('text-classification', name, { modelsDir: config.modelsDir, allowPaths: false, name });
      loaded.set(name, p);
      // A failed load (unknown model, corrupt files) is not cached: the next request retries.
      p.catch(() => loaded.delete(name));
    }
    return p;
  }

  router.post('/v1/classify', async (req, res: Response) => {
    const body = parseBody(schemas.classify, req);
    let model: TextClassificationPipeline;
    let predictions: Awaited<ReturnType<TextClassificationPipeline['predict']>>;
    try {
      model = await classifier(body.model);
      predictions = await model.predict(body.texts, body.longTexts ? { longTexts: body.longTexts } : {});
    } catch (err) {
      // Coded errors go through the one code -> status table, as the workers' errors do.
      throw isSeqlabError(err) ? new WorkerError(err.code, err.message) : err;
    }
    const results = predictions.map((p) => ({
      label: p.label,
      score: p.score,
      predicted: p.predicted,
      labels: p.labels.slice(0, body.labels),
      truncated: p.truncated,
      ...(body.explain && p.tokens ? { tokens: p.tokens } : {}),
    }));
    if (!res.headersSent && !(res.locals.signal as AbortSignal | undefined)?.aborted) {
      res.json({
        model: model.name,
        kind: model.kind,
        problem: model.problem,
        classes: model.classes,
        truncated: results.filter((r) => r.truncated).length,
        results,
      });
    }
  });

  return router;
}
