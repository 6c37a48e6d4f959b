/**
 * bench:ett - long-horizon forecasting on ETTh1 / ETTh2 under the standard protocol (12/4/4
 * months, z-score with train statistics, L = 96, MSE / MAE over every normalised test window of
 * all 7 columns), beside published results (SegRNN README, L = 96).
 *
 * Models: repeat-last-value, the closed-form ridge `linear`, closed-form `dlinear`, and SegRNN
 * (d = 256, segments of 24, MAE loss, dropout 0.5, Adam at 1e-3 with the SegRNN repository's
 * 'type3' schedule (4 epochs at the rate, then x0.8 per epoch) and PyTorch's initialisation,
 * early stopping on validation with patience 10; 8,192 sampled training windows per epoch,
 * 4,096 at H = 720). Those settings were chosen on validation MSE at ETTh1 H = 192 and ETTh2
 * H = 96 (the test set never chose); validation MSE over every window is reported beside test.
 * ETTh1 and ETTh2 run in two processes at once (one core each, BENCH_ETT_WORKERS). SegRNN's
 * budget is in epochs (BENCH_ETT_EPOCHS, default 30, with early stopping), so a committed figure
 * reproduces on any machine, only slower or faster: the committed run stopped every setting by
 * the 30 epochs or early stopping. BENCH_ETT_BUDGET_S is an optional wall-clock cap (off by
 * default): then SegRNN's training at each setting also stops at an equal share of the time
 * left, and its epochs depend on machine load.
 * Optionally (BENCH_ETT_HIGHWAY=1) also SegRNN with a frozen ridge highway (the GRU learns the
 * ridge's residual); then the variant with the lower validation MSE is the "recurrent
 * (val-selected)" row - the test set never picks. In our runs the highway's residual GRU made
 * validation worse from its first epoch, so the variant stayed at the ridge solution; it is off
 * by default.
 *
 * Env: BENCH_ETT_BUDGET_S, BENCH_ETT_DATASETS (ETTh1,ETTh2), BENCH_ETT_HORIZONS (96,192,336,720),
 * BENCH_ETT_WORKERS (2), BENCH_ETT_NAME (results file, default ett); SegRNN: BENCH_ETT_HIDDEN
 * (256), BENCH_ETT_LR (1e-3; or per dataset, `ETTh1:1e-3,ETTh2:2e-4`), BENCH_ETT_DROPOUT (0.5),
 * BENCH_ETT_PATIENCE (10), BENCH_ETT_DECAY (0.8), BENCH_ETT_WARM (4 epochs before the decay),
 * BENCH_ETT_INIT (torch | glorot), BENCH_ETT_EMA (0: no weight averaging), BENCH_ETT_EPOCHS (30),
 * BENCH_ETT_BATCH (256 single-channel windows; the reference's batch of 256 seven-channel
 * windows is 1792 here), BENCH_ETT_SEG (24), BENCH_ETT_WINDOWS (a number, or `all`),
 * BENCH_ETT_LOSS (mae), BENCH_ETT_NORM (last), BENCH_ETT_VAL_STRIDE (4, for early stopping),
 * BENCH_ETT_MEMBERS (1; k > 1 averages k seeds with MeanEnsembleForecaster),
 * BENCH_ETT_SCORE_VAL=0 (skip the validation MSE column); highway: BENCH_ETT_HIGHWAY=1,
 * BENCH_ETT_HIGHWAY_LR, BENCH_ETT_HIGHWAY_LOSS, BENCH_ETT_HIGHWAY_SHARE.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { getBackendInfo, initBackend, setGlobalSeed } from '@seqlab/core';
import {
  DLinearForecaster,
  ettSplit,
  LinearForecaster,
  MeanEnsembleForecaster,
  NaiveForecaster,
  readCsvSeries,
  Scaler,
  SegRnnForecaster,
  seriesLength,
  windowStarts,
  type Forecaster,
  type TimeSeries,
} from '@seqlab/forecast';
import { dataPath, formatTable, writeResults } from './lib/report.js';

const L = 96;
const t0 = performance.now();
// An optional wall-clock cap in milliseconds (BENCH_ETT_BUDGET_S); the budget proper is in epochs.
const budget = process.env.BENCH_ETT_BUDGET_S ? Number(process.env.BENCH_ETT_BUDGET_S) * 1000 : undefined;
const datasets = (process.env.BENCH_ETT_DATASETS ?? 'ETTh1,ETTh2').split(',');
const horizons = (process.env.BENCH_ETT_HORIZONS ?? '96,192,336,720').split(',').map(Number);
const hidden = Number(process.env.BENCH_ETT_HIDDEN ?? 256);
const highway = process.env.BENCH_ETT_HIGHWAY === '1';
// SegRNN copies (seeds 7, 8, ...) whose forecasts are averaged; 1 = a single model.
const members = Number(process.env.BENCH_ETT_MEMBERS ?? 1);

const DEFAULT_LR = '1e-3';

// SegRNN README, "Comparison results for lookback L = 96" (MSE / MAE).
const PUBLISHED: Record<string, Record<number, { segrnn: [number, number]; dlinear: [number, number] }>> = {
  ETTh1: { 96: { segrnn: [0.368, 0.395], dlinear: [0.386, 0.4] }, 192: { segrnn: [0.408, 0.419], dlinear: [0.437, 0.432] }, 336: { segrnn: [0.444, 0.44], dlinear: [0.481, 0.459] }, 720: { segrnn: [0.446, 0.457], dlinear: [0.519, 0.516] } },
  ETTh2: { 96: { segrnn: [0.278, 0.335], dlinear: [0.333, 0.387] }, 192: { segrnn: [0.359, 0.389], dlinear: [0.477, 0.476] }, 336: { segrnn: [0.421, 0.436], dlinear: [0.594, 0.541] }, 720: { segrnn: [0.432, 0.455], dlinear: [0.831, 0.657] } },
};
// The issue's ridge figures for this exact protocol, to check the data pipeline.
const RIDGE_EXPECTED: Record<string, number[]> = { ETTh1: [0.384, 0.435, 0.476, 0.469], ETTh2: [0.289, 0.375, 0.414, 0.419] };

/**
 * SegRNN's learning rate for a dataset: BENCH_ETT_LR is one rate for all, or per dataset as
 * `ETTh1:1e-3,ETTh2:2e-4` (the SegRNN repository's scripts also set it per dataset).
 */
