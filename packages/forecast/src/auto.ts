import path from 'node:path';
import { initBackend } from '@seqlab/core';
import { ForecastInputError } from './errors.js';
import { Forecaster, type BaseOptions, type FitOptions, type Forecast, type ForecasterCapabilities, type PredictOptions } from './forecaster.js';
import { seriesLength, type TimeSeries } from './data/series.js';
import { describeDateGaps, detectDateGaps, detectSeasons, type DateGapReport, type DetectedSeason } from './data-seasons.js';
import { mae, rmse, smape } from './metrics.js';

/** Options of {@link AutoForecaster}. */
export interface AutoOptions extends BaseOptions {
  /** Steps ahead each backtest window scores (the horizon you will forecast). Default 12, at most an eighth of the rows. */
  horizon?: number;
  /** A season length to try besides the ones the data and the dates suggest. */
  season?: number;
  /** Clip forecasts and intervals at 0. Default: when every training value is >= 0 (per column). */
  nonNegative?: boolean;
  /** Backtest origins on the training rows. Default 3. */
  windows?: number;
  /** Whether SegRNN is a candidate: `'auto'` (default) when the series has at least {@link SEGRNN_MIN_ROWS} rows. */
  neural?: boolean | 'auto';
  /** Epochs of the SegRNN candidate (each at most {@link SEGRNN_WINDOWS_PER_EPOCH} windows). Default 10. */
  epochs?: number;
  /** Seed of the SegRNN candidate. */
  seed?: number;
  /** Only these kinds are tried (e.g. `['linear', 'seasonal-naive']`). Default: every kind that applies. */
  kinds?: string[];
}

/** A candidate: a registry kind and its options. */
export interface AutoCandidate {
  kind: string;
  options: Record<string, unknown>;
  /** `kind` plus what sets it apart, e.g. `seasonal-naive(season=11)`. */
  label: string;
}

/** One candidate's rolling-origin backtest on the training rows. */
export interface AutoCandidateScore extends AutoCandidate {
  /** Selection score: mean over columns of RMSE divided by the column's standard deviation (RMSE itself ranks the same for one column). */
  score: number;
  rmse: number;
  mae: number;
  smape: number;
  seconds: number;
  /** Set when the candidate could not be backtested (too few rows); it is then not ranked. */
  skipped?: string;
}

/** What {@link AutoForecaster} chose and why: saved with the model. */
export interface AutoChoice {
  winner: AutoCandidate;
  /** Every candidate, in the order tried. */
  candidates: AutoCandidateScore[];
  metric: 'rmse';
  horizon: number;
  windows: number;
  /** Origins of the backtest windows (row indices of the first forecast step). */
  origins: number[];
  seasons: DetectedSeason[];
  /** Per column: forecasts clipped at 0. */
  nonNegative: boolean[];
  gaps?: DateGapReport;
  /** How much lower the winner's RMSE is than the runner-up's, as a fraction of the runner-up's. */
  margin: number;
  /** One sentence: which kind won, by how much, over what. */
  reason: string;
}

/** Rows from which SegRNN is tried. */
export const SEGRNN_MIN_ROWS = 2000;
/** Windows per SegRNN epoch inside `auto` (its cost: epochs x this many windows). */
export const SEGRNN_WINDOWS_PER_EPOCH = 256;

/** Longest DLinear look-back `auto` tries. */
export const DLINEAR_MAX_LOOKBACK = 64;

const registry = () => import('./registry.js');

/**
 * The kinds to try on a series of `n` rows: naive, seasonal naive at every candidate season,
 * Holt-Winters and window-linear models at the best of those seasons (`bestSeason`, decided by
 * the seasonal-naive scores first), SegRNN on long series.
 */
