/**
 * The text-classification trainer and evaluator the `train()` / `evaluate()` dispatchers load.
 * The pieces live in `../text-classification/`: options, data, candidates, choose, train,
 * report, evaluate.
 */
export { trainTextClassification, defaultCheckpointDir } from '../text-classification/train.js';
export { evaluateTextClassification, type TextClassificationEvaluateOptions, type TextClassificationEvaluation, type BaselineEvaluation } from '../text-classification/evaluate.js';
export type { TextClassificationData, TextClassificationRow, TextClassificationTrainOptions } from '../text-classification/options.js';
export type { TextClassificationDetails } from '../text-classification/report.js';
