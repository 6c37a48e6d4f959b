import { Command } from 'commander';
import type { BacktestResult, PanelEvaluation, SplitEvaluation, TimeSeries } from '@seqlab/forecast';
import { z } from 'zod';
import { defineAction, emit, fmt, note, println, table } from '../cli.js';
import { UsageError } from '../errors.js';
import { ALL_FORECASTERS, GLOBAL_FORECASTERS, globalForecasterOptions, forecasterOptions, seasonLine } from '../forecasting.js';
import { commonSchema, existingDir, existingFile, fraction, intList, oneOf, parseOptions, positiveInt, seed } from '../options.js';
import { csvReadOptions, seriesSchema, withSeriesOptions } from '../series-options.js';

const schema = commonSchema.merge(seriesSchema).extend({
  data: z.string(),
  model: z.array(oneOf(ALL_FORECASTERS, 'a forecaster, one of')).optional(),
  load: z.string().optional(),
  horizon: positiveInt,
  lookback: positiveInt.optional(),
  season: positiveInt.optional(),
  secondSeason: positiveInt.optional(),
  epochs: positiveInt.optional(),
  windows: positiveInt.default(5),
  step: positiveInt.optional(),
  refit: z.boolean().default(false),
  seed: seed.default(42),
  split: z.string().min(1).optional(),
  stride: positiveInt.default(1),
  scaler: oneOf(['standard', 'minmax', 'none'] as const, 'a scaler, one of').default('standard'),
  level: z.union([z.literal('none'), fraction, z.unknown().transform((v, ctx) => {
    const n = Number(v);
    if (typeof v === 'string' && n > 1 && n < 100) return n / 100;
    ctx.addIssue({ code: 'custom', message: `expected an interval level in percent (90) or as a fraction (0.9), or none; got ${JSON.stringify(v)}` });
    return z.NEVER;
  })]).default(0.9),
  progress: z.boolean().default(true),
  idCol: z.string().min(1).optional(),
  wide: z.boolean().default(false),
  seeds: intList.optional(),
  lookbacks: intList.optional(),
});

const isGlobal = (name: string) => (GLOBAL_FORECASTERS as readonly string[]).includes(name);

