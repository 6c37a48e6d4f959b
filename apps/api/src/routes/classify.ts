import { Router, type Response } from 'express';
import type { Schemas } from '../schemas.js';
import type { Services } from '../services/services.js';
import { parseBody } from './v1.js';

/**
 * `POST /v1/classify`: any text classifier under the models folder (recurrent, fasttext,
 * tfidf-lr, the sentence-encoder kinds use and hybrid, sentiment models as binary classifiers)
 * through `pipeline('text-classification')`, so the answer equals `seqlab classify`. Texts are
 * bounded by the same limits as every text endpoint (MAX_TEXTS, MAX_TEXT_LENGTH).
 *
 * The models run in the worker pool like every other model task: a slow or faulty classifier
 * cannot stall the HTTP thread, the request deadline and a disconnecting client cancel the
 * task, and a backend fault retires the worker. Each worker loads a model once and keeps it.
 */
export function classifyRoutes(schemas: Schemas, services: Services): Router {
  const router = Router();

  router.post('/v1/classify', async (req, res: Response) => {
    const body = parseBody(schemas.classify, req);
    const out = await services.classify(body.texts, {
      ...(body.model !== undefined ? { model: body.model } : {}),
      ...(body.longTexts ? { longTexts: body.longTexts } : {}),
      signal: res.locals.signal as AbortSignal | undefined,
    });
    const results = out.predictions.map((p) => ({
      label: p.label,
      score: p.score,
      predicted: p.predicted,
      labels: p.labels.slice(0, body.labels),
      truncated: p.truncated,
      ...(body.explain && p.tokens ? { tokens: p.tokens } : {}),
      ...(body.explain && p.labelTokens ? { labelTokens: p.labelTokens } : {}),
    }));
    if (!res.headersSent && !(res.locals.signal as AbortSignal | undefined)?.aborted) {
      res.json({
        model: out.model,
        // The model-store version that answered (null for an unversioned folder): it changes, without a restart, when a version is published or pinned.
        version: out.version ?? null,
        kind: out.kind,
        problem: out.problem,
        classes: out.classes,
        // A class is in `predicted` when its score reaches its threshold (multi-label models).
        thresholds: out.thresholds ? Object.fromEntries(out.classes.map((c, i) => [c, out.thresholds![i]!])) : null,
        truncated: results.filter((r) => r.truncated).length,
        results,
      });
    }
  });

  return router;
}
