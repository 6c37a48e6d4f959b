// PLACEHOLDER: the owner of this task replaces this file (types and trainer).
import { UnsupportedError } from '@seqlab/core';
import type { CommonTrainOptions, TrainReport } from './types.js';

export type TextClassificationData = string | unknown[];
export interface TextClassificationTrainOptions extends CommonTrainOptions {}
export type TextClassificationDetails = Record<string, unknown>;

export async function trainTextClassification(_data: TextClassificationData, _options: TextClassificationTrainOptions): Promise<{ dir: string; report: TrainReport<TextClassificationDetails> }> {
  throw new UnsupportedError('not built yet');
}

export interface TextClassificationEvaluateOptions {}
export type TextClassificationEvaluation = Record<string, unknown>;
export async function evaluateTextClassification(_model: string, _data: TextClassificationData, _options: TextClassificationEvaluateOptions): Promise<TextClassificationEvaluation> {
  throw new UnsupportedError('not built yet');
}
