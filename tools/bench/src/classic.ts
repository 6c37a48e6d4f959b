/**
 * bench:classic - small classic forecasting sets, every model beside seasonal naive:
 *  - airline passengers (monthly, 144 points): fit on the first 120, forecast the last 24;
 *  - M4 Hourly (all 414 series, H = 48, the M4 train/test split in data/m4): statistical models
 *    per series; linear, DLinear and the recurrent models as one global model over all series
 *    (channel-independent, each series standardised by its own training statistics), the way
 *    N-BEATS-style models are run on M4; es-hybrid, the ES-RNN-style global panel model.
 * Metrics: RMSE, sMAPE (M4 definition), MASE (seasonal: 12 airline, 24 M4), and the empirical
 * coverage of 90% conformal intervals: on M4 from each series' last 48 training rows (forecast by
 * a fit on the rows before them), divided by the series' MASE scale and pooled across the panel.
 *
 * Budgets are in epochs, so a committed figure reproduces on any machine, only slower or faster.
 * Where the committed run was cut by its former wall-clock cap (90 s per fit), the budget is the
 * epochs it did: 39 of segrnn and 10 of seq2seq on M4 (as its rows record for the final fit; the
 * calibration fit gets the same), AIRLINE_SEQ2SEQ_EPOCHS of seq2seq on the airline series. The
 * other neural fits stopped by their epochs or early stopping before the cap. The rows record
 * the epochs each neural model trained.
 *
 * Env: BENCH_CLASSIC_NN_SECONDS (an optional wall-clock cap per neural fit, off by default; with
 * it, epochs depend on machine load).
 */
import { getBackendInfo, initBackend, setGlobalSeed } from '@seqlab/core';
import {
  coverage,
  createForecaster,
  mase,
  createGlobalForecaster,
  PooledConformal,
  readCsvSeries,
  readWideCsv,
  seriesScale,
  rmse,
  sliceSeries,
  smape,
  type EsHybridForecaster,
  type EsHybridOptions,
  type Forecaster,
  type PanelSeries,
  type TimeSeries,
} from '@seqlab/forecast';
import { dataPath, formatTable, writeResults } from './lib/report.js';

const t0 = performance.now();
// An optional wall-clock cap per neural fit (off by default): the budgets proper are the epochs.
const nnCap = process.env.BENCH_CLASSIC_NN_SECONDS ? { timeBudgetSeconds: Number(process.env.BENCH_CLASSIC_NN_SECONDS) } : {};
/**
 * seq2seq's epochs on the airline series. The committed run was cut by a 45-second share and did
 * not record its epochs; 30 give RMSE 74.43 against its 74.13 (20 give 78.28, 40 74.54, 60 75.48,
 * and the full 300 54.90), so 30 stands for it.
 */
const AIRLINE_SEQ2SEQ_EPOCHS = 30;
await initBackend();

type Spec = [label: string, name: string, options: Record<string, unknown>];