function learningRateFor(ds: string): number {
  const spec = process.env.BENCH_ETT_LR ?? DEFAULT_LR;
  if (!spec.includes(':')) return Number(spec);
  const rate = spec.split(',').map((p) => p.split(':')).find(([name]) => name === ds)?.[1];
  if (rate === undefined || !(Number(rate) > 0)) throw new Error(`BENCH_ETT_LR="${spec}" gives no learning rate for ${ds}`);
  return Number(rate);
}

/** MSE / MAE over every test window and column (normalised units). */
async function score(model: Forecaster, test: TimeSeries, H: number): Promise<{ mse: number; mae: number; windows: number }> {
  const origins = windowStarts(seriesLength(test), L, H).map((s) => s + L);
  let se = 0;
  let ae = 0;
  let n = 0;
  // Chunks keep the prediction arrays small.
  for (let i = 0; i < origins.length; i += 512) {
    const chunk = origins.slice(i, i + 512);
    const preds = await model.predictAt(test, chunk, H);
    chunk.forEach((o, k) => {
      test.values.forEach((v, c) => {
        const p = preds[k]![c]!;
        for (let h = 0; h < H; h++) {
          const e = v[o + h]! - p[h]!;
          se += e * e;
          ae += Math.abs(e);
          n++;
        }
      });
    });
  }
  return { mse: se / n, mae: ae / n, windows: origins.length };
}

