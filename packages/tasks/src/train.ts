import { BadInputError } from '@seqlab/core';
import { TRAIN_TASKS, type TrainReport, type TrainTaskName } from './training/types.js';
import type { TextClassificationData, TextClassificationTrainOptions, TextClassificationDetails } from './training/text-classification.js';
import type { TextGenerationData, TextGenerationTrainOptions, TextGenerationDetails } from './training/text-generation.js';
import type { ForecastData, ForecastTrainOptions, ForecastDetails } from './training/forecast.js';

/** The data each task trains on: a file path, or rows / series in memory. */
export interface TrainDataByTask {
  'text-classification': TextClassificationData;
  'text-generation': TextGenerationData;
  forecast: ForecastData;
}

/** The options each task's training takes. */
export interface TrainOptionsByTask {
  'text-classification': TextClassificationTrainOptions;
  'text-generation': TextGenerationTrainOptions;
  forecast: ForecastTrainOptions;
}

/** The task-specific part of each task's report. */
export interface TrainDetailsByTask {
  'text-classification': TextClassificationDetails;
  'text-generation': TextGenerationDetails;
  forecast: ForecastDetails;
}

/** What {@link train} returns: the saved model's folder and what happened. */
export interface TrainResult<T extends TrainTaskName = TrainTaskName> {
  dir: string;
  report: TrainReport<TrainDetailsByTask[T]>;
}

/** Checks a training task name, listing the valid ones on a miss. */
export function checkTrainTask(task: unknown): TrainTaskName {
  if (typeof task !== 'string' || !(TRAIN_TASKS as readonly string[]).includes(task)) {
    throw new BadInputError(`train: unknown task ${JSON.stringify(task)}; tasks that train: ${TRAIN_TASKS.join(', ')}`);
  }
  return task as TrainTaskName;
}

/**
 * The training twin of {@link pipeline}: reads `data` (a file path or rows in memory), fits
 * the task's candidate models, keeps the best by the task's stated rule, saves it to
 * `options.out` and reports what happened. The CLI's `train *` commands, the recipes and the
 * service's jobs all call this one function.
 *
 * @example
 * ```ts
 * const { dir, report } = await train('text-classification', rows, { out: 'runs/topics', seed: 1 });
 * console.log(report.kind, report.reason);
 * const clf = await pipeline('text-classification', dir);
 * ```
 * @throws BadInputError for an unknown task, unknown options (listing the valid ones) or bad data.
 * @throws SeqlabError `cancelled` when `options.signal` aborts.
 */
export async function train<T extends TrainTaskName>(task: T, data: TrainDataByTask[T], options: TrainOptionsByTask[T]): Promise<TrainResult<T>> {
  checkTrainTask(task);
  if (options === null || typeof options !== 'object') throw new BadInputError('train: options must be an object with at least `out` (the model folder)');
  switch (task) {
    case 'text-classification':
      return (await (await import('./training/text-classification.js')).trainTextClassification(data as TextClassificationData, options as TextClassificationTrainOptions)) as TrainResult<T>;
    case 'text-generation':
      return (await (await import('./training/text-generation.js')).trainTextGeneration(data as TextGenerationData, options as TextGenerationTrainOptions)) as TrainResult<T>;
    default:
      return (await (await import('./training/forecast.js')).trainForecaster(data as ForecastData, options as ForecastTrainOptions)) as TrainResult<T>;
  }
}
