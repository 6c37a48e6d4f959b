import { join, resolve } from 'node:path';
import { Command } from 'commander';
import type { Forecaster, TimeSeries } from '@seqlab/forecast';
import { z } from 'zod';
import { defineAction, emit, fmt, println } from '../cli.js';
import { InputError, UsageError } from '../errors.js';
import { ALL_FORECASTERS, GLOBAL_FORECASTERS, globalForecasterOptions, forecasterOptions, seasonLine } from '../forecasting.js';
import { commonSchema, existingFile, fraction, intList, nonNegative, oneOf, parseOptions, plotPath, positive, positiveInt, seed } from '../options.js';
import { trainingCurveChart, writeChart, type CurvePoint } from '../plots.js';
import { TrainingProgress } from '../progress.js';
import { csvReadOptions, seriesSchema, withSeriesOptions } from '../series-options.js';

const schema = commonSchema.merge(seriesSchema).extend({
  data: z.string(),
  out: z.string(),
  model: oneOf(ALL_FORECASTERS, 'a forecaster, one of').default('segrnn'),
  horizon: positiveInt,
  lookback: positiveInt.optional(),
  season: positiveInt.optional(),
  secondSeason: positiveInt.optional(),
  epochs: positiveInt.optional(),
  hidden: positiveInt.optional(),
  segmentLength: positiveInt.optional(),
  timeBudget: positive.optional(),
  valSplit: fraction.default(0.2),
  testSplit: nonNegative.refine((v) => v < 1, 'must be below 1').default(0),
  split: z.string().min(1).optional(),
  seed: seed.default(42),
  plot: z.string().optional(),
  progress: z.boolean().default(true),
  idCol: z.string().min(1).optional(),
  wide: z.boolean().default(false),
  seeds: intList.optional(),
  lookbacks: intList.optional(),
});

type Options = z.infer<typeof schema>;

/** Errors of forecasts from `origins` (every `horizon` rows), in the data's units, with 90% coverage when the model has intervals. */
async function scoreRange(fc: typeof import('@seqlab/forecast'), model: Forecaster, series: TimeSeries, from: number, to: number, horizon: number) {
  const origins: number[] = [];
  for (let origin = from; origin + horizon <= to; origin += horizon) origins.push(origin);
  if (origins.length === 0) return undefined;
  const actual: number[][] = [];
  const predicted: number[][] = [];
  const lower: number[][] = [];
  const upper: number[][] = [];
  for (const origin of origins) {
    const f = await model.predict(horizon, { history: fc.sliceSeries(series, 0, origin), level: model.calibrated ? 0.9 : null });
    series.values.forEach((v, c) => {
      actual.push(Array.from(v.subarray(origin, origin + horizon)));
      predicted.push(f.mean[c]!);
      if (f.lower && f.upper) {
        lower.push(f.lower[c]!);
        upper.push(f.upper[c]!);
      }
    });
  }
  return {
    rows: to - from,
    windows: origins.length,
    mae: fc.mae(actual, predicted),
    rmse: fc.rmse(actual, predicted),
    smape: fc.smape(actual, predicted),
    ...(lower.length ? { coverage90: fc.coverage(actual, lower, upper) } : {}),
  };
}