const backend = await initBackend();
process.stderr.write(`backend: ${backend.name} (${backend.reason})\n`);
let rows: Array<Record<string, unknown>> = [];
let details: Array<Record<string, unknown>> = [];
const settings = datasets.flatMap((ds) => horizons.map((H) => ({ ds, H })));
let done = 0;
// TensorFlow.js on wasm/cpu trains on one core; with more datasets than one and cores to spare,
// each dataset runs in its own process, and this process merges them.
const workers = Math.min(datasets.length, Number(process.env.BENCH_ETT_WORKERS ?? Math.min(2, os.availableParallelism())));
const isWorker = process.env.BENCH_ETT_WORKER === '1';
if (!isWorker && workers > 1) {
  const parts = await runWorkers(datasets, workers);
  rows = parts.flatMap((p) => p.rows);
  details = parts.flatMap((p) => p.details);
}
for (const ds of !isWorker && workers > 1 ? [] : datasets) {
  const raw = readCsvSeries(dataPath('ett', `${ds}.csv`));
  const split = ettSplit(raw, L);
  const scaler = Scaler.fit(split.train, 'standard');
  const [train, val, test] = [split.train, split.val, split.test].map((s) => scaler.transform(s)) as [TimeSeries, TimeSeries, TimeSeries];
  for (const H of horizons) {
    const setting = `${ds} H=${H}`;
    const results: Record<string, { mse: number; mae: number; valMse?: number; seconds: number; extra?: Record<string, unknown> }> = {};
    const run = async (label: string, model: Forecaster, extra?: () => Record<string, unknown>, dispose = true, scoreVal = false) => {
      const ts = performance.now();
      await model.fit(train, { validation: val, calibration: false });
      // Validation MSE (every window) is what picks between recurrent variants; test never does.
      const valMse = scoreVal ? (await score(model, val, H)).mse : undefined;
      const s = await score(model, test, H);
      results[label] = { mse: s.mse, mae: s.mae, valMse, seconds: (performance.now() - ts) / 1000, extra: extra?.() };
      process.stderr.write(`${setting} ${label}: MSE ${s.mse.toFixed(4)} MAE ${s.mae.toFixed(4)} (${s.windows} windows, ${results[label]!.seconds.toFixed(1)} s)\n`);
      if (dispose) model.dispose();
    };
    await run('naive', new NaiveForecaster({ scaler: 'none' }));
    const ridge = new LinearForecaster({ lookback: L, horizon: H, scaler: 'none' });
    await run('linear (ridge)', ridge, () => ({ lambda: ridge.chosenLambda }), false);
    const dl = new DLinearForecaster({ lookback: L, horizon: H, scaler: 'none' });
    await run('dlinear', dl, () => ({ lambda: dl.chosenLambda }));
    const neural: Array<[string, boolean]> = [['segrnn', false], ...(highway ? [['segrnn+ridge', true] as [string, boolean]] : [])];
    // This setting's equal share of the time left; the rest of a share pays for scoring and the
    // linear fits of the settings still to come.
    const settingShare = budget === undefined ? undefined : (budget - (performance.now() - t0)) / (settings.length - done) / 1000;
    for (const [label, skip] of neural) {
      // The ridge above is the highway: same lookback, horizon and scaled training data.
      const hwShare = Number(process.env.BENCH_ETT_HIGHWAY_SHARE ?? 0.25);
      const share = settingShare === undefined ? undefined : Math.max(15, settingShare * (highway ? (skip ? hwShare : 0.8 - hwShare) : 0.8));
      setGlobalSeed(7);
      // Plain SegRNN: a mean of `members` copies with seeds 7, 8, ... when asked (each gets an
      // equal part of the time share). The highway variant is always one model.
      const k = skip ? 1 : members;
      const segOptions = (seed: number, seconds: number | undefined) => ({
        lookback: L,
        horizon: H,
        scaler: 'none' as const,
        segmentLength: Number(process.env.BENCH_ETT_SEG ?? 24),
        hidden,
        dropout: Number(process.env.BENCH_ETT_DROPOUT ?? 0.5),
        epochs: Number(process.env.BENCH_ETT_EPOCHS ?? 30),
        batchSize: Number(process.env.BENCH_ETT_BATCH ?? 256),
        learningRate: skip ? Number(process.env.BENCH_ETT_HIGHWAY_LR ?? 1e-3) : learningRateFor(ds),
        lrDecay: Number(process.env.BENCH_ETT_DECAY ?? 0.8),
        lrWarmEpochs: Number(process.env.BENCH_ETT_WARM ?? 4),
        init: (process.env.BENCH_ETT_INIT ?? 'torch') as 'glorot' | 'torch',
        emaDecay: Number(process.env.BENCH_ETT_EMA ?? 0),
        ...(process.env.BENCH_ETT_VAL_LOSS ? { validationLoss: process.env.BENCH_ETT_VAL_LOSS as 'mse' | 'mae' } : {}),
        // The highway starts at the ridge optimum of the squared error; keep that loss for it.
        loss: skip ? ((process.env.BENCH_ETT_HIGHWAY_LOSS ?? 'mse') as 'mse' | 'mae') : ((process.env.BENCH_ETT_LOSS ?? 'mae') as 'mse' | 'mae'),
        patience: skip ? 2 : Number(process.env.BENCH_ETT_PATIENCE ?? 10),
        // An epoch at H = 720 costs about twice one at H = 336 (30 decoder segments instead of
        // 14); sampling half the windows keeps the epochs (and learning-rate decays) per minute of
        // its time share comparable.
        maxWindowsPerEpoch: skip ? 4096 : process.env.BENCH_ETT_WINDOWS === 'all' ? undefined : Number(process.env.BENCH_ETT_WINDOWS ?? (H >= 720 ? 4096 : 8192)),
        linearSkip: skip,
        ...(process.env.BENCH_ETT_NORM ? { normalization: process.env.BENCH_ETT_NORM as 'last' | 'revin' } : {}),
        ...(seconds !== undefined ? { timeBudgetSeconds: seconds } : {}),
        validationStride: Number(process.env.BENCH_ETT_VAL_STRIDE ?? 4),
        seed,
        verbose: true,
      });
      let model: Forecaster;
      let reports: () => Array<NonNullable<SegRnnForecaster['report']>>;
      if (k === 1) {
        const single = new SegRnnForecaster(segOptions(7, share));
        if (skip) single.useLinear(ridge);
        model = single;
        reports = () => [single.report!];
      } else {
        const ens = new MeanEnsembleForecaster({
          scaler: 'none',
          members: Array.from({ length: k }, (_, i) => ({ name: 'segrnn', options: segOptions(7 + i, share === undefined ? undefined : share / k) })),
        });
        model = ens;
        reports = () => ens.fittedMembers.map((m) => (m as SegRnnForecaster).report!);
      }
      await run(k > 1 ? `${label} x${k} (mean)` : label, model, () => {
        const r = reports();
        return {
          epochs: r.map((x) => x.epochs.length).join('+'),
          bestEpoch: r.map((x) => x.bestEpoch).join('+'),
          trainSeconds: Number(r.reduce((a, x) => a + x.seconds, 0).toFixed(1)),
          trainBudgetSeconds: share === undefined ? null : Number(share.toFixed(1)),
          ...(k > 1 ? { members: k, seeds: Array.from({ length: k }, (_, i) => 7 + i) } : {}),
        };
      }, true, highway || process.env.BENCH_ETT_SCORE_VAL !== '0');
    }
    done++;
    const pub = PUBLISHED[ds]?.[H];
    const ridgeExpected = RIDGE_EXPECTED[ds]?.[horizons.indexOf(H) >= 0 ? [96, 192, 336, 720].indexOf(H) : -1];
    for (const [label, r] of Object.entries(results)) {
      rows.push({
        data: ds,
        H,
        model: label,
        MSE: Number(r.mse.toFixed(4)),
        MAE: Number(r.mae.toFixed(4)),
        seconds: Number(r.seconds.toFixed(1)),
        ...(r.extra?.epochs !== undefined ? { epochs: r.extra.epochs } : {}),
        ...(r.valMse !== undefined ? { valMSE: Number(r.valMse.toFixed(4)) } : {}),
      });
    }
    const recurrent = Object.entries(results).filter(([k]) => k.startsWith('segrnn'));
    const best = recurrent.sort((a, b) => (a[1].valMse ?? a[1].mse) - (b[1].valMse ?? b[1].mse))[0];
    if (best && recurrent.length > 1) results['recurrent (val-selected)'] = { ...best[1], extra: { ...best[1].extra, selected: best[0] } };
    const bestLinear = Math.min(results['linear (ridge)']!.mse, results['dlinear']!.mse);
    details.push({
      data: ds,
      H,
      results,
      published: pub ? { segrnn: { mse: pub.segrnn[0], mae: pub.segrnn[1] }, dlinear: { mse: pub.dlinear[0], mae: pub.dlinear[1] } } : undefined,
      ridgeExpectedMse: ridgeExpected,
      recurrentBest: best?.[0],
      recurrentBeatsLinear: best ? best[1].mse < bestLinear : undefined,
    });
  }
}
if (isWorker) {
  await writeFile(process.env.BENCH_ETT_OUT!, JSON.stringify({ rows, details }));
  process.exit(0);
}
const seconds = (performance.now() - t0) / 1000;
const table = formatTable(rows);
const summary = formatTable(
  details.map((d) => {
    const r = d.results as Record<string, { mse: number; mae: number }>;
    const segKey = Object.keys(r).find((k) => k.startsWith('segrnn') && !k.startsWith('segrnn+ridge'))!;
    const p = d.published as { segrnn: { mse: number; mae: number }; dlinear: { mse: number; mae: number } } | undefined;
    return {
      data: d.data,
      H: d.H,
      [segKey]: `${r[segKey]!.mse.toFixed(3)} / ${r[segKey]!.mae.toFixed(3)}`,
      ...(r['segrnn+ridge'] ? { 'segrnn+ridge': `${r['segrnn+ridge'].mse.toFixed(3)} / ${r['segrnn+ridge'].mae.toFixed(3)}` } : {}),
      ...(r['segrnn+ridge'] ? { 'picked on val': d.recurrentBest } : {}),
      ...(r['recurrent (val-selected)'] ? { 'recurrent (val-sel.)': `${r['recurrent (val-selected)'].mse.toFixed(3)} / ${r['recurrent (val-selected)'].mae.toFixed(3)}` } : {}),
      ridge: `${r['linear (ridge)']!.mse.toFixed(3)} / ${r['linear (ridge)']!.mae.toFixed(3)}`,
      'ridge (issue)': d.ridgeExpectedMse ?? '',
      dlinear: `${r.dlinear!.mse.toFixed(3)} / ${r.dlinear!.mae.toFixed(3)}`,
      'SegRNN (pub.)': p ? `${p.segrnn.mse} / ${p.segrnn.mae}` : '',
      'DLinear (pub.)': p ? `${p.dlinear.mse} / ${p.dlinear.mae}` : '',
      'beats linear': d.recurrentBeatsLinear ? 'yes' : 'no',
    };
  }),
);
console.log(table);
console.log('');
console.log(summary);
console.log(`\nbackend ${getBackendInfo()?.name}, total ${seconds.toFixed(0)} s${budget === undefined ? '' : ` (wall-clock cap ${(budget / 1000).toFixed(0)} s)`}`);
const file = await writeResults(process.env.BENCH_ETT_NAME ?? 'ett', 'npm run bench:ett', {
  backend: getBackendInfo()?.name,
  protocol: 'ETT 12/4/4 months; train [0,8640), val [8640-L,11520), test [11520-L,14400); z-score with train rows; L=96; MSE/MAE over every normalised test window, all 7 columns',
  note: `Single run per model (training is seeded); the ridge and DLinear fits are closed-form and deterministic. SegRNN trains for at most ${Number(process.env.BENCH_ETT_EPOCHS ?? 30)} epochs with early stopping${budget === undefined ? '' : `, also capped by a wall-clock share of ${(budget / 1000).toFixed(0)} s, so its epochs depend on machine load`}.${workers > 1 ? ` The datasets ran in ${workers} processes at once (one core each).` : ''}`,
  workers,
  published: 'SegRNN README (lss-1138/SegRNN), lookback 96 table; DLinear row from the iTransformer paper as quoted there',
  segrnn: {
    hidden,
    segmentLength: Number(process.env.BENCH_ETT_SEG ?? 24),
    loss: process.env.BENCH_ETT_LOSS ?? 'mae',
    dropout: Number(process.env.BENCH_ETT_DROPOUT ?? 0.5),
    learningRate: process.env.BENCH_ETT_LR ?? DEFAULT_LR,
    lrWarmEpochs: Number(process.env.BENCH_ETT_WARM ?? 4),
    lrDecay: Number(process.env.BENCH_ETT_DECAY ?? 0.8),
    init: process.env.BENCH_ETT_INIT ?? 'torch',
    patience: Number(process.env.BENCH_ETT_PATIENCE ?? 10),
    emaDecay: Number(process.env.BENCH_ETT_EMA ?? 0),
    batchSize: Number(process.env.BENCH_ETT_BATCH ?? 256),
    windowsPerEpoch: process.env.BENCH_ETT_WINDOWS ?? '8192 (4096 at H = 720)',
    epochs: Number(process.env.BENCH_ETT_EPOCHS ?? 30),
    seed: 7,
  },
  totalSeconds: Number(seconds.toFixed(1)),
  budgetSeconds: budget === undefined ? null : budget / 1000,
  rows,
  details,
});
console.log(`wrote ${file}`);

