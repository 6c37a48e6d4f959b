import { Command } from 'commander';
import type { BacktestResult } from '@seqlab/forecast';
import { z } from 'zod';
import { defineAction, emit, fmt, println, table } from '../cli.js';
import { UsageError } from '../errors.js';
import { FORECASTERS, forecasterOptions } from '../forecasting.js';
import { commonSchema, existingDir, existingFile, oneOf, parseOptions, positiveInt, seed } from '../options.js';
import { csvReadOptions, seriesSchema, withSeriesOptions } from '../series-options.js';

const schema = commonSchema.merge(seriesSchema).extend({
  data: z.string(),
  model: z.array(oneOf(FORECASTERS, 'a forecaster, one of')).optional(),
  load: z.string().optional(),
  horizon: positiveInt,
  lookback: positiveInt.optional(),
  season: positiveInt.optional(),
  epochs: positiveInt.optional(),
  windows: positiveInt.default(5),
  step: positiveInt.optional(),
  refit: z.boolean().default(false),
  seed: seed.default(42),
});

/** `seqlab evaluate forecaster`: rolling-origin backtest of one or more forecasters. */
export function evaluateForecasterCommand(): Command {
  const cmd = new Command('forecaster')
    .description('backtest forecasters on a CSV series: W forecasts of H steps from rolling origins, pooled errors')
    .requiredOption('--data <file>', 'CSV file with a header row')
    .option('--model <name>', `forecaster to backtest (repeatable to compare): ${FORECASTERS.join('|')}`, (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--load <dir>', 'backtest the configuration of a saved forecaster (refitted at the origins)')
    .requiredOption('--horizon <n>', 'steps per forecast')
    .option('--lookback <n>', 'input window of window-based models')
    .option('--season <n>', 'season length of seasonal models (default: inferred from the dates)')
    .option('--epochs <n>', 'training epochs of neural forecasters')
    .option('--windows <n>', 'number of forecast origins', '5')
    .option('--step <n>', 'rows between origins (default: the horizon)')
    .option('--refit', 'refit at every origin (default: fit once before the first origin)')
    .option('--seed <n>', 'random seed', '42');
  withSeriesOptions(cmd);
  return defineAction(cmd, async ({ opts }) => {
    const o = parseOptions(schema, opts);
    const data = existingFile(o.data, '--data');
    if (o.load && o.model) throw new UsageError('use either --model or --load, not both');
    const fc = await import('@seqlab/forecast');
    const { initBackend, setGlobalSeed } = await import('@seqlab/core');
    const series = fc.readCsvSeries(data, csvReadOptions(o));
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
    emit(o.json, { data, columns: series.columns, horizon: o.horizon, windows: o.windows, results }, () => {
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
