import type { Command } from 'commander';
import { commandGroup } from '../cli.js';
import { trainClassifierCommand } from './train-classifier.js';
import { trainForecasterCommand } from './train-forecaster.js';
import { trainLmCommand } from './train-lm.js';

/** `seqlab train classifier|lm|forecaster`. */
export function trainCommand(): Command {
  return commandGroup('train', 'train a text classifier, a language model or a forecaster, with progress, checkpoints and a training-curve plot', [
    trainClassifierCommand(),
    trainLmCommand(),
    trainForecasterCommand(),
  ]);
}
