import { Command } from 'commander';
import { evaluateClassifierCommand } from './evaluate-classifier.js';
import { evaluateForecasterCommand } from './evaluate-forecaster.js';
import { evaluateLmCommand } from './evaluate-lm.js';

/** `seqlab evaluate classifier|lm|forecaster`. */
export function evaluateCommand(): Command {
  return new Command('evaluate')
    .description('evaluate a model: classifier metrics and confusion matrix, language-model perplexity, forecaster backtests')
    .addCommand(evaluateClassifierCommand())
    .addCommand(evaluateLmCommand())
    .addCommand(evaluateForecasterCommand());
}
