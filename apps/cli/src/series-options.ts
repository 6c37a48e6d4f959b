import { Command } from 'commander';
import { z } from 'zod';
import { collect } from './cli.js';
import { UsageError } from './errors.js';
import { oneOf } from './options.js';

const DELIMITERS = { auto: 'auto', comma: ',', semicolon: ';', tab: '\t', pipe: '|', ',': ',', ';': ';', '|': '|', '\t': '\t' } as const;

/** How a CSV file is read: `--date-format`, `--duplicates`, `--delimiter`, `--encoding`. */
export const csvFormatSchema = z.object({
  dateFormat: z.string().min(1).optional(),
  duplicates: oneOf(['error', 'first', 'last', 'mean'] as const, 'a duplicate-timestamp policy, one of').default('error'),
  delimiter: oneOf(Object.keys(DELIMITERS) as [keyof typeof DELIMITERS, ...Array<keyof typeof DELIMITERS>], 'a delimiter, one of')
    .default('auto')
    .transform((d) => DELIMITERS[d]),
  encoding: oneOf(['auto', 'utf8', 'latin1', 'utf16le'] as const, 'an encoding, one of').default('auto'),
});

/** CSV options shared by the commands that read a time series. */
export const seriesSchema = z
  .object({
    dateCol: z.string().optional(),
    target: z.array(z.string()).optional(),
    missing: oneOf(['error', 'ffill', 'linear'] as const, 'a missing-value policy, one of').default('error'),
  })
  .merge(csvFormatSchema);

/** Adds `--date-format`, `--duplicates`, `--delimiter` and `--encoding`. */
export function withCsvFormatOptions(cmd: Command): Command {
  return cmd
    .option('--date-format <pattern>', 'date format, e.g. DD/MM/YYYY, MM/DD/YYYY HH:mm or iso (default: ISO; day/month order detected, ambiguous dates refused)')
    .option('--duplicates <policy>', 'rows repeating a timestamp: error|first|last|mean', 'error')
    .option('--delimiter <d>', 'field delimiter: auto|comma|semicolon|tab|pipe', 'auto')
    .option('--encoding <e>', 'file encoding: auto|utf8|latin1|utf16le (auto: byte-order mark, else UTF-8, else Latin-1)', 'auto');
}

/** Adds `--date-col`, `--target`, `--missing` and the CSV format options. */
export function withSeriesOptions(cmd: Command): Command {
  cmd
    .option('--date-col <name>', 'date column (default: the first column when it holds dates)')
    .option('--target <column>', 'value column (repeatable; default: every non-date column)', collect)
    .option('--missing <policy>', 'missing cells: error|ffill|linear', 'error');
  return withCsvFormatOptions(cmd);
}

/**
 * Adds the panel flags `--id-col` and `--wide` (help in the command's words) and `--seeds` and
 * `--lookbacks`, the members of a global model's ensemble.
 */
export function withPanelOptions(cmd: Command, help: { idCol: string; wide: string }): Command {
  return cmd
    .option('--id-col <name>', help.idCol)
    .option('--wide', help.wide)
    .option('--seeds <list>', 'global models: an ensemble member per seed (comma-separated), forecasts combined by the median')
    .option('--lookbacks <list>', 'global models: an ensemble member per look-back (comma-separated) and seed');
}

/** How `--id-col`/`--wide` lay out a panel file. */
export interface PanelFlags {
  idCol?: string | undefined;
  wide: boolean;
}

/** Whether the flags name a panel (many series in one file); both `--id-col` and `--wide` is a usage error. */
export function isPanel(o: PanelFlags): boolean {
  if (o.idCol !== undefined && o.wide) throw new UsageError('use either --id-col (long file) or --wide (one series per row), not both');
  return o.idCol !== undefined || o.wide;
}

/** The panel layout of the task's table options: wide, long by an id column, or none (one series). */
export function panelLayout(o: PanelFlags): { layout: 'wide' } | { idColumn: string } | Record<string, never> {
  return o.wide ? { layout: 'wide' as const } : o.idCol !== undefined ? { idColumn: o.idCol } : {};
}

/** `readCsvSeries` options from parsed series flags. */
export function csvReadOptions(o: z.infer<typeof csvFormatSchema> & { dateCol?: string; target?: string[]; missing: 'error' | 'ffill' | 'linear' }) {
  return {
    dateColumn: o.dateCol,
    targets: o.target,
    missing: o.missing,
    dateFormat: o.dateFormat,
    duplicates: o.duplicates,
    delimiter: o.delimiter,
    encoding: o.encoding,
  };
}
