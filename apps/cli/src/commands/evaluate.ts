import type { Command } from 'commander';
import { commandGroup } from '../cli.js';
import { evaluateClassifierCommand } from './evaluate-classifier.js';
import { evaluateForecasterCommand } from './evaluate-forecaster.js';
import { evaluateLmCommand } from './evaluate-lm.js';

/** `seqlab evaluate classifier|lm|forecaster`. */
export function evaluateCommand(): Command {
  return commandGroup('evaluate', 'evaluate a model: classifier metrics and confusion matrix, language-model perplexity, forecaster backtests', [
    evaluateClassifierCommand(),
    evaluateLmCommand(),
    evaluateForecasterCommand(),
  ]);
}