/** `seqlab train forecaster`: fit a forecaster on a CSV series and save it. */
export function trainForecasterCommand(): Command {
  const cmd = new Command('forecaster')
    .description('fit a forecaster on a CSV series (validation and optional test ranges held out) and save it to --out')
    .requiredOption('--data <file>', 'CSV file with a header row')
    .requiredOption('--out <dir>', 'directory to save the forecaster in')
    .option('--model <name>', `forecaster: ${ALL_FORECASTERS.join('|')} (${GLOBAL_FORECASTERS.join(', ')}: one global model across a panel)`, 'segrnn')
    .requiredOption('--horizon <n>', 'steps ahead the model is trained to forecast')
    .option('--lookback <n>', 'input window of window-based models (segrnn: reconciled with the segment length)')
    .option('--season <n>', 'season length of seasonal models (default: inferred from the dates)')
    .option('--second-season <n>', 'global models: a second, longer seasonality of the per-series smoothing, a multiple of --season (168, a week, for hourly data)')
    .option('--epochs <n>', 'maximum training epochs of neural forecasters (they stop early on validation loss)')
    .option('--hidden <n>', 'hidden size of neural forecasters')
    .option('--segment-length <n>', 'segrnn segment length (default: a divisor of the look-back, 24 when it fits)')
    .option('--time-budget <seconds>', 'stop neural training after this many seconds (best weights kept)')
    .option('--val-split <f>', 'fraction of rows, before the test range, used for validation, early stopping and interval calibration', '0.2')
    .option('--test-split <f>', 'fraction of the last rows held out as a test range: never fitted on nor calibrated on, scored after training', '0')
    .option('--split <train:val:test>', 'explicit ranges instead of --val-split/--test-split: ett, fractions 0.7:0.1:0.2, row counts or dates')
    .option('--seed <n>', 'random seed', '42')
    .option('--plot <file>', 'training-curve plot (.png or .svg; default: DIR/training-curve.png for neural models)')
    .option('--no-progress', 'no per-epoch progress on stderr (it is shown with --json too)')
    .option('--id-col <name>', 'global models: many series in one long/tidy file, this column naming each row\'s series')
    .option('--wide', 'global models: many series, one per row (the M4 layout: an id, then the values)')
    .option('--seeds <list>', 'global models: an ensemble member per seed (comma-separated), forecasts combined by the median')
    .option('--lookbacks <list>', 'global models: an ensemble member per look-back (comma-separated) and seed');
  withSeriesOptions(cmd);
  return defineAction(cmd, async ({ opts }) => {
    const o = parseOptions(schema, opts);
    const data = existingFile(o.data, '--data');
    const out = resolve(o.out);
    const plot = plotPath(o.plot) ?? join(out, 'training-curve.png');
    if (o.split !== undefined && (cmd.getOptionValueSource('valSplit') === 'cli' || cmd.getOptionValueSource('testSplit') === 'cli')) {
      throw new UsageError('use either --split or --val-split/--test-split, not both');
    }
    const global = (GLOBAL_FORECASTERS as readonly string[]).includes(o.model);
    if (o.idCol !== undefined && o.wide) throw new UsageError('use either --id-col (long file) or --wide (one series per row), not both');
    if (global !== (o.idCol !== undefined || o.wide)) {
      throw new UsageError(global ? `${o.model} is a global model fitted across many series: give a panel with --id-col (long file) or --wide (one series per row)` : `--id-col/--wide train one global model across the series: choose --model ${GLOBAL_FORECASTERS.join('|')}`);
    }
    const fc = await import('@seqlab/forecast');
    if (global) {
      await trainGlobal(fc, data, out, o);
      return;
    }
    const { initBackend, setGlobalSeed, writeJsonAtomic } = await import('@seqlab/core');
    const series = fc.readCsvSeries(data, csvReadOptions(o));
    const n = fc.seriesLength(series);
    const options = forecasterOptions(fc, o.model, { ...o, series });
    const context = typeof options.lookback === 'number' ? options.lookback : 0;
    let trainRows: number;
    let valEnd: number;
    let testEnd: number;
    if (o.split !== undefined) {
      ({ trainEnd: trainRows, valEnd, testEnd } = fc.splitBySpec(series, o.split, Math.max(1, context)).bounds);
    } else {
      const testRows = Math.round(n * o.testSplit);
      const valRows = Math.round(n * o.valSplit);
      if (testRows > 0 && testRows < o.horizon) throw new InputError(`--test-split ${o.testSplit} leaves ${testRows} test rows, fewer than --horizon ${o.horizon}`);
      [trainRows, valEnd, testEnd] = [n - testRows - valRows, n - testRows, n];
    }
    const valRows = valEnd - trainRows;
    if (valRows < o.horizon) throw new InputError(`the validation range has ${valRows} rows, fewer than --horizon ${o.horizon}`);
    if (trainRows <= context) throw new InputError(`${n} rows leave ${trainRows} training rows, not more than the lookback ${context}`);
    setGlobalSeed(o.seed);
    const model = fc.createForecaster(o.model, options);
    if (model.capabilities.neural) await initBackend();
    const train = fc.sliceSeries(series, 0, trainRows);
    // Validation windows need `lookback` rows of context before the first held-out row.
    const validation = fc.sliceSeries(series, Math.max(0, trainRows - context), valEnd);
    const epochs = o.epochs ?? (typeof options.epochs === 'number' ? options.epochs : undefined);
    const progress = new TrainingProgress(epochs ?? 0, { quiet: !o.progress });
    const curve: CurvePoint[] = [];
    const t0 = performance.now();
    try {
      await model.fit(train, {
        validation,
        onEpoch: (log) => {
          curve.push({ epoch: log.epoch, metric: 'loss', split: 'train', value: log.trainLoss });
          if (log.valLoss !== undefined) curve.push({ epoch: log.epoch, metric: 'loss', split: 'validation', value: log.valLoss });
          progress.epochEnd(log.epoch, { loss: log.trainLoss, val_loss: log.valLoss });
        },
      });
      const seconds = (performance.now() - t0) / 1000;
      // Validation rows were used for early stopping and calibration: their errors are for
      // comparing runs; the test range (when there is one) was never seen.
      const validationMetrics = (await scoreRange(fc, model, series, trainRows, valEnd, o.horizon))!;
      const testMetrics = testEnd > valEnd ? await scoreRange(fc, model, series, valEnd, testEnd, o.horizon) : undefined;
      await model.save(out);
      const date = (i: number) => series.dates?.[i]?.toISOString();
      const ranges = {
        train: { rows: [0, trainRows], from: date(0), to: date(trainRows - 1) },
        validation: { rows: [trainRows, valEnd], from: date(trainRows), to: date(valEnd - 1) },
        ...(testEnd > valEnd ? { test: { rows: [valEnd, testEnd], from: date(valEnd), to: date(testEnd - 1) } } : {}),
      };
      const summary = {
        task: 'forecaster',
        model: o.model,
        options,
        season: fc.usesSeason(o.model) ? fc.seasonFor({ hints: { season: o.season } }, series) : null,
        data,
        columns: series.columns,
        trainRows,
        validationRows: valRows,
        testRows: testEnd - valEnd,
        ranges,
        seenUntil: model.seenUntil?.toISOString() ?? null,
        epochs: curve.filter((p) => p.split === 'train').length,
        seconds,
        validationMetrics,
        testMetrics: testMetrics ?? null,
        out,
        plot: curve.length ? plot : null,
      };
      await writeJsonAtomic(join(out, 'training.json'), { ...summary, history: curve });
      if (curve.length) await writeChart(trainingCurveChart(curve, { title: `${o.model} training` }), plot);
      emit(o.json, summary, () => {
        println(`trained ${o.model} on ${trainRows} rows in ${seconds.toFixed(1)}s; saved to ${out}`);
        const line = (what: string, m: NonNullable<typeof testMetrics>) =>
          `${what} (${m.rows} rows, ${m.windows} windows): MAE ${fmt(m.mae)}  RMSE ${fmt(m.rmse)}  sMAPE ${fmt(m.smape)}${m.coverage90 !== undefined ? `  90% coverage ${fmt(m.coverage90)}` : ''}`;
        println(line('validation, used for early stopping and calibration', validationMetrics));
        if (testMetrics) println(line('test, never seen', testMetrics));
        if (curve.length) println(`training curve: ${plot}`);
      });
    } finally {
      progress.stop();
      model.dispose();
    }
  });
}

