/**
 * @packageDocumentation
 * One entry point for every seqlab task: `pipeline(task, model?)` returns a typed, disposable
 * pipeline whose model format, options, results and errors the task's package owns. Apps only
 * parse, call a pipeline and print or respond.
 */
export * from './catalog.js';
export { pipeline, modelKinds, type PipelineByTask, type PipelineOptions } from './pipeline.js';
export { SentimentClassifierPipeline, toSentiment } from './sentiment-classifier.js';
export {
  TextClassifierEnsemble,
  loadTextClassifierEnsemble,
  chooseEnsembleWeights,
  crossFittedEnsembleAccuracy,
  ENSEMBLE_KIND,
  resolveMemberReference,
  type MemberReference,
  type EnsembleMember,
  type EnsembleWeightChoice,
} from './ensemble.js';
export type { TextClassificationPipeline, TextClassificationResult, ClassScore, ClassifyOptions, ClassificationProblem } from '@seqlab/core';
export { TASK_NAMES, type TaskName, type SentimentPipeline, type SentimentResult, type Pipeline } from '@seqlab/core';
export type { TextGenerationPipeline } from '@seqlab/rnn';
export type { ForecastPipeline, ForecastRequest, ForecastResult } from '@seqlab/forecast';
export type { EmbeddingPipeline } from '@seqlab/embeddings';
export { train, checkTrainTask, type TrainResult, type TrainDataByTask, type TrainOptionsByTask, type TrainDetailsByTask } from './train.js';
export { evaluate, type EvaluateOptionsByTask, type EvaluationByTask } from './evaluate.js';
export {
  TRAIN_TASKS,
  type TrainTaskName,
  type TrainEvent,
  type StageEvent,
  type EpochEvent,
  type BatchEvent,
  type ItemsEvent,
  type CommonTrainOptions,
  type CandidateReport,
  type TrainReport,
} from './training/types.js';
export { defaultCheckpointDir, type TextGenerationData, type TextGenerationTrainOptions, type TextGenerationDetails, type TextGenerationEvaluateOptions, type TextGenerationEvaluation } from './training/text-generation.js';
export type {
  TextClassificationData,
  TextClassificationRow,
  TextClassificationTrainOptions,
  TextClassificationDetails,
  TextClassificationEvaluateOptions,
  TextClassificationEvaluation,
  BaselineEvaluation,
} from './training/text-classification.js';
export type { EnsembleTrial } from './text-classification/choose.js';
export type { ReadRows as LabelledRowsRead } from './text-classification/data.js';
export { TEXT_CLASSIFIER_KINDS, TEXT_CLASSIFICATION_TRAIN_KEYS, AUTO_RNN_BUDGET_SECONDS, type FastTextSettings, type LrPlateau, type TextCleaning } from './text-classification/options.js';
export { readLabelledRows, peekLabelledFile, type LabelledFileLayout } from './text-classification/read.js';
export { ensembleOf, type EnsembleOfMember, type EnsembleOfOptions, type EnsembleOfResult } from './text-classification/ensemble-of.js';
export { holdOutRows, type HeldOutRows } from './text-classification/holdout.js';
export { planTextClassification, fitTextClassificationCandidate, combineTextClassification, textClassificationCandidateKinds, type PlanTextClassificationOptions, type TextClassificationStepOptions, type TextClassificationPlan, type FittedCandidate } from './text-classification/distributed.js';
export {
  type ForecastData,
  type ForecastReadOptions,
  type ForecastTrainOptions,
  type ForecastDetails,
  type ForecastWarning,
  type ForecastEvaluateOptions,
  type ForecastEvaluation,
  type CurvePoint as ForecastCurvePoint,
  type PanelInput,
  type RangeScore,
} from './training/forecast.js';
export { globalForecasterOptions, PANEL_AUTO_EPOCHS, PANEL_AUTO_SEEDS } from './training/forecast-panel.js';
export { ServedModels, type ServedVersion, type ServedModelsOptions } from './served-models.js';
export { forecastCsv, forecastPanelCsv, type ForecastCsvOptions, type ForecastCsvResult, type ForecastPanelCsvOptions, type ForecastPanelCsvResult, type ForecastRow } from './forecast-run.js';
export type { Forecast, PanelForecastResult, PanelSeries, SeasonReport, AutoChoice, DateGapReport, SplitEvaluation, PanelEvaluation } from '@seqlab/forecast';
// What apps need beside pipelines (request cost limits, forecaster names, series input), so that
// they reach models through this package alone.
export { checkForecastOptions, createSeries, forecastCost, forecasterOptionsFor, FORECASTER_NAMES, GLOBAL_FORECASTER_NAMES } from '@seqlab/forecast';
export { checkPromptLength, generationSteps } from '@seqlab/rnn';
export { embeddingPipelineFromEncoderFolder } from './encoder-folder.js';
