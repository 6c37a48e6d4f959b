import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import type { RangeScore, TrainResult } from '@seqlab/tasks';
import { defineAction, emit, fmt, println, table } from '../cli.js';
import { UsageError } from '../errors.js';
import { ALL_FORECASTERS, DEFAULT_FORECASTER, GLOBAL_FORECASTERS, seasonLine, tableOptions } from '../forecasting.js';
import { commonSchema, existingFile, fraction, intList, nonNegative, oneOf, parseOptions, plotPath, positive, positiveInt, seed } from '../options.js';
import { trainingCurveChart, writeChart } from '../plots.js';
import { trainEventPrinter } from '../train-events.js';
import { csvReadOptions, isPanel, panelLayout, seriesSchema, withPanelOptions, withSeriesOptions } from '../series-options.js';

const schema = commonSchema.merge(seriesSchema).extend({
  data: z.string(),
  out: z.string(),
  model: oneOf(ALL_FORECASTERS, 'a forecaster, one of').default(DEFAULT_FORECASTER),
  horizon: positiveInt,
  lookback: positiveInt.optional(),
  season: positiveInt.optional(),
  secondSeason: positiveInt.optional(),
  epochs: positiveInt.optional(),
  hidden: positiveInt.optional(),
  segmentLength: positiveInt.optional(),
  timeBudget: positive.optional(),
  valSplit: fraction.optional(),
  testSplit: nonNegative.refine((v) => v < 1, 'must be below 1').optional(),
  split: z.string().min(1).optional(),
  seed: seed.default(42),
  plot: z.string().optional(),
  progress: z.boolean().default(true),
  idCol: z.string().min(1).optional(),
  wide: z.boolean().default(false),
  nonNegative: z.boolean().optional(),
  seeds: intList.optional(),
  lookbacks: intList.optional(),
});

