import { BadInputError } from '@seqlab/core';
import { DLINEAR_MAX_LOOKBACK, SEGRNN_MIN_ROWS, SEGRNN_WINDOWS_PER_EPOCH } from './auto.js';

/**
 * What a forecast request asks for, as far as its cost goes: the model, its options and the
 * size of the series. Everything here is known before any work starts.
 */
export interface ForecastCostInput {
  /** Registry name, e.g. `'linear'`. */
  model: string;
  /** Options as given to `createForecaster`. */
  options: Readonly<Record<string, unknown>>;
  /** Rows of the training series. */
  rows: number;
  /** Columns of the series. */
  columns: number;
  /** Steps to forecast. */
  horizon: number;
}

/** An estimate of the work one fit + calibration + predict call does. */
export interface ForecastCost {
  /** Floating-point operations, within a small factor (fitting, calibration and prediction). */
  flops: number;
  /** Trainable weights of neural models (0 for the others). */
  parameters: number;
  /** Largest working set in bytes (normal equations, weights with optimizer state, activations). */
  memoryBytes: number;
}

type Range = { min: number; max: number; integer?: boolean; minExclusive?: boolean };

// Upper bounds are generous for real use and keep every derived size far from overflow; they are
// ranges of meaning (a weight in [0, 1]), not of cost: cost is judged by `forecastCost`.
const INT = (min: number, max: number): Range => ({ min, max, integer: true });
const OPTION_RANGES: Readonly<Record<string, Range>> = Object.freeze({
  lookback: INT(1, 100_000),
  horizon: INT(1, 100_000),
  season: INT(1, 100_000),
  window: INT(1, 100_000),
  kernel: INT(1, 100_001),
  segmentLength: INT(1, 100_000),
  hidden: INT(1, 4096),
  epochs: INT(1, 10_000),
  batchSize: INT(1, 65_536),
  patience: INT(1, 10_000),
  maxWindowsPerEpoch: INT(1, 10_000_000),
  validationStride: INT(1, 100_000),
  seed: INT(0, 2 ** 31 - 1),
  learningRate: { min: 0, max: 1, minExclusive: true },
  lrDecay: { min: 0, max: 1, minExclusive: true },
  dropout: { min: 0, max: 0.99 },
  timeBudgetSeconds: { min: 0, max: 86_400, minExclusive: true },
  alpha: { min: 0, max: 1 },
  beta: { min: 0, max: 1 },
  gamma: { min: 0, max: 1 },
  phi: { min: 0, max: 1, minExclusive: true },
  lambda: { min: 0, max: 1e6 },
});

/**
 * Checks that every numeric forecaster option is finite and inside its meaningful range
 * (`hidden: 1e9`, `learningRate: 1e308` and Holt-Winters `phi: 1e308` are refused here, before a
 * model is built). Options this table does not know are left to the forecaster's constructor.
 *
 * @throws BadInputError naming the option, the value and the range.
 */
export function checkForecastOptions(options: Readonly<Record<string, unknown>>, where = 'options'): void {
  for (const [key, value] of Object.entries(options)) {
    const range = Object.prototype.hasOwnProperty.call(OPTION_RANGES, key) ? OPTION_RANGES[key] : undefined;
    if (!range || (key === 'lambda' && value === 'auto')) continue;
    const name = `${where}.${key}`;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new BadInputError(`${name} must be a finite number, got ${JSON.stringify(value)}`, { details: { field: name } });
    }
    const low = range.minExclusive ? value <= range.min : value < range.min;
    if (low || value > range.max || (range.integer && !Number.isInteger(value))) {
      const kind = range.integer ? 'an integer' : 'a number';
      const interval = `${range.minExclusive ? '(' : '['}${range.min}, ${range.max}]`;
      throw new BadInputError(`${name} must be ${kind} in ${interval}, got ${value}`, { details: { field: name, min: range.min, max: range.max } });
    }
  }
}