/**
 * `train forecaster --model <global> --id-col/--wide`: one model fitted across every series of a
 * panel, the last `--horizon` rows of each held out for early stopping and interval calibration
 * (pooled across the panel), then saved.
 */
async function trainGlobal(fc: typeof import('@seqlab/forecast'), data: string, out: string, o: Options): Promise<void> {
  const { initBackend, setGlobalSeed, writeJsonAtomic } = await import('@seqlab/core');
  const read = csvReadOptions(o);
  const panel = o.wide ? fc.readWideCsv(data, { delimiter: read.delimiter, encoding: read.encoding }) : fc.readCsvPanel(data, { ...read, idColumn: o.idCol! });
  const seasonReport = fc.seasonFor({ hints: { season: o.season } }, panel[0]!.series);
  const season = seasonReport.period;
  if (season === undefined) throw new UsageError(`${o.model} needs --season: the series have no dates to infer it from`);
  const options = {
    ...globalForecasterOptions({ ...o, season }),
    ...(o.seeds ? { seeds: o.seeds } : {}),
    ...(o.lookbacks ? { lookbacks: o.lookbacks } : {}),
  };
  await initBackend();
  setGlobalSeed(o.seed);
  const model = fc.createGlobalForecaster(o.model, options);
  const curve: CurvePoint[] = [];
  const t0 = performance.now();
  try {
    await model.fit(panel, {
      onEpoch: (log) => {
        if (log.member === 0) {
          curve.push({ epoch: log.epoch, metric: 'loss', split: 'train', value: log.trainLoss });
          if (log.valLoss !== undefined) curve.push({ epoch: log.epoch, metric: 'loss', split: 'validation', value: log.valLoss });
        }
        if (o.progress) process.stderr.write(`${o.model} member ${log.member + 1}: epoch ${log.epoch} loss ${fmt(log.trainLoss)}${log.valLoss !== undefined ? ` val ${fmt(log.valLoss)}` : ''}\n`);
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    await model.save(out);
    const plot = plotPath(o.plot) ?? join(out, 'training-curve.png');
    const validation = model.validationScores!;
    const summary = {
      task: 'forecaster',
      model: o.model,
      global: true,
      options,
      data,
      layout: o.wide ? 'wide' : 'long',
      series: panel.length,
      season: seasonReport,
      secondSeason: o.secondSeason ?? null,
      validation,
      seconds,
      out,
      plot: curve.length ? plot : null,
    };
    await writeJsonAtomic(join(out, 'training.json'), { ...summary, history: curve });
    if (curve.length) await writeChart(trainingCurveChart(curve, { title: `${o.model} training (member 1)` }), plot);
    emit(o.json, summary, () => {
      println(`trained ${o.model} on ${panel.length} series in ${seconds.toFixed(1)}s; saved to ${out}`);
      println(seasonLine(seasonReport, o.secondSeason));
      println(`validation (the last ${validation.rows} rows of every series, used for early stopping and calibration): sMAPE ${fmt(validation.smape)}  MASE ${fmt(validation.mase)}`);
    });
  } finally {
    model.dispose();
  }
}