// ---- airline passengers -------------------------------------------------------------------
const air = readCsvSeries(dataPath('classic_ts', 'airline-passengers.csv'));
const airTrain = sliceSeries(air, 0, 120);
const airTest = Array.from(air.values[0]!.subarray(120));
const airSpecs: Spec[] = [
  ['seasonal-naive', 'seasonal-naive', { season: 12 }],
  ['naive', 'naive', {}],
  ['drift', 'drift', {}],
  ['moving-average', 'moving-average', { window: 12 }],
  ['holt-winters', 'holt-winters', { season: 12 }],
  ['linear', 'linear', { lookback: 36, horizon: 24 }],
  ['dlinear', 'dlinear', { lookback: 36, horizon: 24, kernel: 13 }],
  ['segrnn', 'segrnn', { lookback: 48, horizon: 24, segmentLength: 12, hidden: 32, epochs: 300, batchSize: 64, learningRate: 3e-3, lrDecay: 0.995, dropout: 0, seed: 3, ...nnCap }],
  // RevIN suits the free-running decoder here (RMSE 53.5 vs 87.3 with last-value normalisation).
  ['seq2seq (GRU, attention)', 'seq2seq', { lookback: 24, horizon: 24, hidden: 16, epochs: AIRLINE_SEQ2SEQ_EPOCHS, batchSize: 64, learningRate: 1e-2, lrDecay: 0.995, normalization: 'revin', seed: 3, ...nnCap }],
];
const airRows: Array<Record<string, unknown>> = [];
/** The epochs a neural forecaster trained (its report), so a run's budget can be read back from its row. */
const epochsOf = (model: Forecaster): { epochs?: number } => {
  const report = (model as unknown as { report?: { epochs?: unknown[] } }).report;
  return Array.isArray(report?.epochs) ? { epochs: report.epochs.length } : {};
};
for (const [label, name, options] of airSpecs) {
  setGlobalSeed(3);
  const ts = performance.now();
  const model = createForecaster(name, options);
  await model.fit(airTrain, { calibration: { windows: 30, horizon: 24 } });
  const f = await model.predict(24, { level: 0.9 });
  const p = f.mean[0]!;
  airRows.push({
    model: label,
    RMSE: Number(rmse(airTest, p).toFixed(2)),
    sMAPE: Number(smape(airTest, p).toFixed(2)),
    MASE: Number(mase(airTest, p, airTrain.values[0]!, 12).toFixed(3)),
    coverage90: Number(coverage(airTest, f.lower![0]!, f.upper![0]!).toFixed(3)),
    seconds: Number(((performance.now() - ts) / 1000).toFixed(1)),
    ...epochsOf(model),
  });
  process.stderr.write(`airline ${label}: ${JSON.stringify(airRows.at(-1))}\n`);
  model.dispose();
}

// ---- M4 Hourly -------------------------------------------------------------------------------
// The M4 split from data/: every series' training rows, then its 48 test rows. Everything that is
// chosen or calibrated uses the training rows only: the last 48 of them are each series'
// validation window (early stopping of es-hybrid, conformal residuals of every model).
const m4Panel = readWideCsv(dataPath('m4', 'Hourly-train.csv'));
const m4Test = readWideCsv(dataPath('m4', 'Hourly-test.csv'));
const ids = m4Panel.map((p) => p.id);
const testOf = new Map(m4Test.map((p) => [p.id, Array.from(p.series.values[0]!)]));
const trainOf = (i: number) => m4Panel[i]!.series.values[0]!;
const H = 48;
const S = 24;
const LEVEL = 0.9;
const cutPanel = (rows: number): PanelSeries[] => m4Panel.map(({ id, series }) => ({ id, series: { ...series, values: [series.values[0]!.subarray(0, series.values[0]!.length - rows)] } }));
const m4Fit = cutPanel(H); // training rows without each series' validation window

interface Scores {
  smape: number[];
  mase: number[];
  covered: number;
  sse: number;
  count: number;
}
const m4Rows: Array<Record<string, unknown>> = [];
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
/** Scores test forecasts `preds[i]` with intervals `preds[i] +- half[h] * scale_i`. */
function score(preds: ArrayLike<number>[], half: (i: number, h: number) => number): Scores {
  const s: Scores = { smape: [], mase: [], covered: 0, sse: 0, count: 0 };
  ids.forEach((id, i) => {
    const actual = testOf.get(id)!;
    const p = Array.from(preds[i]!);
    s.smape.push(smape(actual, p));
    s.mase.push(mase(actual, p, trainOf(i), S));
    for (let h = 0; h < H; h++) {
      s.sse += (actual[h]! - p[h]!) ** 2;
      if (Math.abs(actual[h]! - p[h]!) <= half(i, h)) s.covered++;
    }
    s.count += H;
  });
  return s;
}
const finish = (label: string, s: Scores, seconds: number, note = '', extra: Record<string, unknown> = {}) => {
  m4Rows.push({
    model: label,
    RMSE: Number(Math.sqrt(s.sse / s.count).toFixed(1)),
    sMAPE: Number(mean(s.smape).toFixed(2)),
    MASE: Number(mean(s.mase).toFixed(3)),
    coverage90: Number((s.covered / s.count).toFixed(3)),
    seconds: Number(seconds.toFixed(1)),
    note,
    ...extra,
  });
  process.stderr.write(`M4 ${label}: ${JSON.stringify(m4Rows.at(-1))}\n`);
};
/**
 * Split conformal for a model without pooled intervals of its own: its forecasts of every
 * series' validation window (fitted on the rows before it), errors divided by the series' MASE
 * scale and pooled across the panel per step - one window per series is too few alone.
 */
