import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { defineAction, emit, fmt, println } from '../cli.js';
import { InputError } from '../errors.js';
import { FORECASTERS, forecasterOptions } from '../forecasting.js';
import { commonSchema, existingFile, fraction, oneOf, parseOptions, plotPath, positiveInt, seed } from '../options.js';
import { trainingCurveChart, writeChart, type CurvePoint } from '../plots.js';
import { TrainingProgress } from '../progress.js';
import { csvReadOptions, seriesSchema, withSeriesOptions } from '../series-options.js';

const schema = commonSchema.merge(seriesSchema).extend({
  data: z.string(),
  out: z.string(),
  model: oneOf(FORECASTERS, 'a forecaster, one of').default('segrnn'),
  horizon: positiveInt,
  lookback: positiveInt.optional(),
  season: positiveInt.optional(),
  epochs: positiveInt.optional(),
  valSplit: fraction.default(0.2),
  seed: seed.default(42),
  plot: z.string().optional(),
});

/** `seqlab train forecaster`: fit a forecaster on a CSV series and save it. */
export function trainForecasterCommand(): Command {
  const cmd = new Command('forecaster')
    .description('fit a forecaster on a CSV series (last --val-split rows for validation) and save it to --out')
    .requiredOption('--data <file>', 'CSV file with a header row')
    .requiredOption('--out <dir>', 'directory to save the forecaster in')
    .option('--model <name>', `forecaster: ${FORECASTERS.join('|')}`, 'segrnn')
    .requiredOption('--horizon <n>', 'steps ahead the model is trained to forecast')
    .option('--lookback <n>', 'input window of window-based models')
    .option('--season <n>', 'season length of seasonal models (default: inferred from the dates)')
    .option('--epochs <n>', 'maximum training epochs of neural forecasters (they stop early on validation loss)')
    .option('--val-split <f>', 'fraction of the last rows used for validation, early stopping and interval calibration', '0.2')
    .option('--seed <n>', 'random seed', '42')
    .option('--plot <file>', 'training-curve plot (.png or .svg; default: DIR/training-curve.png for neural models)');
  withSeriesOptions(cmd);
  return defineAction(cmd, async ({ opts }) => {
    const o = parseOptions(schema, opts);
    const data = existingFile(o.data, '--data');
    const out = resolve(o.out);
    const plot = plotPath(o.plot) ?? join(out, 'training-curve.png');
    const fc = await import('@seqlab/forecast');
    const { initBackend, setGlobalSeed, writeJsonAtomic } = await import('@seqlab/core');
    const series = fc.readCsvSeries(data, csvReadOptions(o));
    const n = fc.seriesLength(series);
    const valRows = Math.round(n * o.valSplit);
    const trainRows = n - valRows;
    const options = forecasterOptions(fc, o.model, { ...o, series });
    const context = typeof options.lookback === 'number' ? options.lookback : 0;
    if (valRows < o.horizon) throw new InputError(`--val-split ${o.valSplit} leaves ${valRows} validation rows, fewer than --horizon ${o.horizon}`);
    if (trainRows <= context) throw new InputError(`${n} rows leave ${trainRows} training rows, not more than the lookback ${context}`);
    setGlobalSeed(o.seed);
    const model = fc.createForecaster(o.model, options);
    if (model.capabilities.neural) await initBackend();
    const train = fc.sliceSeries(series, 0, trainRows);
    // Validation windows need `lookback` rows of context before the first held-out row.
    const validation = fc.sliceSeries(series, Math.max(0, trainRows - context), n);
    const epochs = o.epochs ?? (typeof options.epochs === 'number' ? options.epochs : undefined);
    const progress = new TrainingProgress(epochs ?? 0, { quiet: o.json });
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
      // Score on the validation rows (one forecast per `horizon` block, no look-ahead).
      const origins: number[] = [];
      for (let origin = trainRows; origin + o.horizon <= n; origin += o.horizon) origins.push(origin);
      const preds = await model.predictAt(series, origins, o.horizon);
      const actual = origins.map((origin) => series.values.map((v) => Array.from(v.subarray(origin, origin + o.horizon))));
      const predicted = preds.map((cols) => cols.map((p) => Array.from(p)));
      const metrics = {
        mae: fc.mae(actual.flat(), predicted.flat()),
        rmse: fc.rmse(actual.flat(), predicted.flat()),
        smape: fc.smape(actual.flat(), predicted.flat()),
      };
      await model.save(out);
      const summary = {
        task: 'forecaster',
        model: o.model,
        options,
        data,
        columns: series.columns,
        trainRows,
        validationRows: valRows,
        epochs: curve.filter((p) => p.split === 'train').length,
        seconds,
        validationMetrics: metrics,
        out,
        plot: curve.length ? plot : null,
      };
      await writeJsonAtomic(join(out, 'training.json'), { ...summary, history: curve });
      if (curve.length) await writeChart(trainingCurveChart(curve, { title: `${o.model} training` }), plot);
      emit(o.json, summary, () => {
        println(`trained ${o.model} on ${trainRows} rows in ${seconds.toFixed(1)}s; saved to ${out}`);
        println(`validation (${valRows} rows): MAE ${fmt(metrics.mae)}  RMSE ${fmt(metrics.rmse)}  sMAPE ${fmt(metrics.smape)}`);
        if (curve.length) println(`training curve: ${plot}`);
      });
    } finally {
      progress.stop();
      model.dispose();
    }
  });
}
