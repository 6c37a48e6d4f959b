// PLACEHOLDER: the owner of this task replaces this file (types and trainer).
import { UnsupportedError } from '@seqlab/core';
import type { CommonTrainOptions, TrainReport } from './types.js';

export type TextGenerationData = string | unknown[];
export interface TextGenerationTrainOptions extends CommonTrainOptions {}
export type TextGenerationDetails = Record<string, unknown>;

export async function trainTextGeneration(_data: TextGenerationData, _options: TextGenerationTrainOptions): Promise<{ dir: string; report: TrainReport<TextGenerationDetails> }> {
  throw new UnsupportedError('not built yet');
}

export interface TextGenerationEvaluateOptions {}
export type TextGenerationEvaluation = Record<string, unknown>;
export async function evaluateTextGeneration(_model: string, _data: TextGenerationData, _options: TextGenerationEvaluateOptions): Promise<TextGenerationEvaluation> {
  throw new UnsupportedError('not built yet');
}