/** Runs each dataset in a child process (this script, one dataset each) and collects their rows. */
async function runWorkers(list: string[], parallel: number): Promise<Array<{ rows: Array<Record<string, unknown>>; details: Array<Record<string, unknown>> }>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'seqlab-ett-'));
  const results: Array<{ rows: Array<Record<string, unknown>>; details: Array<Record<string, unknown>> }> = new Array(list.length);
  let next = 0;
  const runOne = async (): Promise<void> => {
    while (next < list.length) {
      const i = next++;
      const ds = list[i]!;
      const out = path.join(dir, `${ds}.json`);
      // Datasets beyond the worker count queue behind the first ones; give them what is left.
      const left = budget === undefined ? undefined : Math.max(60, (budget - (performance.now() - t0)) / 1000);
      const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
          // One core per process: the fused recurrent kernels' second thread would only contend
          // with the other dataset's process.
          env: { SEQLAB_THREADS: '1', ...process.env, BENCH_ETT_WORKER: '1', BENCH_ETT_DATASETS: ds, BENCH_ETT_OUT: out, ...(left !== undefined ? { BENCH_ETT_BUDGET_S: String(left) } : {}) },
          stdio: ['ignore', 'inherit', 'inherit'],
        });
        child.on('error', reject);
        child.on('exit', resolve);
      });
      if (code !== 0) throw new Error(`bench:ett worker for ${ds} exited with code ${code}`);
      results[i] = JSON.parse(await readFile(out, 'utf8'));
    }
  };
  try {
    await Promise.all(Array.from({ length: parallel }, runOne));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return results;
}
