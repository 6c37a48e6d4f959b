import { extname, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { collect, defineAction, emit, fmt, note, println, table } from '../cli.js';
import { TrainingProgress } from '../progress.js';
import { UsageError } from '../errors.js';
import { commonSchema, existingDir, existingFile, int, numberList, oneOf, parseOptions, plotPath, positiveInt, seed } from '../options.js';
import { writeChart } from '../plots.js';
import { boundsOption, DEFAULT_FORECASTER, FORECASTERS, idListOption, percentLevels, tableOptions } from '../forecasting.js';
import { forecastChartFor, plotPanel } from '../forecast-charts.js';
import { csvFormatSchema, csvReadOptions, withCsvFormatOptions } from '../series-options.js';
import { newCommand } from '../command-help.js';

const schema = commonSchema.merge(csvFormatSchema).extend({
  csv: z.string(),
  dateCol: z.string().optional(),
  target: z.array(z.string()).optional(),
  horizon: positiveInt,
  lookback: positiveInt.optional(),
  model: oneOf(FORECASTERS, 'a forecaster, one of').default(DEFAULT_FORECASTER),
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
  series: idListOption,
  out: z.string().optional().refine((v) => v === undefined || /\.(csv|json)$/i.test(v), 'the file name must end in .csv or .json'),
  newSeries: oneOf(['fit', 'error'] as const, 'a policy for series the model was not fitted on, one of').default('fit'),
  nonNegative: z.boolean().default(false),
  bounds: boundsOption,
});
type Options = z.infer<typeof schema>;

/** `seqlab forecast`: fit a forecaster (default `auto`) on a CSV series and forecast H steps with intervals. */
export function forecastCommand(): Command {
  const cmd = newCommand('forecast')
    .requiredOption('--csv <file>', 'CSV file with a header row')
    .option('--date-col <name>', 'date column (default: the first column when it holds dates)')
    .option('--target <column>', 'value column to forecast (repeatable; default: every non-date column)', collect)
    .requiredOption('--horizon <n>', 'steps to forecast')
    .option('--lookback <n>', 'input window of window-based models (segrnn, seq2seq, dlinear, linear)')
    .option('--model <name>', `forecaster: ${FORECASTERS.join('|')} (auto: the kind with the lowest RMSE in a rolling-origin backtest on the rows it is fitted on)`, DEFAULT_FORECASTER)
    .option('--load <dir>', 'use a forecaster saved by `seqlab train forecaster` instead of fitting one')
    .option('--season <n>', 'season length for seasonal models (default: inferred from the dates, e.g. 12 for monthly; auto also tries the cycles in the data)')
    .option('--epochs <n>', 'training epochs of neural forecasters')
    .option('--level <percent...>', 'prediction-interval levels in percent', '80,95')
    .option('--holdout', 'hold out the last H rows, forecast them and report errors against the actual values')
    .option('--missing <policy>', 'missing cells: error|ffill|linear', 'error')
    .option('--history <n>', 'history rows shown in the plot (0 = all)', '120')
    .option('--plot <file>', 'write a chart of history, forecast, intervals and actuals (.png or .svg)')
    .option('--save <dir>', 'save the fitted forecaster to a directory')
    .option('--seed <n>', 'random seed for neural forecasters', '42')
    .option('--non-negative', 'the series cannot go below 0: clip forecasts and intervals there (auto does so by itself when every value is >= 0)')
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
    if (o.load && cmd.getOptionValueSource('model') === 'cli') throw new UsageError('--model and --load cannot be used together: --load uses the saved forecaster');
    if (o.nonNegative && o.bounds) throw new UsageError('use either --non-negative or --bounds, not both');
    const bounds = o.nonNegative ? { lower: 0 } : o.bounds;
    const levels = percentLevels(o.level).map((l) => l / 100);
    if (o.idCol !== undefined || o.wide) return forecastPanel(o, csv, plot, levels, bounds);
    for (const [flag, given] of [['--series', o.series], ['--out', o.out], ['--new-series', cmd.getOptionValueSource('newSeries') === 'cli' || undefined]] as const) {
      if (given !== undefined) throw new UsageError(`${flag} belongs to panel forecasts: give the series with --id-col (long file) or --wide (one per row)`);
    }
    const { forecastCsv } = await import('@seqlab/tasks');
    const { setGlobalSeed } = await import('@seqlab/core');
    setGlobalSeed(o.seed);
    // Neural forecasters report each epoch on stderr (stdout keeps only the forecast).
    const progress = new TrainingProgress(o.epochs ?? 0, { quiet: o.json });
    const r = await forecastCsv(csv, {
      ...tableOptions(csvReadOptions(o)), horizon: o.horizon, levels, holdout: o.holdout, season: o.season, lookback: o.lookback, epochs: o.epochs, seed: o.seed,
      ...(o.load ? { load: existingDir(o.load, '--load') } : { model: o.model }), ...(bounds ? { bounds } : {}), ...(o.save ? { save: resolve(o.save) } : {}),
      onEpoch: (log) => progress.epochEnd(log.epoch, { loss: log.trainLoss, val_loss: log.valLoss }),
    });
    for (const w of r.warnings) note(`seqlab: warning: ${w}`);
    for (const n of r.result.notes ?? []) note(`seqlab: note: ${n}`);
    const trainRows = r.train.values[0]!.length;
    const plotBytes = plot ? await writeChart(forecastChartFor(r.train, r.result.forecasts, r.dates, r.actual, o.history, `${r.result.model} forecast, horizon ${o.horizon}`), plot) : undefined;
    const lv = r.result.forecasts.filter((f) => f.level).map((f) => Math.round(f.level! * 100));
    const summary = {
      model: r.result.model, csv, read: r.read, columns: r.result.columns, horizon: o.horizon, trainRows, fitSeconds: r.result.fitSeconds, levels: lv, season: r.result.season ?? null,
      forecast: r.rows, metrics: r.metrics, notes: r.result.notes ?? [], warnings: r.warnings, plot: plot ?? null, saved: o.save ? resolve(o.save) : null,
    };
    emit(o.json, summary, () => {
      println(`${r.result.model} forecast of ${r.result.columns.join(', ')} (${o.horizon} steps, fitted on ${trainRows} rows)`);
      if (r.result.season) println(`season: ${r.result.season.period ?? 'none'} (${r.result.season.reason})`);
      const dated = r.dates !== undefined;
      const header = ['column', 'step', ...(dated ? ['date'] : []), 'forecast', ...lv.map((l) => `${l}% interval`), ...(r.actual ? ['actual'] : [])];
      const body = r.rows.map((row) => [row.column, row.step, ...(dated ? [(row.date ?? '').slice(0, 10)] : []), row.mean, ...lv.map((l) => (row.intervals[String(l)] ? `[${fmt(row.intervals[String(l)]![0])}, ${fmt(row.intervals[String(l)]![1])}]` : '')), ...(r.actual ? [row.actual ?? ''] : [])]);
      println(table([header, ...body]));
      if (r.metrics) println(`holdout errors: MAE ${fmt(r.metrics.mae)}  RMSE ${fmt(r.metrics.rmse)}  sMAPE ${fmt(r.metrics.smape)}`);
      if (plot) println(`plot written to ${plot} (${plotBytes} bytes)`);
      if (o.save) println(`forecaster saved to ${resolve(o.save)}`);
    });
  });
}

