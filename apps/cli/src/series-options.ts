import { Command } from 'commander';
import { z } from 'zod';
import { collect } from './cli.js';
import { oneOf } from './options.js';

/** CSV options shared by the commands that read a time series. */
export const seriesSchema = z.object({
  dateCol: z.string().optional(),
  target: z.array(z.string()).optional(),
  missing: oneOf(['error', 'ffill', 'linear'] as const, 'a missing-value policy, one of').default('error'),
});

/** Adds `--date-col`, `--target` and `--missing`. */
export function withSeriesOptions(cmd: Command): Command {
  return cmd
    .option('--date-col <name>', 'date column (default: the first column when it holds dates)')
    .option('--target <column>', 'value column (repeatable; default: every non-date column)', collect)
    .option('--missing <policy>', 'missing cells: error|ffill|linear', 'error');
}