/** `seqlab train forecaster`: parse -> train('forecast') -> print. */
export function trainForecasterCommand(): Command {
  const cmd = new Command('forecaster')
    .description('fit a forecaster on a CSV series (default auto: the kind with the lowest RMSE in a rolling-origin backtest on the training rows) and save it to --out')
    .requiredOption('--data <file>', 'CSV file with a header row')
    .requiredOption('--out <dir>', 'directory to save the forecaster in')
    .option('--model <name>', `forecaster: ${ALL_FORECASTERS.join('|')} (${GLOBAL_FORECASTERS.join(', ')}: one global model across a panel; auto on a panel chooses its ensemble)`, DEFAULT_FORECASTER)
    .requiredOption('--horizon <n>', 'steps ahead the model is trained to forecast')
    .option('--lookback <n>', 'input window of window-based models (segrnn: reconciled with the segment length)')
    .option('--season <n>', 'season length of seasonal models (default: inferred from the dates; auto also tries the cycles in the data)')
    .option('--second-season <n>', 'global models: a second, longer seasonality of the per-series smoothing, a multiple of --season (168, a week, for hourly data)')
    .option('--epochs <n>', 'maximum training epochs of neural forecasters (they stop early on validation loss)')
    .option('--hidden <n>', 'hidden size of neural forecasters')
    .option('--segment-length <n>', 'segrnn segment length (default: a divisor of the look-back, 24 when it fits)')
    .option('--time-budget <seconds>', 'stop neural training after this many seconds (best weights kept)')
    .option('--val-split <f>', 'fraction of rows, before the test range, used for validation, early stopping and interval calibration (default 0.2; 0 for auto, which backtests on the training rows)')
    .option('--test-split <f>', 'fraction of the last rows held out as a test range: never fitted on nor calibrated on, scored after training (default 0)')
    .option('--split <train:val:test>', 'explicit ranges instead of --val-split/--test-split: ett, fractions 0.7:0.1:0.2, row counts or dates')
    .option('--seed <n>', 'random seed', '42')
    .option('--non-negative', 'auto: clip forecasts and intervals at 0 (default: when every training value is >= 0)')
    .option('--plot <file>', 'training-curve plot (.png or .svg; default: DIR/training-curve.png for neural models)')
    .option('--no-progress', 'no progress on stderr (it is shown with --json too)');
  withPanelOptions(cmd, {
    idCol: 'global models: many series in one long/tidy file, this column naming each row\'s series',
    wide: 'global models: many series, one per row (the M4 layout: an id, then the values)',
  });
  withSeriesOptions(cmd);
  return defineAction(cmd, async ({ opts }) => {
    const o = parseOptions(schema, opts);
    const data = existingFile(o.data, '--data');
    const panel = isPanel(o);
    if (o.split !== undefined && (o.valSplit !== undefined || o.testSplit !== undefined)) throw new UsageError('use either --split or --val-split/--test-split, not both');
    if ((GLOBAL_FORECASTERS as readonly string[]).includes(o.model) && !panel) throw new UsageError(`${o.model} is a global model fitted across many series: give a panel with --id-col (long file) or --wide (one series per row)`);
    if (panel && o.model !== 'auto' && !(GLOBAL_FORECASTERS as readonly string[]).includes(o.model)) throw new UsageError(`--id-col/--wide train one global model across the series: choose --model ${GLOBAL_FORECASTERS.join('|')} or auto`);
    const { train } = await import('@seqlab/tasks');
    const printer = trainEventPrinter({ quiet: !o.progress });
    let result: TrainResult<'forecast'>;
    try {
      result = await train('forecast', data, {
        ...tableOptions(csvReadOptions(o)), ...panelLayout(o),
        out: resolve(o.out), seed: o.seed, model: o.model, horizon: o.horizon, onProgress: printer.onProgress,
        ...defined({ season: o.season, lookback: o.lookback, secondSeason: o.secondSeason, epochs: o.epochs, hidden: o.hidden, segmentLength: o.segmentLength, timeBudgetSeconds: o.timeBudget, valSplit: o.valSplit, testSplit: o.testSplit, split: o.split, nonNegative: o.nonNegative, seeds: o.seeds, lookbacks: o.lookbacks }),
      });
    } finally {
      printer.stop();
    }
    const { report } = result;
    const d = report.details;
    const curve = d.history.map((p) => ({ epoch: p.epoch, metric: 'loss', split: p.split, value: p.loss }));
    const plot = curve.length ? (plotPath(o.plot) ?? join(result.dir, 'training-curve.png')) : null;
    if (plot) await writeChart(trainingCurveChart(curve, { title: `${d.model} training` }), plot);
    emit(o.json, summaryOf(result, data, o.wide, plot), () => {
      const what = d.global ? `${d.series} series` : `${d.ranges?.train?.rows[1]} rows`;
      println(`trained ${d.model}${d.model === 'auto' ? ` (chose ${report.kind})` : ''} on ${what} in ${report.seconds.toFixed(1)}s; saved to ${result.dir}`);
      println(`why: ${report.reason}`);
      if (report.candidates.length > 1) {
        const keys = [...new Set(report.candidates.flatMap((c) => Object.keys(c.metrics)))];
        println(table([['candidate', ...keys, 'seconds'], ...report.candidates.map((c) => [c.kind, ...keys.map((k) => (c.metrics[k] !== undefined ? c.metrics[k]! : String(c.settings?.skipped ?? ''))), c.seconds.toFixed(2)])]));
      }
      if (d.global && d.season) println(seasonLine(d.season, o.secondSeason));
      for (const w of d.warnings) println(`warning: ${w.message}`);
      if (d.validation && d.global) println(`validation (the last rows of every series, used for early stopping and calibration): sMAPE ${fmt(d.validation.smape!)}  MASE ${fmt((d.validation as { mase: number }).mase)}`);
      else if (d.validation) println(scoreLine('validation, used for early stopping and calibration', d.validation as RangeScore));
      if (d.test) println(scoreLine('test, never seen', d.test));
      if (plot) println(`training curve: ${plot}`);
    });
  });
}

/** The JSON summary: what was trained on which rows and how it scored, the report's choice (kind, reason, candidates) beside it. */
function summaryOf({ dir, report }: TrainResult<'forecast'>, data: string, wide: boolean, plot: string | null): Record<string, unknown> {
  const d = report.details;
  const choice = { kind: report.kind, reason: report.reason, candidates: report.candidates, warnings: d.warnings, stages: report.stages };
  if (d.global) return { task: 'forecaster', model: d.model, global: true, options: d.options, data, layout: wide ? 'wide' : 'long', series: d.series, season: d.season, secondSeason: d.options.secondSeason ?? null, validation: d.validation, seconds: report.seconds, out: dir, plot, ...choice };
  const rows = (k: string) => (d.ranges?.[k] ? d.ranges[k]!.rows[1] - d.ranges[k]!.rows[0] : 0);
  return {
    task: 'forecaster', model: d.model, options: d.options, season: d.season, data, columns: d.columns, trainRows: rows('train'), validationRows: rows('validation'), testRows: rows('test'), ranges: d.ranges,
    seenUntil: d.seenUntil, epochs: d.history.filter((p) => p.split === 'train').length, seconds: report.seconds, validationMetrics: d.validation, testMetrics: d.test, out: dir, plot, ...choice,
  };
}

function scoreLine(what: string, m: RangeScore): string {
  return `${what} (${m.rows} rows, ${m.windows} windows): MAE ${fmt(m.mae)}  RMSE ${fmt(m.rmse)}  sMAPE ${fmt(m.smape)}${m.coverage90 !== undefined ? `  90% coverage ${fmt(m.coverage90)}` : ''}`;
}

/** The entries of `o` that are set. */
function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
