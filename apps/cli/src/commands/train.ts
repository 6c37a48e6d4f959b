import type { Command } from 'commander';
import { commandGroup } from '../cli.js';
import { trainClassifierCommand } from './train-classifier.js';
import { trainForecasterCommand } from './train-forecaster.js';
import { trainLmCommand } from './train-lm.js';
import { COMMAND_HELP } from '../command-help.js';

/** `seqlab train classifier|lm|forecaster`. */
export function trainCommand(): Command {
  return commandGroup('train', COMMAND_HELP.train.description, [
    trainClassifierCommand(),
    trainLmCommand(),
    trainForecasterCommand(),
  ]);
}