/** `seqlab forecast --load DIR --id-col/--wide`: a saved global model forecasts every series of a panel file. */
async function forecastPanel(o: Options, csv: string, plot: string | undefined, levels: number[], bounds: { lower?: number; upper?: number } | undefined): Promise<void> {
  if (o.idCol !== undefined && o.wide) throw new UsageError('use either --id-col (long file) or --wide (one series per row), not both');
  if (!o.load) throw new UsageError('--id-col/--wide forecast many series with a saved global model: give --load DIR (train one with `seqlab train forecaster --model es-hybrid --id-col/--wide`)');
  for (const [flag, given] of [['--holdout', o.holdout || undefined], ['--save', o.save], ['--lookback', o.lookback], ['--season', o.season], ['--epochs', o.epochs]] as const) {
    if (given !== undefined) throw new UsageError(`${flag} does not apply to a saved global model's panel forecast${flag === '--holdout' ? ' (score it with `seqlab evaluate forecaster --load DIR --id-col/--wide` on the rows that followed)' : ' (it was set when the model was trained)'}`);
  }
  const { forecastPanelCsv } = await import('@seqlab/tasks');
  const read = tableOptions(csvReadOptions(o));
  const r = await forecastPanelCsv(csv, { ...read, ...(o.wide ? { layout: 'wide' as const } : { idColumn: o.idCol! }), load: existingDir(o.load, '--load'), horizon: o.horizon, levels, ...(o.series ? { series: o.series } : {}), newSeries: o.newSeries, ...(bounds ? { bounds } : {}) });
  const result = r.result;
  if (result.warning) note(`seqlab: ${result.warning}`);
  for (const n of result.notes) note(`seqlab: note: ${n}`);
  if (result.newSeries.length) note(`seqlab: note: ${result.newSeries.length} series the model was not fitted on (${result.newSeries.slice(0, 5).join(', ')}${result.newSeries.length > 5 ? ', ...' : ''}): smoothing fitted on their history here, the shared network as trained`);
  const out = o.out ? resolve(o.out) : undefined;
  if (out) {
    const { writeFileAtomic } = await import('@seqlab/core');
    await writeFileAtomic(out, extname(out).toLowerCase() === '.json' ? `${JSON.stringify({ ...result, rows: r.rows }, null, 2)}\n` : r.csv);
  }
  const plots = plot ? await plotPanel(r.panel, result, plot, o.history) : [];
  const shown = result.levels.map((l) => Math.round(l * 1000) / 10);
  emit(o.json, { ...result, csv, layout: o.wide ? 'wide' : 'long', levels: shown, out: out ?? null, plots }, () => {
    println(`${result.model} (${result.kind}, global) forecast of ${result.series.length} series, ${o.horizon} steps each${result.newSeries.length ? ` (${result.newSeries.length} not seen in training)` : ''}`);
    if (out) println(`forecasts written to ${out} (${result.series.length * o.horizon} rows)`);
    else {
      const dated = r.rows.some((row) => row.timestamp !== undefined);
      const body = r.rows.map((row) => [row.series, row.step, ...(dated ? [row.timestamp ?? ''] : []), row.forecast, ...shown.map((l) => `[${fmt(row[`lower_${l}`])}, ${fmt(row[`upper_${l}`])}]`)]);
      println(table([['series', 'step', ...(dated ? ['timestamp'] : []), 'forecast', ...shown.map((l) => `${l}% interval`)], ...body]));
    }
    if (plots.length) println(`${plots.length} plot${plots.length > 1 ? 's' : ''} written, e.g. ${plots[0]}`);
  });
}