/** `seqlab evaluate forecaster`: rolling-origin backtest of one or more forecasters. */
export function evaluateForecasterCommand(): Command {
  const cmd = new Command('forecaster')
    .description('backtest forecasters on a CSV series: W forecasts of H steps from rolling origins, pooled errors')
    .requiredOption('--data <file>', 'CSV file with a header row')
    .option('--model <name>', `forecaster to backtest (repeatable to compare): ${ALL_FORECASTERS.join('|')} (${GLOBAL_FORECASTERS.join(', ')}: one global model across a panel)`, (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--load <dir>', 'backtest the configuration of a saved forecaster (refitted at the origins); with --id-col/--wide, a saved global model scored on the rows that follow its training rows (e.g. the M4 test file)')
    .requiredOption('--horizon <n>', 'steps per forecast')
    .option('--lookback <n>', 'input window of window-based models')
    .option('--season <n>', 'season length of seasonal models (default: inferred from the dates)')
    .option('--second-season <n>', 'global models: a second, longer seasonality of the per-series smoothing, a multiple of --season (168, a week, for hourly data)')
    .option('--epochs <n>', 'training epochs of neural forecasters')
    .option('--windows <n>', 'number of forecast origins', '5')
    .option('--step <n>', 'rows between origins (default: the horizon)')
    .option('--refit', 'refit at every origin (default: fit once before the first origin)')
    .option('--seed <n>', 'random seed', '42')
    .option('--split <train:val:test>', 'standard protocol instead of a backtest: ett (12/4/4 months), fractions 0.7:0.1:0.2, row counts 8640:2880:2880, or dates 2017-07-01:2017-11-01 (validation start, test start)')
    .option('--stride <n>', 'with --split: rows between forecast origins in the test range', '1')
    .option('--scaler <kind>', 'with --split: scaler fitted on the training rows only: standard|minmax|none', 'standard')
    .option('--level <percent>', 'with --split: interval level for coverage, calibrated on validation windows (or none)', '90')
    .option('--no-progress', 'with --split or a panel: no progress lines on stderr')
    .option('--id-col <name>', 'many series in one long/tidy file: the column naming each row\'s series; each is backtested, results per series and averaged')
    .option('--wide', 'many series, one per row (the M4 layout: an id, then the values); each is backtested')
    .option('--seeds <list>', 'global models: an ensemble member per seed (comma-separated), forecasts combined by the median')
    .option('--lookbacks <list>', 'global models: an ensemble member per look-back (comma-separated) and seed');
  withSeriesOptions(cmd);
  return defineAction(cmd, async ({ opts }) => {
    const o = parseOptions(schema, opts);
    const data = existingFile(o.data, '--data');
    if (o.load && o.model) throw new UsageError('use either --model or --load, not both');
    const fc = await import('@seqlab/forecast');
    const { initBackend, setGlobalSeed } = await import('@seqlab/core');
    const globalModel = (o.model ?? []).find(isGlobal);
    if (globalModel && o.idCol === undefined && !o.wide) throw new UsageError(`${globalModel} is a global model fitted across many series: give a panel with --id-col (long file) or --wide (one series per row)`);
    if (o.idCol !== undefined || o.wide) {
      if (o.idCol !== undefined && o.wide) throw new UsageError('use either --id-col (long file) or --wide (one series per row), not both');
      if (o.load) {
        if (o.model) throw new UsageError('use either --model or --load, not both');
        await scoreSavedGlobal(fc, data, o);
        return;
      }
      if (o.split !== undefined) throw new UsageError('--id-col/--wide backtest each series with --model; --split is for one series');
      await evaluatePanelCommand(fc, data, o, cmd.getOptionValueSource('windows') === 'cli');
      return;
    }
    const series = fc.readCsvSeries(data, csvReadOptions(o));
    if (o.split !== undefined) {
      for (const flag of ['windows', 'step', 'refit'] as const) {
        if (cmd.getOptionValueSource(flag) === 'cli') throw new UsageError(`--${flag} belongs to the rolling backtest; with --split every --stride-th window of the test range is scored`);
      }
      await evaluateSplit(fc, data, series, o);
      return;
    }
    const models = o.load
      ? [await fc.loadForecaster(existingDir(o.load, '--load'))]
      : (o.model ?? ['seasonal-naive']).map((name) => fc.createForecaster(name, forecasterOptions(fc, name, { ...o, series })));
    const results: Array<{ model: string; options: unknown; seconds: number; origins: number[]; metrics: BacktestResult['metrics']; perWindow: BacktestResult['perWindow'] }> = [];
    try {
      for (const model of models) {
        if (model.capabilities.neural) await initBackend();
        setGlobalSeed(o.seed);
        const t0 = performance.now();
        const r = await model.backtest(series, { horizon: o.horizon, windows: o.windows, step: o.step, refit: o.refit });
        results.push({
          model: model.name,
          options: model.options,
          seconds: (performance.now() - t0) / 1000,
          origins: r.origins,
          metrics: r.metrics,
          perWindow: r.perWindow,
        });
      }
    } finally {
      for (const m of models) m.dispose();
    }
    const season = fc.seasonFor({ hints: { season: o.season } }, series);
    emit(o.json, { data, columns: series.columns, horizon: o.horizon, windows: o.windows, season, results }, () => {
      println(`backtest of ${series.columns.join(', ')}: ${o.windows} windows of ${o.horizon} steps${o.refit ? ', refit at each origin' : ''}`);
      const hasCoverage = results.some((r) => r.metrics.coverage !== undefined);
      println(
        table([
          ['model', 'MAE', 'RMSE', 'sMAPE', ...(hasCoverage ? ['coverage'] : []), 'seconds'],
          ...results.map((r) => [
            r.model,
            r.metrics.mae,
            r.metrics.rmse,
            r.metrics.smape,
            ...(hasCoverage ? [r.metrics.coverage !== undefined ? fmt(r.metrics.coverage) : ''] : []),
            r.seconds.toFixed(2),
          ]),
        ]),
      );
    });
  });
}

type Options = z.infer<typeof schema>;

/**
 * `evaluate forecaster --split`: each model fitted on the training part (scaler fitted there),
 * validated and calibrated on the validation part, scored on every `--stride`-th window of the
 * test part, in normalised and original units.
 */
async function evaluateSplit(fc: typeof import('@seqlab/forecast'), data: string, series: TimeSeries, o: Options): Promise<void> {
  const { initBackend, setGlobalSeed } = await import('@seqlab/core');
  const saved = o.load ? await fc.loadForecaster(existingDir(o.load, '--load')) : undefined;
  // The data arrive scaled by a scaler fitted on the training rows; models must not rescale.
  const models = saved
    ? [fc.createForecaster(saved.name, { ...saved.options, scaler: 'none' })]
    : (o.model ?? ['seasonal-naive']).map((name) => fc.createForecaster(name, { ...forecasterOptions(fc, name, { ...o, series }), scaler: 'none' }));
  saved?.dispose();
  const results: SplitEvaluation[] = [];
  const season = fc.seasonFor({ hints: { season: o.season } }, series);
  try {
    // One context length for every model, so all are scored on the same windows.
    const lookback = Math.max(...models.map((m) => m.requiredHistory));
    const split = fc.splitBySpec(series, o.split!, lookback);
    const b = split.bounds;
    if (o.progress) {
      note(`split ${o.split}: train rows [0, ${b.trainEnd}), validation [${b.trainEnd}, ${b.valEnd}), test [${b.valEnd}, ${b.testEnd}); ${b.lookback} rows of context`);
    }
    for (const model of models) {
      if (model.capabilities.neural) await initBackend();
      setGlobalSeed(o.seed);
      let shown = 0;
      const r = await fc.evaluateOnSplit(model, series, split, {
        horizon: o.horizon,
        stride: o.stride,
        scaler: o.scaler,
        level: o.level === 'none' ? null : o.level,
        ...(o.season !== undefined ? { season: o.season } : {}),
        onProgress: (done, total) => {
          // A line per quarter of the windows: enough to see it move, little enough for logs.
          if (o.progress && (done === total || done / total >= (shown + 1) / 4)) {
            shown = Math.floor((4 * done) / total);
            note(`${model.name}: scored ${done}/${total} windows`);
          }
        },
        onEpoch: o.progress ? (log) => note(`${model.name}: epoch ${log.epoch} loss ${fmt(log.trainLoss)}${log.valLoss !== undefined ? ` val ${fmt(log.valLoss)}` : ''}`) : undefined,
      });
      if (r.warning) note(`seqlab: ${r.warning}`);
      results.push(r);
    }
  } finally {
    for (const m of models) m.dispose();
  }
  const first = results[0]!;
  emit(o.json, { data, columns: series.columns, split: o.split, bounds: first.bounds, horizon: o.horizon, stride: o.stride, scaler: o.scaler, season, results }, () => {
    const b = first.bounds;
    println(`${series.columns.join(', ')}: split ${o.split} (train [0, ${b.trainEnd}), validation [${b.trainEnd}, ${b.valEnd}), test [${b.valEnd}, ${b.testEnd})), ${first.windows} windows of ${o.horizon} steps, stride ${o.stride}`);
    println(`scaler: ${o.scaler}, fitted on the training rows; MASE season ${first.maseSeason.period} (${season.reason})`);
    const level = results.find((r) => r.level !== undefined)?.level;
    println(
      table([
        ['model', `MSE (${o.scaler})`, `MAE (${o.scaler})`, 'MSE', 'MAE', 'RMSE', 'sMAPE', 'MASE', ...(level ? [`coverage ${Math.round(level * 100)}%`] : []), 'seconds'],
        ...results.map((r) => [
          r.model,
          r.normalised.mse.toFixed(4),
          r.normalised.mae.toFixed(4),
          r.original.mse,
          r.original.mae,
          r.original.rmse,
          r.original.smape,
          r.original.mase,
          ...(level ? [r.original.coverage !== undefined ? fmt(r.original.coverage) : ''] : []),
          (r.fitSeconds + r.scoreSeconds).toFixed(2),
        ]),
      ]),
    );
  });
}

/** `evaluate forecaster --id-col/--wide`: every series of a panel backtested, per series and on average. */
async function evaluatePanelCommand(fc: typeof import('@seqlab/forecast'), data: string, o: Options, windowsGiven: boolean): Promise<void> {
  const { initBackend, setGlobalSeed } = await import('@seqlab/core');
  const read = csvReadOptions(o);
  const panel = o.wide
    ? fc.readWideCsv(data, { delimiter: read.delimiter, encoding: read.encoding })
    : fc.readCsvPanel(data, { ...read, idColumn: o.idCol! });
  // M4 scores one forecast of the last H rows per series; more windows only when asked.
  const windows = windowsGiven ? o.windows : 1;
  const seasonOf = (s: TimeSeries) => fc.seasonFor({ hints: { season: o.season } }, s).period;
  const seasonReport = fc.seasonFor({ hints: { season: o.season } }, panel[0]!.series);
  const maseSeason = o.season ?? seasonOf(panel[0]!.series) ?? 1;
  const results: Array<{ model: string; seconds: number } & PanelEvaluation> = [];
  for (const name of o.model ?? ['seasonal-naive']) {
    if (isGlobal(name)) {
      results.push(await evaluateGlobal(fc, name, panel, o, windows, o.season ?? seasonOf(panel[0]!.series)));
      continue;
    }
    if (fc.ForecastPipeline.create(name).neural) await initBackend();
    const t0 = performance.now();
    let shown = 0;
    const r = await fc.evaluatePanel(
      panel,
      (s) => {
        const model = fc.createForecaster(name, forecasterOptions(fc, name, { ...o, series: s }));
        setGlobalSeed(o.seed);
        return model;
      },
      {
        horizon: o.horizon,
        windows,
        ...(o.step !== undefined ? { step: o.step } : {}),
        season: maseSeason,
        onProgress: (done, total) => {
          if (o.progress && (done === total || done / total >= (shown + 1) / 4)) {
            shown = Math.floor((4 * done) / total);
            note(`${name}: ${done}/${total} series`);
          }
        },
      },
    );
    results.push({ model: name, ...r, seconds: (performance.now() - t0) / 1000 });
  }
  const global = (o.model ?? []).some(isGlobal);
  emit(o.json, { data, layout: o.wide ? 'wide' : 'long', series: panel.length, horizon: o.horizon, windows, maseSeason, season: seasonReport, secondSeason: o.secondSeason ?? null, results }, () => {
    println(`${panel.length} series (${o.wide ? 'one per row' : `by ${o.idCol}`}): ${windows} window${windows > 1 ? 's' : ''} of ${o.horizon} steps each; means over series, MASE season ${maseSeason}`);
    if (global && seasonReport.period !== undefined) println(seasonLine(seasonReport, o.secondSeason));
    const hasCoverage = results.some((r) => r.aggregate.coverage !== undefined);
    println(
      table([
        ['model', 'series', 'MAE', 'RMSE', 'sMAPE', 'MASE', ...(hasCoverage ? ['coverage'] : []), 'skipped'],
        ...results.map((r) => [
          r.model,
          r.aggregate.series,
          r.aggregate.mae,
          r.aggregate.rmse,
          r.aggregate.smape,
          r.aggregate.mase,
          ...(hasCoverage ? [r.aggregate.coverage !== undefined ? fmt(r.aggregate.coverage) : ''] : []),
          r.skipped.length,
        ]),
      ]),
    );
    for (const r of results) if (r.skipped.length) note(`${r.model}: skipped ${r.skipped.length} series, e.g. ${r.skipped[0]!.id}: ${r.skipped[0]!.reason}`);
  });
}

/**
 * A global model backtested on a panel: one fit across every series' rows before its origin (the
 * last `--horizon` rows of each by default), each series scored, intervals from the held-out
 * windows before the origins pooled across the panel.
 */
async function evaluateGlobal(
  fc: typeof import('@seqlab/forecast'),
  name: string,
  panel: import('@seqlab/forecast').PanelSeries[],
  o: Options,
  windows: number,
  season: number | undefined,
): Promise<{ model: string; seconds: number } & PanelEvaluation> {
  const { initBackend, setGlobalSeed } = await import('@seqlab/core');
  if (season === undefined) throw new UsageError(`${name} needs --season: the series have no dates to infer it from`);
  await initBackend();
  setGlobalSeed(o.seed);
  const options = {
    ...globalForecasterOptions({ ...o, season }),
    ...(o.seeds ? { seeds: o.seeds } : {}),
    ...(o.lookbacks ? { lookbacks: o.lookbacks } : {}),
  };
  const model = fc.createGlobalForecaster(name, options);
  const t0 = performance.now();
  const r = await model.backtest(panel, {
    horizon: o.horizon,
    windows,
    ...(o.step !== undefined ? { step: o.step } : {}),
    season,
    level: o.level === 'none' ? null : o.level,
    fit: {
      onEpoch: o.progress ? (log) => note(`${name} member ${log.member + 1}: epoch ${log.epoch} loss ${fmt(log.trainLoss)}${log.valLoss !== undefined ? ` val ${fmt(log.valLoss)}` : ''}`) : undefined,
    },
  });
  return { model: name, ...r, seconds: (performance.now() - t0) / 1000 };
}

/**
 * `evaluate forecaster --load <global model> --wide/--id-col`: the saved model's forecasts from
 * the end of its training rows, scored against the file's rows (the first `--horizon` of each
 * series) - the M4 protocol of a train file and a test file.
 */
async function scoreSavedGlobal(fc: typeof import('@seqlab/forecast'), data: string, o: Options): Promise<void> {
  const { initBackend } = await import('@seqlab/core');
  const dir = existingDir(o.load!, '--load');
  const read = csvReadOptions(o);
  const panel = (o.wide ? fc.readWideCsv(data, { delimiter: read.delimiter, encoding: read.encoding }) : fc.readCsvPanel(data, { ...read, idColumn: o.idCol! })).map((p) => ({
    id: p.id,
    series: { ...p.series, values: p.series.values.map((v) => v.subarray(0, o.horizon)) },
  }));
  await initBackend();
  const model = await fc.loadGlobalForecaster(dir);
  try {
    const t0 = performance.now();
    const r = await model.scoreFuture(panel, { level: o.level === 'none' ? null : o.level });
    const results = [{ model: model.name, ...r, seconds: (performance.now() - t0) / 1000 }];
    emit(o.json, { data, load: dir, layout: o.wide ? 'wide' : 'long', series: panel.length, horizon: r.horizon, windows: 1, maseSeason: r.maseSeason, results }, () => {
      println(`${panel.length} series (${o.wide ? 'one per row' : `by ${o.idCol}`}): ${model.name} from ${dir} forecasts ${r.horizon} steps from the end of its training rows, scored on ${data}; means over series, MASE season ${r.maseSeason}`);
      println(
        table([
          ['model', 'series', 'MAE', 'RMSE', 'sMAPE', 'MASE', ...(r.aggregate.coverage !== undefined ? ['coverage'] : [])],
          [model.name, r.aggregate.series, r.aggregate.mae, r.aggregate.rmse, r.aggregate.smape, r.aggregate.mase, ...(r.aggregate.coverage !== undefined ? [fmt(r.aggregate.coverage)] : [])],
        ]),
      );
    });
  } finally {
    model.dispose();
  }
}
