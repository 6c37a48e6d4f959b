import type { TextClassificationResult } from '@seqlab/core';
import { fitUseTextClassifier, type FitUseClassifierResult } from '@seqlab/embeddings';
import { throwIfCancelled } from '@seqlab/core';
import type { FitContext } from './candidates.js';

/** Which labels a use/hybrid head learns: the rows' own, or their `fineLabel`s summed per class. */
export type EncoderLabels = 'labels' | 'fine';

/** A fitted use/hybrid kind: the model, what describes it, and its validation results from before any refit. */
export interface EncoderKindFit {
  model: FitUseClassifierResult['classifier'];
  settings: Record<string, unknown>;
  /** Set when a refit has seen the validation rows: the results of the fit that had not. */
  validationResults?: TextClassificationResult[];
}

/** The labelings `fineLabels` asks to try, given whether every row carries a fine label. */
export function encoderLabelings(fineLabels: 'off' | 'try' | 'on', available: boolean): EncoderLabels[] {
  if (fineLabels === 'off' || !available) return ['labels'];
  return fineLabels === 'on' ? ['fine'] : ['labels', 'fine'];
}

/**
 * use or hybrid: sentence-encoder vectors (embedded once by the shared encoder's cache) with a
 * head chosen on validation. Under `fineLabels: 'try'` it fits on the rows' labels and on their
 * fine labels and keeps the better on validation (the labels first, so a tie keeps them); under
 * `refitEncoderKinds` the kept settings are fitted again on training + validation rows, and the
 * validation results stay those of the fit before, so choosing among kinds stays honest.
 */
export async function fitEncoderKind(kind: 'use' | 'hybrid', ctx: FitContext): Promise<EncoderKindFit> {
  const { o } = ctx;
  const labelings = encoderLabelings(o.fineLabels, ctx.fineLabels !== undefined);
  ctx.emit({ type: 'stage', stage: 'fit', candidate: kind, message: `fitting ${kind} (Universal Sentence Encoder${kind === 'hybrid' ? ' + TF-IDF n-grams' : ''}; head sizes ${o.headHidden.join(', ')}) ...` });
  if (labelings.length === 1 && !o.refitEncoderKinds) {
    const fitted = await fitUseOnce(kind, ctx, labelings[0]!, false);
    return { model: fitted.classifier, settings: describeUseFit(fitted, labelings[0]!) };
  }
  let best: { labels: EncoderLabels; fitted: FitUseClassifierResult; results: TextClassificationResult[] } | undefined;
  const trials: Array<{ labels: EncoderLabels; validationAccuracy: number }> = [];
  for (const labels of labelings) {
    const fitted = await fitUseOnce(kind, ctx, labels, false);
    trials.push({ labels, validationAccuracy: fitted.validationAccuracy });
    ctx.emit({ type: 'stage', stage: 'fit', candidate: kind, message: `${kind} on ${labels === 'fine' ? 'the fine labels, summed per class' : "the rows' labels"}: validation ${fitted.validationAccuracy.toFixed(4)}` });
    if (best && fitted.validationAccuracy <= best.fitted.validationAccuracy) {
      fitted.classifier.dispose();
      continue;
    }
    const results = await predictOrDispose(fitted, ctx.validation.texts);
    best?.fitted.classifier.dispose();
    best = { labels, fitted, results };
  }
  const kept = best!;
  const settings = { ...describeUseFit(kept.fitted, kept.labels), ...(trials.length > 1 ? { labelTrials: trials } : {}) };
  if (!o.refitEncoderKinds) return { model: kept.fitted.classifier, settings, validationResults: kept.results };
  kept.fitted.classifier.dispose();
  ctx.emit({ type: 'stage', stage: 'refit', candidate: kind, message: `refitting ${kind} with the chosen settings on training + validation rows ...` });
  const refitted = await fitUseOnce(kind, ctx, kept.labels, true);
  return { model: refitted.classifier, settings: { ...settings, headEpochs: refitted.classifier.config.training?.headEpochs ?? null, refit: true }, validationResults: kept.results };
}

async function predictOrDispose(fitted: FitUseClassifierResult, texts: string[]): Promise<TextClassificationResult[]> {
  try {
    return await fitted.classifier.predict(texts);
  } catch (err) {
    fitted.classifier.dispose();
    throw err;
  }
}

/** One fit of fitUseTextClassifier with the run's settings. */
function fitUseOnce(kind: 'use' | 'hybrid', ctx: FitContext, labels: EncoderLabels, refit: boolean): Promise<FitUseClassifierResult> {
  const { o } = ctx;
  return fitUseTextClassifier(ctx.train, {
    kind,
    classes: ctx.classes,
    problem: ctx.problem,
    validation: ctx.validation,
    hidden: o.headHidden,
    ...(o.headEpochs !== undefined ? { epochs: o.headEpochs } : {}),
    ...(o.headPatience !== undefined ? { patience: o.headPatience } : {}),
    ...(o.headBatchSize !== undefined ? { batchSize: o.headBatchSize } : {}),
    seed: o.seed,
    ...(o.clean !== undefined ? { clean: o.clean } : {}),
    encoder: ctx.encoder!,
    ...(labels === 'fine' ? { subLabels: ctx.fineLabels! } : {}),
    ...(refit ? { refit: true } : {}),
    training: { ...ctx.training, ...(labels === 'fine' ? { labels: 'fine' } : {}), ...(refit ? { refit: 'training + validation rows' } : {}) },
    onProgress: (p) => {
      // The fit has no signal of its own: its progress calls are where an abort can stop it.
      throwIfCancelled(o.signal, 'training');
      if (p.stage === 'embed') ctx.emit({ type: 'items', stage: 'embed', candidate: kind, done: p.done, total: p.total });
    },
  });
}

function describeUseFit(fitted: FitUseClassifierResult, labels: EncoderLabels): Record<string, unknown> {
  const heads = fitted.heads.map((h) => ({ hidden: h.hidden, validationAccuracy: h.validationAccuracy }));
  return {
    heads,
    chosenHidden: fitted.chosenHidden,
    headEpochs: fitted.classifier.config.training?.headEpochs ?? null,
    labels,
    ...(fitted.useWeight !== undefined ? { useWeight: fitted.useWeight, ngramValidationAccuracy: fitted.ngramValidationAccuracy } : {}),
  };
}