export function autoCandidates(o: AutoOptions, n: number, horizon: number, firstOrigin: number, seasons: number[], bestSeason: number | undefined): AutoCandidate[] {
  const out: AutoCandidate[] = [{ kind: 'naive', options: {}, label: 'naive' }, { kind: 'drift', options: {}, label: 'drift' }];
  for (const s of seasons) if (s <= firstOrigin) out.push({ kind: 'seasonal-naive', options: { season: s }, label: `seasonal-naive(season=${s})` });
  if (bestSeason !== undefined) out.push({ kind: 'holt-winters', options: { season: bestSeason }, label: `holt-winters(season=${bestSeason})` });
  // Two cycles (or two horizons) of look-back, but leave the linear fit at least as many windows as weights.
  const wanted = Math.max(2 * horizon, bestSeason ? 2 * bestSeason : 24);
  const lookback = Math.min(wanted, Math.floor((firstOrigin - horizon) / 2));
  if (lookback >= 4) {
    out.push({ kind: 'linear', options: { lookback, horizon }, label: `linear(lookback=${lookback})` });
    // DLinear's closed-form fit grows with the cube of twice its look-back, three times over for its normalisations.
    const short = Math.min(lookback, DLINEAR_MAX_LOOKBACK);
    const kernel = Math.min(25, short % 2 ? short : short - 1);
    out.push({ kind: 'dlinear', options: { lookback: short, horizon, kernel }, label: `dlinear(lookback=${short})` });
  }
  const neural = o.neural ?? 'auto';
  if (neural === true || (neural === 'auto' && n >= SEGRNN_MIN_ROWS)) {
    const seg = { lookback: Math.ceil(Math.max(2 * horizon, 48) / 24) * 24, segmentLength: 24 };
    if (seg.lookback + horizon < firstOrigin) {
      const options = { ...seg, horizon, epochs: o.epochs ?? 10, maxWindowsPerEpoch: SEGRNN_WINDOWS_PER_EPOCH, ...(o.seed !== undefined ? { seed: o.seed } : {}) };
      out.push({ kind: 'segrnn', options, label: `segrnn(lookback=${seg.lookback}, epochs=${options.epochs})` });
    }
  }
  return o.kinds ? out.filter((c) => o.kinds!.includes(c.kind)) : out;
}

/** Standard deviation of each column (the unit of the selection score). */
function columnScales(series: TimeSeries): number[] {
  return series.values.map((v) => {
    let m = 0;
    for (const x of v) m += x / v.length;
    let s = 0;
    for (const x of v) s += (x - m) ** 2 / v.length;
    return Math.sqrt(s) || 1;
  });
}

/** Clips `rows[c]` at 0 for the columns flagged non-negative, in place. */
function clipColumns(rows: ReadonlyArray<{ length: number; [i: number]: number }>, nonNegative: readonly boolean[]): void {
  rows.forEach((r, c) => {
    if (!nonNegative[c]) return;
    for (let i = 0; i < r.length; i++) if (r[i]! < 0) r[i] = 0;
  });
}

/**
 * Scores one candidate by a rolling-origin backtest on `series` (the training rows): fitted
 * once on the rows before the first origin, forecasting from each origin with the rows before it.
 */
async function scoreCandidate(c: AutoCandidate, series: TimeSeries, plan: { horizon: number; windows: number; scales: number[]; nonNegative: boolean[]; signal?: AbortSignal }): Promise<AutoCandidateScore> {
  const { createForecaster } = await registry();
  const t0 = performance.now();
  const model = createForecaster(c.kind, c.options);
  try {
    const r = await model.backtest(series, { horizon: plan.horizon, windows: plan.windows, refit: false, level: null, fit: { calibration: false }, ...(plan.signal ? { signal: plan.signal } : {}) });
    for (const f of r.forecasts) clipColumns(f.mean, plan.nonNegative);
    const perColumn = series.values.map((_, col) => rmse(r.actual.map((a) => a[col]!), r.forecasts.map((f) => f.mean[col]!)) / plan.scales[col]!);
    const actual = r.actual.flat();
    const predicted = r.forecasts.flatMap((f) => f.mean);
    const score = perColumn.reduce((a, b) => a + b, 0) / perColumn.length;
    return { ...c, score, rmse: rmse(actual, predicted), mae: mae(actual, predicted), smape: smape(actual, predicted), seconds: (performance.now() - t0) / 1000 };
  } catch (err) {
    if (!(err instanceof ForecastInputError)) throw err;
    return { ...c, score: Number.NaN, rmse: Number.NaN, mae: Number.NaN, smape: Number.NaN, seconds: (performance.now() - t0) / 1000, skipped: err.message };
  } finally {
    model.dispose();
  }
}

function fmt(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(1) : Math.abs(x) >= 1 ? x.toFixed(3) : x.toPrecision(3);
}

/** The sentence of an {@link AutoChoice}: the winner, its margin over the runner-up and over the calendar-season seasonal naive. */
function choiceReason(ranked: AutoCandidateScore[], horizon: number, windows: number, seasons: DetectedSeason[]): string {
  const [best, second] = ranked;
  const calendar = seasons.find((s) => s.source === 'calendar')?.period;
  const calendarNaive = ranked.find((c) => c.kind === 'seasonal-naive' && c.options.season === calendar);
  const over = second ? `, ${((1 - best!.rmse / second.rmse) * 100).toFixed(1)}% below the runner-up ${second.label} (${fmt(second.rmse)})` : '';
  const vsCalendar = calendarNaive && calendarNaive !== best ? `; seasonal naive at the calendar season ${calendar} scored ${fmt(calendarNaive.rmse)}` : '';
  return `${best!.label} had the lowest RMSE, ${fmt(best!.rmse)}, over ${windows} rolling-origin windows of ${horizon} steps on the training rows${over}${vsCalendar}`;
}

