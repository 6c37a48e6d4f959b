/*
 * The forecaster names the CLI offers and the parsing of forecasting flags. Which setting
 * applies to which model is decided by the forecast task (@seqlab/tasks), not here.
 */
import { z } from 'zod';
import type { ForecastReadOptions, SeasonReport } from '@seqlab/tasks';

/** Forecaster names accepted by `--model`, as registered in @seqlab/forecast. */
export const FORECASTERS = [
  'auto',
  'segrnn',
  'seq2seq',
  'dlinear',
  'linear',
  'naive',
  'seasonal-naive',
  'drift',
  'moving-average',
  'holt-winters',
] as const;

/** The default of `forecast`, `train forecaster` and `evaluate forecaster`: chosen by a backtest on the rows fitted. */
export const DEFAULT_FORECASTER = 'auto';

/** Global (panel) forecaster names: one model fitted across every series of `--id-col` / `--wide` data. */
export const GLOBAL_FORECASTERS = ['es-hybrid'] as const;

/** Every name `train forecaster` / `evaluate forecaster` accept for `--model`. */
export const ALL_FORECASTERS = [...FORECASTERS, ...GLOBAL_FORECASTERS] as const;

/** A forecaster name. */
export type ForecasterName = (typeof FORECASTERS)[number];

/**
 * The season line of a global model's summary: the season used and why, the second season when
 * one was given, else the longer cycles the sampling frequency offers and the flag that adds one.
 */
export function seasonLine(report: SeasonReport, secondSeason: number | undefined): string {
  const longer = report.candidates.filter((c) => report.period !== undefined && c.period > report.period && c.period % report.period === 0);
  const second = secondSeason !== undefined
    ? `; second season ${secondSeason}`
    : longer.length
      ? `; --second-season ${longer.map((c) => c.period).join('|')} adds the ${longer.map((c) => c.cycle).join(' or ')} cycle`
      : '';
  return `season: ${report.period} (${report.reason})${second}`;
}

/** Levels given as percentages or fractions, as percentages, deduplicated, widest first. */
export function percentLevels(levels: number[]): number[] {
  return [...new Set(levels.map((l) => (l < 1 ? Math.round(l * 1000) / 10 : l)))].sort((a, b) => b - a);
}

/** `--bounds LOWER:UPPER`, either side may be empty. */
export const boundsOption = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined) return undefined;
    const m = /^\s*(-?[\d.eE+-]*)\s*:\s*(-?[\d.eE+-]*)\s*$/.exec(v);
    const [lower, upper] = m ? [m[1] === '' ? undefined : Number(m[1]), m[2] === '' ? undefined : Number(m[2])] : [Number.NaN, Number.NaN];
    if (!m || [lower, upper].some((x) => x !== undefined && !Number.isFinite(x)) || (lower !== undefined && upper !== undefined && lower >= upper)) {
      ctx.addIssue({ code: 'custom', message: `expected LOWER:UPPER with LOWER < UPPER, either side may be empty (0:, :100, 0:1); got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return { ...(lower !== undefined ? { lower } : {}), ...(upper !== undefined ? { upper } : {}) };
  });

/** `--series H1,H2`: comma-separated series ids. */
export const idListOption = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined) return undefined;
    const ids = v.split(',').map((s) => s.trim());
    if (ids.some((id) => id === '')) {
      ctx.addIssue({ code: 'custom', message: `expected comma-separated series ids (H1,H2); got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return ids;
  });

/** The forecast task's read options from the CLI's CSV flags (`csvReadOptions`). */
export function tableOptions(r: { dateColumn?: string; targets?: string[]; missing: ForecastReadOptions['missing']; dateFormat?: string; duplicates: ForecastReadOptions['duplicates']; delimiter: string; encoding: ForecastReadOptions['encoding'] }): ForecastReadOptions {
  return {
    ...(r.dateColumn !== undefined ? { dateColumn: r.dateColumn } : {}),
    ...(r.targets !== undefined ? { columns: r.targets } : {}),
    missing: r.missing,
    ...(r.dateFormat !== undefined ? { dateFormat: r.dateFormat } : {}),
    duplicates: r.duplicates,
    delimiter: r.delimiter,
    encoding: r.encoding,
  };
}
