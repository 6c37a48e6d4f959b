import { Command } from 'commander';
import { evaluateForecasterCommand } from './evaluate-forecaster.js';

/** `seqlab evaluate classifier|lm|forecaster`. */
export function evaluateCommand(): Command {
  return new Command('evaluate')
    .description('evaluate a model: classifier metrics and confusion matrix, language-model perplexity, forecaster backtests')
    .addCommand(evaluateForecasterCommand());
}