const num = (o: Readonly<Record<string, unknown>>, key: string, fallback: number): number => {
  const v = o[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
};

// Holt-Winters: Nelder-Mead runs the smoother about twice per iteration for 150 iterations.
const HW_EVALUATIONS = 300;
// Conformal calibration forecasts from up to 40 origins.
const CALIBRATION_ORIGINS = 40;
// The ridge penalty grid of the linear models (plus the final solve).
const LAMBDA_GRID = 10;
/** Floats a recurrent fit keeps per hidden unit and time step of a batch row (measured, see forecastCost). */
const ACTIVATION_FLOATS_PER_UNIT = 32;

/**
 * Estimates the work of fitting `model` on a series and forecasting `horizon` steps, from the
 * request alone. The numbers follow the algorithms (normal equations of the linear models grow
 * with lookback², GRU weights with hidden²), so a limit on them bounds run time and memory.
 *
 * @example
 * ```ts
 * const cost = forecastCost({ model: 'linear', options: { lookback: 4000 }, rows: 12_000, columns: 1, horizon: 1000 });
 * if (cost.flops > 2e9) throw new LimitExceededError(...);
 * ```
 */
export function forecastCost(input: ForecastCostInput): ForecastCost {
  const { model, options: o, rows, columns: C, horizon } = input;
  const perStep = C * (rows + horizon);
  switch (model) {
    case 'naive':
    case 'drift':
    case 'seasonal-naive':
    case 'moving-average':
      return { flops: perStep * (CALIBRATION_ORIGINS + num(o, 'window', 1)), parameters: 0, memoryBytes: 8 * perStep };
    case 'holt-winters':
      return { flops: 10 * C * rows * (HW_EVALUATIONS + CALIBRATION_ORIGINS) + 10 * C * horizon, parameters: 0, memoryBytes: 8 * perStep };
    case 'linear':
    case 'dlinear': {
      const L = num(o, 'lookback', 96);
      const H = num(o, 'horizon', 24);
      const p = (model === 'dlinear' ? 2 * L : L) + 1;
      const windows = C * Math.max(0, rows - L - H + 1);
      const accumulate = 2 * windows * (L + 1) * (L + 1 + H);
      const transform = model === 'dlinear' ? 4 * p * (L + 1) * (L + 1) : 0;
      const solve = LAMBDA_GRID * (p ** 3 / 3 + 2 * p * p * H);
      const forecasts = (CALIBRATION_ORIGINS + Math.ceil(horizon / H)) * C * 2 * (L + 1) * H;
      return { flops: accumulate + transform + solve + forecasts, parameters: 0, memoryBytes: 8 * (2 * p * p + p * H) };
    }
    case 'segrnn':
    case 'seq2seq': {
      const L = num(o, 'lookback', model === 'seq2seq' ? 48 : 96);
      const H = num(o, 'horizon', 24);
      const d = num(o, 'hidden', model === 'seq2seq' ? 32 : 128);
      const windows = C * Math.max(0, rows - L - H + 1);
      const perEpoch = Math.min(windows, num(o, 'maxWindowsPerEpoch', windows));
      const epochs = num(o, 'epochs', 10);
      const batch = num(o, 'batchSize', 256);
      let parameters: number;
      let steps: number;
      let perWindowStep: number;
      if (model === 'segrnn') {
        const w = num(o, 'segmentLength', 24);
        const segmentsOut = Math.ceil(H / w);
        parameters = 6 * d * d + 6 * d + 2 * w * d + w + d + (segmentsOut + C) * (d / 2);
        steps = L / w + segmentsOut;
        perWindowStep = 2 * (6 * d * d + w * d);
      } else {
        const gates = o.cell === 'lstm' ? 4 : 3;
        const dirs = o.bidirectional === true ? 2 : 1;
        parameters = (dirs + 1) * gates * d * (d + 3) + 4 * dirs * d * d + (dirs + 1) * d;
        steps = L * dirs + H;
        perWindowStep = 2 * gates * d * d + (o.attention === false ? 0 : 4 * dirs * d * L);
      }
      // Forward and backward pass per training window; forward only for calibration and predict.
      const train = 3 * epochs * perEpoch * steps * perWindowStep;
      const infer = (CALIBRATION_ORIGINS + Math.ceil(horizon / H)) * C * steps * perWindowStep;
      // Weights, gradients and two Adam moments, plus a batch of activations kept for backprop:
      // about 32 floats per hidden unit and step (a recurrent cell's gate, product and sum
      // tensors and their gradients), and with attention the [batch, lookback, hidden] scores of
      // each decoder step, again several tensors deep. Calibrated on the WebAssembly backend's
      // memory growth (which never shrinks): SegRNN fits of five shapes grew it by 1.1-2.5x this
      // estimate (the small ones most: the backend grows in steps), seq2seq fits with attention
      // by 1.0-1.3x; the former 8 floats per unit and step without attention was 3-13x under (a
      // default seq2seq fit of 300 rows, horizon 24, grew it by 250 MB against 19 MB estimated).
      const batchRows = Math.min(batch, Math.max(1, perEpoch));
      const attention = model === 'seq2seq' && o.attention !== false ? 4 * H * L * d * (o.bidirectional === true ? 2 : 1) : 0;
      const memoryBytes = 4 * (4 * parameters + batchRows * (steps * ACTIVATION_FLOATS_PER_UNIT * d + attention));
      return { flops: train + infer, parameters, memoryBytes };
    }
    case 'auto':
      return autoCost(input);
    default:
      return { flops: perStep, parameters: 0, memoryBytes: 8 * perStep };
  }
}

/**
 * `auto` fits every candidate once for its backtest, then the winner twice more (on every row,
 * and a copy for interval calibration): the sum over candidates plus twice the dearest.
 */
function autoCost(input: ForecastCostInput): ForecastCost {
  const { options: o, rows, horizon } = input;
  const H = Math.max(1, Math.min(num(o, 'horizon', horizon), Math.floor(rows / 8)));
  const lookback = Math.max(4, Math.min(Math.max(2 * H, 24), Math.floor(rows / 2)));
  const candidates: Array<[string, Record<string, unknown>]> = [
    ['naive', {}],
    ['seasonal-naive', {}],
    ['seasonal-naive', {}],
    ['seasonal-naive', {}],
    ['holt-winters', {}],
    ['linear', { lookback, horizon: H }],
    ['dlinear', { lookback: Math.min(lookback, DLINEAR_MAX_LOOKBACK), horizon: H }],
  ];
  const neural = o.neural ?? 'auto';
  if (neural === true || (neural === 'auto' && rows >= SEGRNN_MIN_ROWS)) candidates.push(['segrnn', { lookback: 48, horizon: H, epochs: num(o, 'epochs', 10), maxWindowsPerEpoch: SEGRNN_WINDOWS_PER_EPOCH }]);
  const costs = candidates.map(([model, options]) => forecastCost({ ...input, model, options }));
  const dearest = costs.reduce((a, b) => (b.flops > a.flops ? b : a));
  return {
    flops: costs.reduce((a, c) => a + c.flops, 0) + 2 * dearest.flops,
    parameters: Math.max(...costs.map((c) => c.parameters)),
    memoryBytes: Math.max(...costs.map((c) => c.memoryBytes)),
  };
}
