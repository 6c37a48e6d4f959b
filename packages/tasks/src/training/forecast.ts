// PLACEHOLDER: the owner of this task replaces this file (types and trainer).
import { UnsupportedError } from '@seqlab/core';
import type { CommonTrainOptions, TrainReport } from './types.js';

export type ForecastData = string | unknown[];
export interface ForecastTrainOptions extends CommonTrainOptions {}
export type ForecastDetails = Record<string, unknown>;

export async function trainForecaster(_data: ForecastData, _options: ForecastTrainOptions): Promise<{ dir: string; report: TrainReport<ForecastDetails> }> {
  throw new UnsupportedError('not built yet');
}

export interface ForecastEvaluateOptions {}
export type ForecastEvaluation = Record<string, unknown>;
export async function evaluateForecaster(_model: string, _data: ForecastData, _options: ForecastEvaluateOptions): Promise<ForecastEvaluation> {
  throw new UnsupportedError('not built yet');
}
