#!/usr/bin/env node
import { CommanderError } from 'commander';
import { EXIT } from './errors.js';
import { buildProgram } from './program.js';

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  // Only commander's own parse errors reach here; actions report through handleError.
  if (err instanceof CommanderError) {
    const clean = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help';
    process.exitCode = clean ? EXIT.ok : EXIT.usage;
  } else {
    process.stderr.write(`seqlab: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = EXIT.runtime;
  }
}
