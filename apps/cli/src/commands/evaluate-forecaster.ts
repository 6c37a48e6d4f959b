import { Command } from 'commander';
import { z } from 'zod';
import type { ForecastEvaluation } from '@seqlab/tasks';
import { defineAction, emit, fmt, note, println, table } from '../cli.js';
import { UsageError } from '../errors.js';
import { ALL_FORECASTERS, GLOBAL_FORECASTERS, seasonLine, tableOptions } from '../forecasting.js';
import { commonSchema, existingDir, existingFile, fraction, intList, oneOf, parseOptions, positiveInt, seed } from '../options.js';
import { csvReadOptions, isPanel, panelLayout, seriesSchema, withPanelOptions, withSeriesOptions } from '../series-options.js';

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

/** `seqlab evaluate forecaster`: parse -> evaluate('forecast') per model -> print. */
export function evaluateForecasterCommand(): Command {
  const cmd = new Command('forecaster')
    .description('backtest forecasters on a CSV series: W forecasts of H steps from rolling origins, pooled errors')
    .requiredOption('--data <file>', 'CSV file with a header row')
    .option('--model <name>', `forecaster to backtest (repeatable to compare; default seasonal-naive): ${ALL_FORECASTERS.join('|')} (${GLOBAL_FORECASTERS.join(', ')}: one global model across a panel)`, (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
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
    .option('--no-progress', 'with --split or a panel: no progress lines on stderr');
  withPanelOptions(cmd, {
    idCol: 'many series in one long/tidy file: the column naming each row\'s series; each is backtested, results per series and averaged',
    wide: 'many series, one per row (the M4 layout: an id, then the values); each is backtested',
  });
  withSeriesOptions(cmd);
  return defineAction(cmd, async ({ opts }) => {
    const o = parseOptions(schema, opts);
    const data = existingFile(o.data, '--data');
    if (o.load && o.model) throw new UsageError('use either --model or --load, not both');
    const panel = isPanel(o);
    if (panel && o.split !== undefined) throw new UsageError('--id-col/--wide backtest each series with --model; --split is for one series');
    if (o.split !== undefined) {
      for (const flag of ['windows', 'step', 'refit'] as const) {
        if (cmd.getOptionValueSource(flag) === 'cli') throw new UsageError(`--${flag} belongs to the rolling backtest; with --split every --stride-th window of the test range is scored`);
      }
    }
    const global = (o.model ?? []).find((m) => (GLOBAL_FORECASTERS as readonly string[]).includes(m));
    if (global && !panel) throw new UsageError(`${global} is a global model fitted across many series: give a panel with --id-col (long file) or --wide (one series per row)`);
    const { evaluate } = await import('@seqlab/tasks');
    const options = {
      ...tableOptions(csvReadOptions(o)), ...panelLayout(o),
      horizon: o.horizon, refit: o.refit, seed: o.seed, stride: o.stride, scaler: o.scaler, level: o.level === 'none' ? null : o.level,
      // A panel is scored once per series (the last H rows, as M4) unless --windows is given.
      ...(!panel || cmd.getOptionValueSource('windows') === 'cli' ? { windows: o.windows } : {}),
      ...Object.fromEntries(Object.entries({ step: o.step, split: o.split, season: o.season, lookback: o.lookback, epochs: o.epochs, secondSeason: o.secondSeason, seeds: o.seeds, lookbacks: o.lookbacks }).filter(([, v]) => v !== undefined)),
      ...(o.progress ? { onNote: (line: string) => note(line) } : {}),
    };
    const results: ForecastEvaluation[] = [];
    for (const model of o.load ? [existingDir(o.load, '--load')] : (o.model ?? ['seasonal-naive'])) results.push(await evaluate('forecast', model, data, options));
    for (const r of results) for (const w of r.warnings) note(`seqlab: ${w}`);
    emit(o.json, jsonOf(results, data, o), () => printResults(results, o));
  });
}

type Options = z.infer<typeof schema>;

/** The JSON of each mode: the figures of every model under `results`, what they share beside them. */
function jsonOf(results: ForecastEvaluation[], data: string, o: Options): Record<string, unknown> {
  const first = results[0]!;
  const layout = o.wide ? 'wide' : 'long';
  if (first.mode === 'split') return { data, columns: first.columns, split: o.split, bounds: first.split!.bounds, horizon: o.horizon, stride: o.stride, scaler: o.scaler, season: first.season, results: results.map((r) => r.split) };
  if (first.mode === 'panel-future') return { data, load: o.load, layout, series: first.panel!.series.length, horizon: first.horizon, windows: 1, maseSeason: first.panel!.maseSeason, results: results.map((r) => ({ model: r.model, ...r.panel, seconds: r.seconds })) };
  if (first.panel) {
    const p = first.panel;
    return { data, layout, series: p.series.length + p.skipped.length, horizon: o.horizon, windows: p.windows, maseSeason: p.maseSeason, season: first.season, secondSeason: o.secondSeason ?? null, results: results.map((r) => ({ model: r.model, ...r.panel, seconds: r.seconds })) };
  }
  return { data, columns: first.columns, horizon: o.horizon, windows: first.backtest!.windows, season: first.season, results: results.map((r) => ({ model: r.model, options: r.options, seconds: r.seconds, ...r.backtest })) };
}

function printResults(results: ForecastEvaluation[], o: Options): void {
  const first = results[0]!;
  if (first.mode === 'split') {
    const b = first.split!.bounds;
    println(`${first.columns!.join(', ')}: split ${o.split} (train [0, ${b.trainEnd}), validation [${b.trainEnd}, ${b.valEnd}), test [${b.valEnd}, ${b.testEnd})), ${first.split!.windows} windows of ${first.horizon} steps, stride ${o.stride}`);
    println(`scaler: ${o.scaler}, fitted on the training rows; MASE season ${first.split!.maseSeason.period} (${first.season?.reason})`);
    const level = results.find((r) => r.split!.level !== undefined)?.split!.level;
    println(table([
      ['model', `MSE (${o.scaler})`, `MAE (${o.scaler})`, 'MSE', 'MAE', 'RMSE', 'sMAPE', 'MASE', ...(level ? [`coverage ${Math.round(level * 100)}%`] : []), 'seconds'],
      ...results.map((r) => { const s = r.split!; return [r.model, s.normalised.mse.toFixed(4), s.normalised.mae.toFixed(4), s.original.mse, s.original.mae, s.original.rmse, s.original.smape, s.original.mase, ...(level ? [s.original.coverage !== undefined ? fmt(s.original.coverage) : ''] : []), r.seconds.toFixed(2)]; }),
    ]));
    return;
  }
  if (first.panel) {
    const p = first.panel;
    println(`${p.series.length + p.skipped.length} series (${o.wide ? 'one per row' : `by ${o.idCol}`}): ${p.windows} window${p.windows > 1 ? 's' : ''} of ${p.horizon} steps each; means over series, MASE season ${p.maseSeason}`);
    if (first.season?.period !== undefined && results.some((r) => r.options !== undefined)) println(seasonLine(first.season, o.secondSeason));
    const hasCoverage = results.some((r) => r.panel!.aggregate.coverage !== undefined);
    println(table([
      ['model', 'series', 'MAE', 'RMSE', 'sMAPE', 'MASE', ...(hasCoverage ? ['coverage'] : []), 'skipped'],
      ...results.map((r) => { const a = r.panel!.aggregate; return [r.model, a.series, a.mae, a.rmse, a.smape, a.mase, ...(hasCoverage ? [a.coverage !== undefined ? fmt(a.coverage) : ''] : []), r.panel!.skipped.length]; }),
    ]));
    for (const r of results) if (r.panel!.skipped.length) note(`${r.model}: skipped ${r.panel!.skipped.length} series, e.g. ${r.panel!.skipped[0]!.id}: ${r.panel!.skipped[0]!.reason}`);
    return;
  }
  println(`backtest of ${first.columns!.join(', ')}: ${first.backtest!.windows} windows of ${first.horizon} steps${o.refit ? ', refit at each origin' : ''}`);
  const hasCoverage = results.some((r) => r.backtest!.metrics.coverage !== undefined);
  println(table([
    ['model', 'MAE', 'RMSE', 'sMAPE', ...(hasCoverage ? ['coverage'] : []), 'seconds'],
    ...results.map((r) => { const m = r.backtest!.metrics; return [r.model, m.mae, m.rmse, m.smape, ...(hasCoverage ? [m.coverage !== undefined ? fmt(m.coverage) : ''] : []), r.seconds.toFixed(2)]; }),
  ]));
}
