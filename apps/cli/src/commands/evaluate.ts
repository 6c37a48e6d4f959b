import type { Command } from 'commander';
import { commandGroup } from '../cli.js';
import { evaluateClassifierCommand } from './evaluate-classifier.js';
import { evaluateForecasterCommand } from './evaluate-forecaster.js';
import { evaluateLmCommand } from './evaluate-lm.js';
import { COMMAND_HELP } from '../command-help.js';

/** `seqlab evaluate classifier|lm|forecaster`. */
export function evaluateCommand(): Command {
  return commandGroup('evaluate', COMMAND_HELP.evaluate.description, [
    evaluateClassifierCommand(),
    evaluateLmCommand(),
    evaluateForecasterCommand(),
  ]);
}