/**
 * `auto`: chooses a forecaster for the series it is fitted on. Candidates (see
 * {@link autoCandidates}) are scored by a rolling-origin backtest on the training rows only
 * (`windows` windows of `horizon` steps at the end of the training rows; each candidate fitted
 * once on the rows before them), ranked by RMSE (scaled by each column's standard deviation when
 * there are several columns); the winner is refitted on every training row. Seasons come from
 * the data's autocorrelation as well as the calendar. Cost: every candidate but SegRNN is fitted
 * in closed form (DLinear's look-back at most {@link DLINEAR_MAX_LOOKBACK}) or by a small simplex search; SegRNN (series of {@link SEGRNN_MIN_ROWS} rows or
 * more) trains `epochs` x {@link SEGRNN_WINDOWS_PER_EPOCH} windows. `choice` records it all.
 */
export class AutoForecaster extends Forecaster<AutoOptions> {
  readonly name = 'auto';
  readonly capabilities: ForecasterCapabilities = { supportsMultivariate: true, probabilistic: true, minTrainLength: 8, neural: false };
  private inner: Forecaster<BaseOptions> | undefined;
  private chosen: AutoChoice | undefined;
  /** True while `fit` calibrates: copies then keep the winner rather than choosing again. */
  private calibrating = false;

  constructor(options: AutoOptions = {}, private readonly pinned?: AutoCandidate) {
    super(options);
    if (options.horizon !== undefined && !(Number.isInteger(options.horizon) && options.horizon > 0)) throw new ForecastInputError(`auto: horizon must be a positive integer, got ${options.horizon}`);
  }

  /** What the last `fit` chose and why (also after `loadForecaster`). */
  get choice(): AutoChoice | undefined {
    return this.chosen;
  }

  /** The fitted winner. */
  get winner(): Forecaster<BaseOptions> | undefined {
    return this.inner;
  }

  override async fit(series: TimeSeries, options: FitOptions = {}): Promise<this> {
    try {
      return await super.fit(series, options);
    } finally {
      this.calibrating = false;
    }
  }

  protected override defaultScaler(): 'none' {
    return 'none';
  }

  protected override minHistory(): number {
    return this.inner?.requiredHistory ?? 1;
  }

  protected override calibrationHorizon(trainRows: number): number {
    return this.chosen?.horizon ?? super.calibrationHorizon(trainRows);
  }

  protected async fitScaled(series: TimeSeries, _validation: TimeSeries | undefined, options: FitOptions): Promise<void> {
    const nonNegative = series.values.map((v) => this.options.nonNegative ?? v.every((x) => x >= 0));
    const gaps = detectDateGaps(series.dates);
    if (gaps) this.note(`auto: ${describeDateGaps(gaps)}`);
    const choice = this.pinned ? this.pinnedChoice(series, nonNegative) : await this.choose(series, nonNegative, options.signal);
    if (gaps) choice.gaps = gaps;
    if (!this.pinned) this.note(`auto: ${choice.reason}`);
    const { createForecaster } = await registry();
    const model = createForecaster(choice.winner.kind, choice.winner.options);
    if (model.capabilities.neural) await initBackend();
    try {
      await model.fit(series, { calibration: false, ...(options.signal ? { signal: options.signal } : {}), ...(options.onEpoch ? { onEpoch: options.onEpoch } : {}) });
    } catch (err) {
      model.dispose();
      throw err;
    }
    this.inner = model;
    this.chosen = choice;
    this.calibrating = true;
  }

  private pinnedChoice(series: TimeSeries, nonNegative: boolean[]): AutoChoice {
    const w = this.pinned!;
    return { winner: w, candidates: [], metric: 'rmse', horizon: (w.options.horizon as number | undefined) ?? this.planHorizon(seriesLength(series)), windows: 0, origins: [], seasons: [], nonNegative, margin: 0, reason: `${w.label} (kept from the choice being calibrated)` };
  }

  private planHorizon(n: number): number {
    return Math.max(1, Math.min(this.options.horizon ?? 12, Math.floor(n / 8)));
  }

