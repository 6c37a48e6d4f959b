import { BadInputError } from '@seqlab/core';
import { checkTrainTask, type TrainDataByTask } from './train.js';
import type { TrainTaskName } from './training/types.js';
import type { TextClassificationEvaluateOptions, TextClassificationEvaluation } from './training/text-classification.js';
import type { TextGenerationEvaluateOptions, TextGenerationEvaluation } from './training/text-generation.js';
import type { ForecastEvaluateOptions, ForecastEvaluation } from './training/forecast.js';

/** The options each task's evaluation takes. */
export interface EvaluateOptionsByTask {
  'text-classification': TextClassificationEvaluateOptions;
  'text-generation': TextGenerationEvaluateOptions;
  forecast: ForecastEvaluateOptions;
}

/** What each task's evaluation returns. */
export interface EvaluationByTask {
  'text-classification': TextClassificationEvaluation;
  'text-generation': TextGenerationEvaluation;
  forecast: ForecastEvaluation;
}

/**
 * Scores a saved model (a name under the models folder or a directory) on labelled data (a file
 * path or rows in memory) with the task's metrics. The CLI's `evaluate *` commands, the recipes
 * and the service's evaluation jobs call this one function.
 *
 * @example
 * ```ts
 * const r = await evaluate('text-classification', 'question-type', 'data/trec/test.tsv');
 * console.log(r.metrics.accuracy);
 * ```
 * @throws BadInputError for an unknown task, unknown options or bad data; NotFoundError for an unknown model.
 */
export async function evaluate<T extends TrainTaskName>(
  task: T,
  model: string,
  data: TrainDataByTask[T],
  options: EvaluateOptionsByTask[T] = {} as EvaluateOptionsByTask[T],
): Promise<EvaluationByTask[T]> {
  checkTrainTask(task);
  if (typeof model !== 'string' || model.length === 0) throw new BadInputError('evaluate: model must be a model name or a directory');
  switch (task) {
    case 'text-classification':
      return (await (await import('./training/text-classification.js')).evaluateTextClassification(model, data as TrainDataByTask['text-classification'], options as TextClassificationEvaluateOptions)) as EvaluationByTask[T];
    case 'text-generation':
      return (await (await import('./training/text-generation.js')).evaluateTextGeneration(model, data as TrainDataByTask['text-generation'], options as TextGenerationEvaluateOptions)) as EvaluationByTask[T];
    default:
      return (await (await import('./training/forecast.js')).evaluateForecaster(model, data as TrainDataByTask['forecast'], options as ForecastEvaluateOptions)) as EvaluationByTask[T];
  }
}
