import { Command } from 'commander';

/**
 * What `seqlab --help` lists for each command, in its order: the term (name, options, arguments)
 * and the description. The command modules take their descriptions from here, so the list the
 * program shows before it has loaded any of them is the one they declare (a test compares the
 * terms with the loaded commands').
 */
export const COMMAND_HELP = {
  generate: { term: 'generate [options]', description: 'generate text with a language model, streamed to stdout as it is produced' },
  sentiment: { term: 'sentiment [options] [text...]', description: 'classify the sentiment of texts (arguments, --file, or stdin; one text per line)' },
  classify: { term: 'classify [options] [text...]', description: 'classify texts with any text classifier (arguments, --file, or stdin; one text per line; files and stdin are streamed)' },
  forecast: { term: 'forecast [options]', description: 'forecast a CSV time series H steps ahead with prediction intervals, optionally plotted' },
  train: { term: 'train', description: 'train a text classifier, a language model or a forecaster, with progress, checkpoints and a training-curve plot' },
  evaluate: { term: 'evaluate', description: 'evaluate a model: classifier metrics and confusion matrix, language-model perplexity, forecaster backtests' },
  embed: { term: 'embed [options] [text...]', description: 'embed texts as 512-d unit vectors with the Universal Sentence Encoder (offline)' },
  similar: { term: 'similar [options] <query> [candidates...]', description: 'rank candidate texts (arguments, --file or stdin) by cosine similarity to a query' },
  models: { term: 'models [options]', description: 'list the default models and the models saved under the models directory' },
  jobs: { term: 'jobs', description: 'submit, follow and cancel training jobs on a seqlab service (POST /v1/jobs ...)' },
  worker: { term: 'worker [options]', description: 'run jobs from the Redis queue of `seqlab` services (SEQLAB_REDIS_URL) until SIGINT/SIGTERM' },
  info: { term: 'info [options]', description: 'show the TensorFlow.js backend in use and why it was chosen' },
} as const satisfies Record<string, { term: string; description: string }>;

/** A top-level command's name. */
export type CommandName = keyof typeof COMMAND_HELP;

/** A new top-level command with its name and its help entry's description. */
export function newCommand(name: CommandName): Command {
  return new Command(name).description(COMMAND_HELP[name].description);
}
