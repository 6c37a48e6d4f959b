import { resolve } from 'node:path';
import { Command } from 'commander';
import type { Forecast } from '@seqlab/forecast';
import { z } from 'zod';
import { collect, defineAction, emit, fmt, note, println, table } from '../cli.js';
import { TrainingProgress } from '../progress.js';
import { InputError, UsageError } from '../errors.js';
import { commonSchema, existingDir, existingFile, int, numberList, oneOf, parseOptions, plotPath, positiveInt, seed } from '../options.js';
import { forecastChart, writeChart, type ForecastPoint, type IntervalPoint } from '../plots.js';
import { FORECASTERS, percentLevels } from '../forecasting.js';
import { csvFormatSchema, csvReadOptions, withCsvFormatOptions } from '../series-options.js';

const schema = commonSchema.merge(csvFormatSchema).extend({
  csv: z.string(),
  dateCol: z.string().optional(),
  target: z.array(z.string()).optional(),
  horizon: positiveInt,
  lookback: positiveInt.optional(),
  model: oneOf(FORECASTERS, 'a forecaster, one of').default('seasonal-naive'),
  load: z.string().optional(),
  season: positiveInt.optional(),
  epochs: positiveInt.optional(),
  level: numberList('interval levels in percent (e.g. 80,95) or as fractions (0.8)', (n) => n > 0 && n < 100).default([80, 95]),
  holdout: z.boolean().default(false),
  missing: oneOf(['error', 'ffill', 'linear'] as const, 'a missing-value policy, one of').default('error'),
  history: int(0).default(120),
  plot: z.string().optional(),
  save: z.string().optional(),
  seed: seed.default(42),
  nonNegative: z.boolean().default(false),
  bounds: z
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
    }),
});

/** `seqlab forecast`: fit a forecaster on a CSV series and forecast H steps with intervals. */
export function forecastCommand(): Command {
  const cmd = new Command('forecast')
    .description('forecast a CSV time series H steps ahead with prediction intervals, optionally plotted')
    .requiredOption('--csv <file>', 'CSV file with a header row')
    .option('--date-col <name>', 'date column (default: the first column when it holds dates)')
    .option('--target <column>', 'value column to forecast (repeatable; default: every non-date column)', collect)
    .requiredOption('--horizon <n>', 'steps to forecast')
    .option('--lookback <n>', 'input window of window-based models (segrnn, seq2seq, dlinear, linear)')
    .option('--model <name>', `forecaster: ${FORECASTERS.join('|')}`, 'seasonal-naive')
    .option('--load <dir>', 'use a forecaster saved by `seqlab train forecaster` instead of fitting one')
    .option('--season <n>', 'season length for seasonal models (default: inferred from the dates, e.g. 12 for monthly)')
    .option('--epochs <n>', 'training epochs of neural forecasters')
    .option('--level <percent...>', 'prediction-interval levels in percent', '80,95')
    .option('--holdout', 'hold out the last H rows, forecast them and report errors against the actual values')
    .option('--missing <policy>', 'missing cells: error|ffill|linear', 'error')
    .option('--history <n>', 'history rows shown in the plot (0 = all)', '120')
    .option('--plot <file>', 'write a chart of history, forecast, intervals and actuals (.png or .svg)')
    .option('--save <dir>', 'save the fitted forecaster to a directory')
    .option('--seed <n>', 'random seed for neural forecasters', '42')
    .option('--non-negative', 'the series cannot go below 0: clip forecasts and intervals there')
    .option('--bounds <lower:upper>', 'limits the series cannot leave, either side may be empty (0:100, :1)');
  withCsvFormatOptions(cmd);
  return defineAction(cmd, async ({ opts }) => {
    const o = parseOptions(schema, opts);
    const csv = existingFile(o.csv, '--csv');
    const plot = plotPath(o.plot);
    if (o.load && opts.model !== undefined && cmd.getOptionValueSource('model') === 'cli') {
      throw new UsageError('--model and --load cannot be used together: --load uses the saved forecaster');
    }
    const fc = await import('@seqlab/forecast');
    const series = fc.readCsvSeries(csv, csvReadOptions(o));
    const n = fc.seriesLength(series);
    if (o.holdout && n <= o.horizon) throw new InputError(`--holdout: the series has ${n} rows, not enough to hold out ${o.horizon}`);
    const train = o.holdout ? fc.sliceSeries(series, 0, n - o.horizon) : series;
    const levels = percentLevels(o.level);

    const { pipeline } = await import('@seqlab/tasks');
    const { setGlobalSeed } = await import('@seqlab/core');
    setGlobalSeed(o.seed);
    // Neural forecasters report each epoch on stderr (stdout keeps only the forecast).
    const progress = new TrainingProgress(o.epochs ?? 0, { quiet: o.json });
    if (o.nonNegative && o.bounds) throw new UsageError('use either --non-negative or --bounds, not both');
    const bounds = o.nonNegative ? { lower: 0 } : o.bounds;
    const request = {
      horizon: o.horizon,
      ...(bounds ? { bounds } : {}),
      levels: levels.map((l) => l / 100),
      hints: { season: o.season, lookback: o.lookback, epochs: o.epochs, seed: o.seed },
      onEpoch: (log: { epoch: number; trainLoss: number; valLoss?: number }) => progress.epochEnd(log.epoch, { loss: log.trainLoss, val_loss: log.valLoss }),
    };
    const base = await pipeline('forecast', o.load ? existingDir(o.load, '--load') : o.model);
    // A saved model forecasts from the rows before the holdout (or the whole file); a named one is fitted on them.
    const model = o.load ? base : await base.fit(train, request);
    // A saved model scored on rows it was fitted or calibrated on looks better than it is.
    const overlap = o.load && o.holdout ? fc.holdoutOverlap(base.forecaster!, series.dates?.[n - o.horizon]) : undefined;
    if (overlap) note(`seqlab: warning: ${overlap}`);
    try {
      const result = await model.run(o.load ? (o.holdout ? train : series) : undefined, request);
      const fitSeconds = result.fitSeconds;
      if (result.warning) note(`seqlab: ${result.warning}`);
      for (const n of result.notes ?? []) note(`seqlab: note: ${n}`);
      const forecasts: Forecast[] = result.forecasts;
      const main = forecasts[0]!;
      const actual = o.holdout ? series.values.map((v) => Array.from(v.subarray(n - o.horizon))) : undefined;
      const metrics = actual
        ? { mae: fc.mae(actual, main.mean), rmse: fc.rmse(actual, main.mean), smape: fc.smape(actual, main.mean) }
        : undefined;
      const dates = main.dates ?? (o.holdout && series.dates ? series.dates.slice(n - o.horizon).map((d) => d.toISOString()) : undefined);
      const rows = main.columns.flatMap((column, c) =>
        main.mean[c]!.map((mean, h) => ({
          column,
          step: h + 1,
          date: dates?.[h],
          mean,
          intervals: Object.fromEntries(
            forecasts.filter((f) => f.lower && f.upper && f.level).map((f) => [String(Math.round(f.level! * 100)), [f.lower![c]![h]!, f.upper![c]![h]!]]),
          ),
          actual: actual?.[c]?.[h],
        })),
      );
      if (o.save) await model.save(resolve(o.save));
      let plotBytes: number | undefined;
      if (plot) {
        const spec = chartFor(train, forecasts, dates, actual, o.history, `${result.model} forecast, horizon ${o.horizon}`);
        plotBytes = await writeChart(spec, plot);
      }
      emit(
        o.json,
        {
          model: result.model,
          csv,
          read: series.read,
          columns: main.columns,
          horizon: o.horizon,
          trainRows: fc.seriesLength(train),
          fitSeconds,
          levels: forecasts.filter((f) => f.level).map((f) => Math.round(f.level! * 100)),
          season: result.season ?? null,
          forecast: rows,
          metrics,
          notes: result.notes ?? [],
          warnings: [...(result.warning ? [result.warning] : []), ...(overlap ? [overlap] : [])],
          plot: plot ?? null,
          saved: o.save ? resolve(o.save) : null,
        },
        () => {
          const lv = forecasts.filter((f) => f.level).map((f) => Math.round(f.level! * 100));
          println(`${result.model} forecast of ${main.columns.join(', ')} (${o.horizon} steps, fitted on ${fc.seriesLength(train)} rows)`);
          if (result.season) println(`season: ${result.season.period ?? 'none'} (${result.season.reason})`);
          const header = ['column', 'step', ...(dates ? ['date'] : []), 'forecast', ...lv.map((l) => `${l}% interval`), ...(actual ? ['actual'] : [])];
          println(
            table([
              header,
              ...rows.map((r) => [
                r.column,
                r.step,
                ...(dates ? [(r.date ?? '').slice(0, 10)] : []),
                r.mean,
                ...lv.map((l) => {
                  const iv = r.intervals[String(l)];
                  return iv ? `[${fmt(iv[0]!)}, ${fmt(iv[1]!)}]` : '';
                }),
                ...(actual ? [r.actual ?? ''] : []),
              ]),
            ]),
          );
          if (metrics) println(`holdout errors: MAE ${fmt(metrics.mae)}  RMSE ${fmt(metrics.rmse)}  sMAPE ${fmt(metrics.smape)}`);
          if (plot) println(`plot written to ${plot} (${plotBytes} bytes)`);
          if (o.save) println(`forecaster saved to ${resolve(o.save)}`);
        },
      );
    } finally {
      model.dispose();
    }
  });
}

