import { basename, dirname, extname, join, resolve } from 'node:path';
import { Command } from 'commander';
import type { Forecast, ForecastPipeline, PanelForecastResult, PanelSeries } from '@seqlab/forecast';
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
  idCol: z.string().min(1).optional(),
  wide: z.boolean().default(false),
  series: z
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
    }),
  out: z
    .string()
    .optional()
    .refine((v) => v === undefined || /\.(csv|json)$/i.test(v), 'the file name must end in .csv or .json'),
  newSeries: oneOf(['fit', 'error'] as const, 'a policy for series the model was not fitted on, one of').default('fit'),
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
    .option('--bounds <lower:upper>', 'limits the series cannot leave, either side may be empty (0:100, :1)')
    .option('--id-col <name>', 'many series in one long/tidy file, this column naming each row\'s series: forecast every series with a global model (--load)')
    .option('--wide', 'many series, one per row (the M4 layout: an id, then the values): forecast every series with a global model (--load)')
    .option('--series <ids>', 'with --id-col/--wide: forecast only these series (comma-separated ids)')
    .option('--new-series <policy>', 'with --id-col/--wide, series the model was not fitted on: fit (its per-series smoothing on the file\'s history, the shared network as trained) or error', 'fit')
    .option('--out <file>', 'with --id-col/--wide: write the forecasts in long format (series, step, timestamp, forecast, lower/upper per level) to a .csv or .json file');
  withCsvFormatOptions(cmd);
  return defineAction(cmd, async ({ opts }) => {
    const o = parseOptions(schema, opts);
    const csv = existingFile(o.csv, '--csv');
    const plot = plotPath(o.plot);
    if (o.load && opts.model !== undefined && cmd.getOptionValueSource('model') === 'cli') {
      throw new UsageError('--model and --load cannot be used together: --load uses the saved forecaster');
    }
    if (o.idCol !== undefined || o.wide) {
      await forecastPanel(o, csv, plot);
      return;
    }
    for (const [flag, given] of [['--series', o.series], ['--out', o.out], ['--new-series', cmd.getOptionValueSource('newSeries') === 'cli' || undefined]] as const) {
      if (given !== undefined) throw new UsageError(`${flag} belongs to panel forecasts: give the series with --id-col (long file) or --wide (one per row)`);
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

type Options = z.infer<typeof schema>;

/** A file name safe on every platform for a series id (ids come from the data). */
function fileSafe(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100) || 'series';
}

/**
 * `seqlab forecast --load DIR --id-col/--wide`: a saved global model forecasts every series of
 * a panel file (or `--series`) from the file's histories, with intervals; long-format rows to
 * stdout or `--out`, one plot per series with `--plot`.
 */
async function forecastPanel(o: Options, csv: string, plot: string | undefined): Promise<void> {
  if (o.idCol !== undefined && o.wide) throw new UsageError('use either --id-col (long file) or --wide (one series per row), not both');
  if (!o.load) {
    throw new UsageError('--id-col/--wide forecast many series with a saved global model: give --load DIR (train one with `seqlab train forecaster --model es-hybrid --id-col/--wide`)');
  }
  for (const [flag, given] of [['--holdout', o.holdout || undefined], ['--save', o.save], ['--lookback', o.lookback], ['--season', o.season], ['--epochs', o.epochs]] as const) {
    if (given !== undefined) {
      throw new UsageError(`${flag} does not apply to a saved global model's panel forecast${flag === '--holdout' ? ' (score it with `seqlab evaluate forecaster --load DIR --id-col/--wide` on the rows that followed)' : ' (it was set when the model was trained)'}`);
    }
  }
  if (o.nonNegative && o.bounds) throw new UsageError('use either --non-negative or --bounds, not both');
  const fc = await import('@seqlab/forecast');
  const read = csvReadOptions(o);
  const panel: PanelSeries[] = o.wide ? fc.readWideCsv(csv, { delimiter: read.delimiter, encoding: read.encoding }) : fc.readCsvPanel(csv, { ...read, idColumn: o.idCol! });
  const { pipeline } = await import('@seqlab/tasks');
  const model: ForecastPipeline = await pipeline('forecast', existingDir(o.load, '--load'));
  try {
    if (!model.global) {
      throw new UsageError(`--load ${o.load} holds a per-series forecaster (${model.kind}); --id-col/--wide need a global model (train one with \`seqlab train forecaster --model es-hybrid --id-col/--wide\`)`);
    }
    const levels = percentLevels(o.level);
    const bounds = o.nonNegative ? { lower: 0 } : o.bounds;
    const result = await model.runPanel(panel, {
      horizon: o.horizon,
      levels: levels.map((l) => l / 100),
      ...(o.series ? { series: o.series } : {}),
      newSeries: o.newSeries,
      ...(bounds ? { bounds } : {}),
    });
    if (result.warning) note(`seqlab: ${result.warning}`);
    for (const n of result.notes) note(`seqlab: note: ${n}`);
    if (result.newSeries.length) {
      note(`seqlab: note: ${result.newSeries.length} series the model was not fitted on (${result.newSeries.slice(0, 5).join(', ')}${result.newSeries.length > 5 ? ', ...' : ''}): smoothing fitted on their history here, the shared network as trained`);
    }
    const out = o.out ? resolve(o.out) : undefined;
    if (out) {
      const { writeFileAtomic } = await import('@seqlab/core');
      const body = extname(out).toLowerCase() === '.json' ? `${JSON.stringify({ ...result, rows: fc.panelForecastRows(result) }, null, 2)}\n` : fc.panelForecastCsv(result);
      await writeFileAtomic(out, body);
    }
    const plots = plot ? await plotPanel(panel, result, plot, o.history) : [];
    const levelsShown = result.levels.map((l) => Math.round(l * 1000) / 10);
    emit(
      o.json,
      { ...result, csv, layout: o.wide ? 'wide' : 'long', levels: levelsShown, out: out ?? null, plots },
      () => {
        println(`${result.model} (${result.kind}, global) forecast of ${result.series.length} series, ${o.horizon} steps each${result.newSeries.length ? ` (${result.newSeries.length} not seen in training)` : ''}`);
        if (out) println(`forecasts written to ${out} (${result.series.length * o.horizon} rows)`);
        else {
          const rows = fc.panelForecastRows(result);
          const dated = rows.some((r) => r.timestamp !== undefined);
          println(
            table([
              ['series', 'step', ...(dated ? ['timestamp'] : []), 'forecast', ...levelsShown.map((l) => `${l}% interval`)],
              ...rows.map((r) => [
                r.series,
                r.step,
                ...(dated ? [r.timestamp ?? ''] : []),
                r.forecast,
                ...levelsShown.map((l) => `[${fmt(r[`lower_${l}`])}, ${fmt(r[`upper_${l}`])}]`),
              ]),
            ]),
          );
        }
        if (plots.length) println(`${plots.length} plot${plots.length > 1 ? 's' : ''} written, e.g. ${plots[0]}`);
      },
    );
  } finally {
    model.dispose();
  }
}

/** One chart per forecast series: `--plot dir/name.png` becomes `dir/name-<id>.png`. */
async function plotPanel(panel: readonly PanelSeries[], result: PanelForecastResult, plot: string, historyRows: number): Promise<string[]> {
  const byId = new Map(panel.map((p) => [p.id, p.series]));
  const ext = extname(plot);
  const stem = join(dirname(plot), basename(plot, ext));
  const files: string[] = [];
  for (const s of result.series) {
    const history = byId.get(s.id)!;
    const series = { ...history, columns: [s.id] };
    const forecasts: Forecast[] = s.intervals.length
      ? s.intervals.map((iv) => ({ columns: [s.id], mean: [s.mean], lower: [iv.lower], upper: [iv.upper], level: iv.level }))
      : [{ columns: [s.id], mean: [s.mean] }];
    const file = `${stem}-${fileSafe(s.id)}${ext}`;
    await writeChart(chartFor(series, forecasts, s.dates, undefined, historyRows, `${result.model} forecast of ${s.id}, horizon ${result.horizon}`), file);
    files.push(file);
  }
  return files;
}
