import { Command, Help } from 'commander';
import { COMMAND_HELP, newCommand, type CommandName } from './command-help.js';
import { EXIT } from './errors.js';

const EXIT_HELP = `
Exit codes:
  ${EXIT.ok}    success
  ${EXIT.runtime}    runtime failure (training or inference failed)
  ${EXIT.usage}    bad usage or bad input (unknown option, bad value, unknown column, non-numeric data)
  ${EXIT.notFound}    a named file or model does not exist
  ${EXIT.corrupt}    a model's files are corrupt or truncated
  ${EXIT.interrupted}  interrupted (SIGINT/SIGTERM); training writes a checkpoint first`;

/**
 * Each command's module, imported only when that command runs: their option schemas (zod),
 * progress bars and readers cost more start-up than Node itself, and `seqlab --version`,
 * `seqlab --help` or one command need none of the others.
 */
const LOADERS: Record<CommandName, () => Promise<Command>> = {
  generate: async () => (await import('./commands/generate.js')).generateCommand(),
  sentiment: async () => (await import('./commands/sentiment.js')).sentimentCommand(),
  classify: async () => (await import('./commands/classify.js')).classifyCommand(),
  forecast: async () => (await import('./commands/forecast.js')).forecastCommand(),
  train: async () => (await import('./commands/train.js')).trainCommand(),
  evaluate: async () => (await import('./commands/evaluate.js')).evaluateCommand(),
  embed: async () => (await import('./commands/embed.js')).embedCommand(),
  similar: async () => (await import('./commands/similar.js')).similarCommand(),
  models: async () => (await import('./commands/models.js')).modelsCommand(),
  jobs: async () => (await import('./commands/jobs.js')).jobsCommand(),
  worker: async () => (await import('./commands/worker.js')).workerCommand(),
  info: async () => (await import('./commands/info.js')).infoCommand(),
};

const NAMES = Object.keys(COMMAND_HELP) as CommandName[];

function applyRecursively(cmd: Command, fn: (c: Command) => void): void {
  fn(cmd);
  for (const sub of cmd.commands) applyRecursively(sub, fn);
}

/**
 * The `seqlab` program. Given the command-line arguments (without `node` and the script), it
 * loads only the command they name and lists the others by their help entry; without them
 * (a program that drives the CLI), every command is loaded.
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  // The first argument that is not an option names the command (the program has no options
  // that take a value); `help <command>` and no arguments at all load every command.
  const named = argv?.find((a) => !a.startsWith('-'));
  const load = (name: CommandName) => argv === undefined || named === 'help' || name === named;
  const program = new Command('seqlab')
    .description('Sequence learning on TensorFlow.js: text generation, sentiment, forecasting, training and evaluation.')
    .version('0.1.0')
    .addHelpText('after', EXIT_HELP)
    // A command that is not loaded has no options or arguments to show: its term comes from its entry.
    .configureHelp({ subcommandTerm: (cmd) => COMMAND_HELP[cmd.name() as CommandName]?.term ?? new Help().subcommandTerm(cmd) });
  for (const name of NAMES) {
    program.addCommand(load(name) ? await LOADERS[name]() : newCommand(name));
  }
  // Parse errors throw (and are mapped to exit code 2 by main) instead of calling process.exit.
  applyRecursively(program, (c) =>
    c.exitOverride().configureOutput({
      // Commander's parse errors, in the same one-line "seqlab: ..." form as every other error.
      outputError: (text, write) => write(`seqlab: ${text.replace(/^error:\s*/, '').replace(/\s*\n\s*/g, ' ').trim()}\n`),
    }),
  );
  return program;
}
