import { Command } from 'commander';
import { classifyCommand } from './commands/classify.js';
import { embedCommand } from './commands/embed.js';
import { evaluateCommand } from './commands/evaluate.js';
import { forecastCommand } from './commands/forecast.js';
import { generateCommand } from './commands/generate.js';
import { infoCommand } from './commands/info.js';
import { jobsCommand } from './commands/jobs.js';
import { modelsCommand } from './commands/models.js';
import { sentimentCommand } from './commands/sentiment.js';
import { similarCommand } from './commands/similar.js';
import { trainCommand } from './commands/train.js';
import { workerCommand } from './commands/worker.js';
import { EXIT } from './errors.js';

const EXIT_HELP = `
Exit codes:
  ${EXIT.ok}    success
  ${EXIT.runtime}    runtime failure (training or inference failed)
  ${EXIT.usage}    bad usage or bad input (unknown option, bad value, unknown column, non-numeric data)
  ${EXIT.notFound}    a named file or model does not exist
  ${EXIT.corrupt}    a model's files are corrupt or truncated
  ${EXIT.interrupted}  interrupted (SIGINT/SIGTERM); training writes a checkpoint first`;

function applyRecursively(cmd: Command, fn: (c: Command) => void): void {
  fn(cmd);
  for (const sub of cmd.commands) applyRecursively(sub, fn);
}

/** The `seqlab` program with every command added. */
export function buildProgram(): Command {
  const program = new Command('seqlab')
    .description('Sequence learning on TensorFlow.js: text generation, sentiment, forecasting, training and evaluation.')
    .version('0.1.0')
    .addHelpText('after', EXIT_HELP)
    .addCommand(generateCommand())
    .addCommand(sentimentCommand())
    .addCommand(classifyCommand())
    .addCommand(forecastCommand())
    .addCommand(trainCommand())
    .addCommand(evaluateCommand())
    .addCommand(embedCommand())
    .addCommand(similarCommand())
    .addCommand(modelsCommand())
    .addCommand(jobsCommand())
    .addCommand(workerCommand())
    .addCommand(infoCommand());
  // Parse errors throw (and are mapped to exit code 2 by main) instead of calling process.exit.
  applyRecursively(program, (c) =>
    c.exitOverride().configureOutput({
      // Commander's parse errors, in the same one-line "seqlab: ..." form as every other error.
      outputError: (text, write) => write(`seqlab: ${text.replace(/^error:\s*/, '').replace(/\s*\n\s*/g, ' ').trim()}\n`),
    }),
  );
  return program;
}
