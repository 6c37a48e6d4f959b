import { ForecastInputError } from '../errors.js';
import { seriesLength, type TimeSeries } from './series.js';

/** Names of the column scalers. */
export type ScalerKind = 'standard' | 'minmax' | 'none';

/** Serialized scaler state. */
export interface ScalerState {
  kind: ScalerKind;
  columns: string[];
  /** Per column: value subtracted. */
  shift: number[];
  /** Per column: divisor (1 for a constant column, which is then only centred). */
  scale: number[];
}

/**
 * A per-column affine scaler: `(x - shift) / scale`, fitted on training rows only.
 * A constant column (zero variance or range) gets `scale = 1`, so it is centred but never
 * divided by zero.
 */
export class Scaler {
  private constructor(readonly state: ScalerState) {}

  /**
   * Fits a scaler on the rows `[0, rows)` of a series (all rows by default).
   *
   * @example
   * ```ts
   * const scaler = Scaler.fit(train, 'standard');
   * const z = scaler.transform(series);
   * ```
   */
  static fit(series: TimeSeries, kind: ScalerKind = 'standard', rows?: number): Scaler {
    if (!['standard', 'minmax', 'none'].includes(kind)) throw new ForecastInputError(`scaler must be 'standard', 'minmax' or 'none', got "${String(kind)}"`);
    const n = rows ?? seriesLength(series);
    if (n < 1) throw new ForecastInputError('cannot fit a scaler on an empty series');
    const shift: number[] = [];
    const scale: number[] = [];
    for (const v of series.values) {
      if (kind === 'none') {
        shift.push(0);
        scale.push(1);
      } else if (kind === 'standard') {
        let mean = 0;
        for (let i = 0; i < n; i++) mean += v[i]!;
        mean /= n;
        let ss = 0;
        for (let i = 0; i < n; i++) ss += (v[i]! - mean) ** 2;
        // Population std, as scikit-learn's StandardScaler (which the ETT protocol uses).
        const std = Math.sqrt(ss / n);
        shift.push(mean);
        scale.push(std > 1e-12 * Math.max(1, Math.abs(mean)) ? std : 1);
      } else {
        let lo = Infinity;
        let hi = -Infinity;
        for (let i = 0; i < n; i++) {
          lo = Math.min(lo, v[i]!);
          hi = Math.max(hi, v[i]!);
        }
        shift.push(lo);
        scale.push(hi - lo > 1e-12 * Math.max(1, Math.abs(lo)) ? hi - lo : 1);
      }
    }
    return new Scaler({ kind, columns: [...series.columns], shift, scale });
  }

  /** Restores a scaler from {@link Scaler.state}. */
  static fromState(state: ScalerState): Scaler {
    if (!state || state.shift.length !== state.scale.length || state.shift.length !== state.columns.length) {
      throw new ForecastInputError('invalid scaler state');
    }
    return new Scaler({ ...state, shift: [...state.shift], scale: [...state.scale], columns: [...state.columns] });
  }

  private check(series: TimeSeries): void {
    if (series.values.length !== this.state.columns.length) {
      throw new ForecastInputError(`scaler was fitted on ${this.state.columns.length} columns (${this.state.columns.join(', ')}); got ${series.values.length}`);
    }
  }

  /** Scaled copy of a series. */
  transform(series: TimeSeries): TimeSeries {
    this.check(series);
    return { ...series, values: series.values.map((v, c) => this.transformColumn(c, v)) };
  }

  /** Original-unit copy of a scaled series. */
  inverse(series: TimeSeries): TimeSeries {
    this.check(series);
    return { ...series, values: series.values.map((v, c) => this.inverseColumn(c, v)) };
  }

  /** Scales one column's values. */
  transformColumn(c: number, v: ArrayLike<number>): Float64Array {
    const a = this.state.shift[c]!;
    const b = this.state.scale[c]!;
    const out = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = (v[i]! - a) / b;
    return out;
  }

  /** Inverts {@link Scaler.transformColumn}. */
  inverseColumn(c: number, v: ArrayLike<number>): Float64Array {
    const a = this.state.shift[c]!;
    const b = this.state.scale[c]!;
    const out = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = v[i]! * b + a;
    return out;
  }

  /** Multiplier that maps a scaled-unit spread (e.g. an interval half-width) to original units. */
  unitScale(c: number): number {
    return this.state.scale[c]!;
  }
}

/** Per-window statistics of instance normalization, needed to invert it. */
export interface InstanceStats {
  mean: number;
  std: number;
}

/**
 * Instance normalization (RevIN without the learned affine, Kim et al. 2022): each input
 * window is standardised by its own mean and std, and the forecast is mapped back with the
 * same statistics, which removes level shifts between train and test.
 */
export function instanceNormalize(window: Float32Array | Float64Array, eps = 1e-5): { normalized: Float32Array; stats: InstanceStats } {
  const n = window.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += window[i]!;
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (window[i]! - mean) ** 2;
  const std = Math.sqrt(ss / n + eps);
  const normalized = new Float32Array(n);
  for (let i = 0; i < n; i++) normalized[i] = (window[i]! - mean) / std;
  return { normalized, stats: { mean, std } };
}

/** Inverts {@link instanceNormalize} on a forecast. */
export function instanceDenormalize(values: ArrayLike<number>, stats: InstanceStats): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]! * stats.std + stats.mean;
  return out;
}
