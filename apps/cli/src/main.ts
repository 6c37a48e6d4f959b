#!/usr/bin/env node
import { CommanderError } from 'commander';
import { EXIT } from './errors.js';
import { buildProgram } from './program.js';

// tfjs-layers warns on every orthogonal initialisation of a large recurrent kernel; it is
// advice for model authors, not something a CLI user can act on.
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].startsWith('Orthogonal initializer')) return;
  warn(...args);
};

// `seqlab generate ... | head` closes the pipe early: stop quietly instead of crashing on EPIPE.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

try {
  await (await buildProgram(process.argv.slice(2))).parseAsync(process.argv);
} catch (err) {
  // Only commander's own parse errors reach here; actions report through handleError.
  if (err instanceof CommanderError) {
    // `--help` and `--version` succeed; help shown because a subcommand is missing is a usage error.
    const clean = err.code === 'commander.helpDisplayed' || err.code === 'commander.version';
    process.exitCode = clean ? EXIT.ok : EXIT.usage;
  } else {
    process.stderr.write(`seqlab: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = EXIT.runtime;
  }
}