function pooledHalf(validationPreds: ArrayLike<number>[]): (i: number, h: number) => number {
  const scaled = m4Fit.map((p, i) => {
    const y = trainOf(i);
    const n = y.length;
    const scale = seriesScale(p.series.values[0]!, S);
    return [Array.from({ length: H }, (_, h) => Math.abs(y[n - H + h]! - validationPreds[i]![h]!) / scale)];
  });
  const q = PooledConformal.fromResiduals(scaled).halfWidths(LEVEL, H);
  const scales = m4Panel.map((p) => seriesScale(p.series.values[0]!, S));
  return (i, h) => q[h]! * scales[i]!;
}

const localSpecs: Spec[] = [
  ['seasonal-naive', 'seasonal-naive', { season: S }],
  ['naive', 'naive', {}],
  ['drift', 'drift', {}],
  ['moving-average', 'moving-average', { window: S }],
  ['holt-winters', 'holt-winters', { season: S }],
];
async function localForecasts(name: string, options: Record<string, unknown>, panel: PanelSeries[]): Promise<number[][]> {
  const out: number[][] = [];
  for (const { series } of panel) {
    const model = createForecaster(name, options);
    await model.fit(series, { calibration: false });
    out.push((await model.predict(H, { level: null })).mean[0]!);
  }
  return out;
}
for (const [label, name, options] of localSpecs) {
  const ts = performance.now();
  const half = pooledHalf(await localForecasts(name, options, m4Fit));
  finish(label, score(await localForecasts(name, options, m4Panel), half), (performance.now() - ts) / 1000, 'per series');
}

// Window models of the package as one global model over all series: one multi-column series of
// the last training values of every series, as many as the shortest has (700; 652 without the
// validation window), channel-independent and standardised per series.
const shortest = (panel: PanelSeries[]) => Math.min(...panel.map((p) => p.series.values[0]!.length));
const asColumns = (panel: PanelSeries[]): TimeSeries => ({
  columns: ids,
  values: panel.map((p) => Float64Array.from(p.series.values[0]!.subarray(-shortest(panel)))),
  irregular: false,
});
const globalSpecs: Spec[] = [
  ['linear', 'linear', { lookback: 168, horizon: H }],
  ['dlinear', 'dlinear', { lookback: 168, horizon: H }],
  ['segrnn', 'segrnn', { lookback: 168, horizon: H, segmentLength: 24, hidden: 64, epochs: 39, batchSize: 256, learningRate: 2e-3, lrDecay: 0.95, maxWindowsPerEpoch: 8192, dropout: 0, seed: 5, ...nnCap }],
  ['seq2seq (GRU, attention)', 'seq2seq', { lookback: 72, horizon: H, hidden: 32, epochs: 10, batchSize: 256, learningRate: 3e-3, lrDecay: 0.95, maxWindowsPerEpoch: 4096, normalization: 'revin', seed: 5, ...nnCap }],
];
async function columnForecasts(name: string, options: Record<string, unknown>, panel: PanelSeries[]): Promise<{ preds: Float64Array[]; epochs?: number }> {
  setGlobalSeed(5);
  const model: Forecaster = createForecaster(name, options);
  try {
    const data = asColumns(panel);
    await model.fit(data, { calibration: false });
    const preds = (await model.predictAt(data, [shortest(panel)], H))[0]!;
    const report = (model as unknown as { report?: { epochs: unknown[] } }).report;
    return { preds, ...(report ? { epochs: report.epochs.length } : {}) };
  } finally {
    model.dispose();
  }
}
for (const [label, name, options] of globalSpecs) {
  const ts = performance.now();
  const half = pooledHalf((await columnForecasts(name, options, m4Fit)).preds);
  const { preds, epochs } = await columnForecasts(name, options, m4Panel);
  finish(label, score(preds, half), (performance.now() - ts) / 1000, `global over columns${epochs !== undefined ? `, ${epochs} epochs` : ''}`);
}

