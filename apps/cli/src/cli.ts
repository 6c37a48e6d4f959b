import { Command } from 'commander';
import { handleError } from './errors.js';
import { escapeControl } from './texts.js';

/** What every action handler receives. */
export interface ActionContext {
  /** Positional arguments after commander's own processing. */
  args: unknown[];
  /** Raw option values (strings); validate with a zod schema before use. */
  opts: Record<string, unknown>;
  /** The command being run. */
  command: Command;
}

/** Adds `--json` and `--verbose`, which every command accepts. */
export function withCommonOptions(cmd: Command): Command {
  return cmd
    .option('--json', 'print one machine-readable JSON document on stdout')
    .option('--verbose', 'print stack traces and extra detail on stderr');
}

/**
 * Sets the action of `cmd` so that whatever it throws goes through {@link handleError}
 * (one line, exit code by kind) rather than an unhandled rejection with a stack trace.
 */
export function defineAction(cmd: Command, handler: (ctx: ActionContext) => Promise<void>): Command {
  withCommonOptions(cmd);
  cmd.action(async (...all: unknown[]) => {
    const command = all[all.length - 1] as Command;
    const opts = command.opts();
    try {
      await handler({ args: command.processedArgs, opts, command });
    } catch (err) {
      handleError(err, { verbose: opts.verbose === true, json: opts.json === true });
    }
  });
  return cmd;
}

/** A command that only groups its subcommands (`seqlab train lm`, `seqlab jobs submit`). */
export function commandGroup(name: string, description: string, subcommands: Command[]): Command {
  const group = new Command(name).description(description);
  for (const sub of subcommands) group.addCommand(sub);
  return group;
}

/** Writes `value` as JSON (with `--json`) or calls `human` to print text. */
export function emit(json: boolean, value: unknown, human: () => void): void {
  if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else human();
}

/** Prints a line to stdout, with control characters escaped (texts may come from any file). */
export function println(line = ''): void {
  process.stdout.write(`${escapeControl(line)}\n`);
}

/** Prints a line to stderr (status that must not pollute stdout). */
export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Collects a repeatable option into an array (`--target a --target b`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Formats rows as a left-aligned text table. */
export function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const widths: number[] = [];
  for (const row of cells) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return cells.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** A number with about 4 significant digits. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1000) return n.toFixed(1);
  if (abs >= 1) return n.toFixed(3);
  return n.toPrecision(4);
}