interface SeriesLike {
  columns: string[];
  values: Float64Array[];
  dates?: Date[];
}

function chartFor(
  train: SeriesLike,
  forecasts: Forecast[],
  dates: string[] | undefined,
  actual: number[][] | undefined,
  historyRows: number,
  title: string,
) {
  const n = train.values[0]!.length;
  const start = historyRows > 0 ? Math.max(0, n - historyRows) : 0;
  const temporal = dates !== undefined && train.dates !== undefined;
  const xAt = (i: number) => (temporal ? train.dates![i]!.toISOString() : i + 1);
  const xFuture = (h: number) => (temporal ? dates![h]! : n + h + 1);
  const points: ForecastPoint[] = [];
  const intervals: IntervalPoint[] = [];
  const main = forecasts[0]!;
  main.columns.forEach((name, c) => {
    const v = train.values[c]!;
    for (let i = start; i < n; i++) points.push({ x: xAt(i), series: name, kind: 'history', value: v[i]! });
    // The forecast line starts at the last observed point so the two lines join.
    points.push({ x: xAt(n - 1), series: name, kind: 'forecast', value: v[n - 1]! });
    main.mean[c]!.forEach((m, h) => points.push({ x: xFuture(h), series: name, kind: 'forecast', value: m }));
    if (actual) {
      points.push({ x: xAt(n - 1), series: name, kind: 'actual', value: v[n - 1]! });
      actual[c]!.forEach((a, h) => points.push({ x: xFuture(h), series: name, kind: 'actual', value: a }));
    }
    for (const f of forecasts) {
      if (!f.lower || !f.upper || !f.level) continue;
      f.mean[c]!.forEach((_, h) =>
        intervals.push({ x: xFuture(h), series: name, level: Math.round(f.level! * 100), lower: f.lower![c]![h]!, upper: f.upper![c]![h]! }),
      );
    }
  });
  return forecastChart(points, intervals, { title, temporal });
}