// es-hybrid: the ES-RNN-style global model, fitted on the panel itself. Its fit holds out each
// series' last 48 training rows (early stopping, pooled conformal residuals); the configuration
// was chosen on those windows (README), never on the test rows.
const hybridSpecs: Array<[label: string, options: EsHybridOptions]> = [
  ['es-hybrid (MLP, 1 member)', { seeds: [1] }],
  ['es-hybrid (GRU core, 1 member)', { core: 'gru', hidden: 128, seeds: [1], ...nnCap }],
  ['es-hybrid (MLP, 6-member median)', { seeds: [1, 2, 3], lookbacks: [168, 336] }],
];
for (const [label, options] of hybridSpecs) {
  const ts = performance.now();
  const model = createGlobalForecaster('es-hybrid', { epochs: 60, ...options });
  try {
    await model.fit(m4Panel);
    const forecasts = await model.predict(H, { level: LEVEL });
    const s = score(
      forecasts.map((f) => f.forecast.mean[0]!),
      (i, h) => (forecasts[i]!.forecast.upper![0]![h]! - forecasts[i]!.forecast.lower![0]![h]!) / 2,
    );
    const report = (model as EsHybridForecaster).report!;
    finish(label, s, (performance.now() - ts) / 1000, `global, ${report.members.map((m) => m.bestEpoch).join('/')} epochs`, { options: { epochs: 60, ...options } });
  } finally {
    model.dispose();
  }
}

const seconds = (performance.now() - t0) / 1000;
const snAir = airRows[0]!;
const snM4 = m4Rows[0]!;
const rel = (r: Record<string, unknown>, base: Record<string, unknown>) => ({ ...r, 'RMSE / seasonal naive': Number(((r.RMSE as number) / (base.RMSE as number)).toFixed(3)) });
console.log('Airline passengers (train 120 months, test last 24)');
console.log(formatTable(airRows.map((r) => rel(r, snAir))));
console.log(`\nM4 Hourly (${ids.length} series, H = 48, M4 train/test split; sMAPE and MASE averaged over series, 90% conformal coverage pooled over series and steps)`);
console.log(formatTable(m4Rows.map((r) => rel(r, snM4))));
console.log(`\nbackend ${getBackendInfo()?.name}, total ${seconds.toFixed(0)} s`);
// Issue 16's goal: a recurrent or hybrid model at sMAPE <= 10.0, every model's 90% coverage in [0.85, 0.95].
const learned = m4Rows.filter((r) => /segrnn|seq2seq|es-hybrid/.test(r.model as string));
const best = learned.reduce((a, r) => ((r.sMAPE as number) < (a.sMAPE as number) ? r : a));
const coverageMisses = m4Rows.filter((r) => !((r.coverage90 as number) >= 0.85 && (r.coverage90 as number) <= 0.95)).map((r) => `${r.model as string} ${r.coverage90 as number}`);
const m4Goal = { smapeTarget: 10, bestModel: best.model, bestSmape: best.sMAPE, smapeMet: (best.sMAPE as number) <= 10, coverageMet: coverageMisses.length === 0, coverageMisses };
console.log(`goal: best recurrent/hybrid sMAPE ${best.sMAPE as number} (${best.model as string}) ${m4Goal.smapeMet ? '<=' : '>'} 10; coverage ${m4Goal.coverageMet ? 'in [0.85, 0.95] for every model' : `outside [0.85, 0.95]: ${coverageMisses.join(', ')}`}`);
const file = await writeResults('classic', 'npm run bench:classic', {
  backend: getBackendInfo()?.name,
  totalSeconds: Number(seconds.toFixed(1)),
  note: `One run per model (seeded). M4: model choice and conformal calibration use only the training rows (last 48 of each series as validation); test rows are only scored. Neural training is budgeted in epochs (each model's options in tools/bench/src/classic.ts)${process.env.BENCH_CLASSIC_NN_SECONDS ? `, capped at ${process.env.BENCH_CLASSIC_NN_SECONDS} s per fit` : ''}. Published reference (anchors.md): a common LSTM tutorial on a 67/33 airline split reports RMSE 47.5 vs seasonal naive 42.3 - a different split from this one.`,
  airline: airRows,
  m4Hourly: m4Rows,
  m4Goal,
});
console.log(`wrote ${file}`);