  /** The backtest over every candidate: seasonal naive first (its scores pick the season the other seasonal kinds use). */
  private async choose(series: TimeSeries, nonNegative: boolean[], signal: AbortSignal | undefined): Promise<AutoChoice> {
    const n = seriesLength(series);
    const horizon = this.planHorizon(n);
    if (this.options.horizon !== undefined && horizon < this.options.horizon) this.note(`auto: backtest windows of ${horizon} steps, not ${this.options.horizon}: ${n} rows leave room for about eight windows of at most an eighth of the rows`);
    const windows = Math.max(1, Math.min(this.options.windows ?? 3, Math.floor((n - 8) / horizon) - 1));
    const firstOrigin = n - windows * horizon;
    const seasons = detectSeasons(series, { ...(this.options.season !== undefined ? { given: this.options.season } : {}) });
    const plan = { horizon, windows, scales: columnScales(series), nonNegative, ...(signal ? { signal } : {}) };
    const periods = seasons.map((s) => s.period);
    const scored: AutoCandidateScore[] = [];
    for (const c of autoCandidates(this.options, n, horizon, firstOrigin, periods, undefined)) scored.push(await scoreCandidate(c, series, plan));
    const seasonal = scored.filter((c) => c.kind === 'seasonal-naive' && !c.skipped).sort((a, b) => a.score - b.score);
    const bestSeason = seasonal[0]?.options.season as number | undefined;
    const rest = autoCandidates(this.options, n, horizon, firstOrigin, [], bestSeason).filter((c) => !scored.some((s) => s.label === c.label));
    for (const c of rest) scored.push(await scoreCandidate(c, series, plan));
    const ranked = scored.filter((c) => !c.skipped && Number.isFinite(c.score)).sort((a, b) => a.score - b.score);
    if (ranked.length === 0) throw new ForecastInputError(`auto: no candidate could be backtested on ${n} rows (${scored.map((c) => `${c.label}: ${c.skipped}`).join('; ')})`);
    const [best, second] = ranked;
    const origins = Array.from({ length: windows }, (_, k) => firstOrigin + k * horizon);
    const winner = { kind: best!.kind, options: best!.options, label: best!.label };
    const margin = second ? 1 - best!.rmse / second.rmse : 0;
    return { winner, candidates: scored, metric: 'rmse', horizon, windows, origins, seasons, nonNegative, margin, reason: choiceReason(ranked, horizon, windows, seasons) };
  }

  protected async forecastScaled(history: Float64Array[], horizon: number): Promise<Float64Array[]> {
    const model = this.requireWinner();
    const f = await model.predict(horizon, { history: this.asSeries(model, history), level: null });
    const out = f.mean.map((m) => Float64Array.from(m));
    clipColumns(out, this.chosen!.nonNegative);
    return out;
  }

  protected override async forecastManyScaled(values: Float64Array[], origins: number[], horizon: number): Promise<Float64Array[][]> {
    const model = this.requireWinner();
    const preds = await model.predictAt(this.asSeries(model, values), origins, horizon);
    for (const p of preds) clipColumns(p, this.chosen!.nonNegative);
    return preds;
  }

  /** Forecasts with intervals clipped at 0 for non-negative columns. */
  override async predict(horizon: number, options: PredictOptions = {}): Promise<Forecast> {
    const f = await super.predict(horizon, options);
    const nonNegative = this.chosen?.nonNegative ?? [];
    for (const rows of [f.lower, f.upper]) if (rows) clipColumns(rows, nonNegative);
    return f;
  }

  private asSeries(model: Forecaster<BaseOptions>, values: Float64Array[]): TimeSeries {
    return { columns: model.fittedColumns, values, irregular: false };
  }

  private requireWinner(): Forecaster<BaseOptions> {
    if (!this.inner || !this.chosen) throw new ForecastInputError('auto: call fit() (or load a saved model) before predicting');
    return this.inner;
  }

  protected getState(): Record<string, unknown> {
    return { choice: this.chosen };
  }

  protected setState(state: Record<string, unknown>): void {
    this.chosen = state.choice as AutoChoice;
  }

  protected override async saveExtra(dir: string): Promise<void> {
    await this.requireWinner().save(path.join(dir, 'winner'));
  }

  protected override async loadExtra(dir: string): Promise<void> {
    const { loadForecaster } = await registry();
    if (this.chosen?.winner.kind === 'segrnn') await initBackend();
    this.inner = await loadForecaster(path.join(dir, 'winner'));
  }

  override dispose(): void {
    this.inner?.dispose();
    this.inner = undefined;
  }

  clone(): AutoForecaster {
    return new AutoForecaster(this.options, this.calibrating && this.chosen ? this.chosen.winner : this.pinned);
  }
}
