import { ForecastInputError } from '../errors.js';

/**
 * The scale that makes errors of different series comparable: the in-sample mean absolute
 * seasonal difference (MASE's denominator), falling back to the one-step difference for a series
 * shorter than two seasons, then to the mean absolute value, then to 1 for a constant zero series.
 */
export function seriesScale(y: ArrayLike<number>, season: number): number {
  const diffScale = (lag: number): number => {
    if (y.length <= lag) return 0;
    let s = 0;
    for (let t = lag; t < y.length; t++) s += Math.abs(y[t]! - y[t - lag]!);
    return s / (y.length - lag);
  };
  const seasonal = diffScale(season);
  if (seasonal > 0) return seasonal;
  const oneStep = diffScale(1);
  if (oneStep > 0) return oneStep;
  let abs = 0;
  for (let i = 0; i < y.length; i++) abs += Math.abs(y[i]!);
  return abs / Math.max(1, y.length) || 1;
}

/**
 * Split-conformal residuals pooled across a panel: `scaled[i][h]` is series `i`'s absolute error
 * `h + 1` steps ahead on its held-out window divided by {@link seriesScale}. Each step keeps the
 * sorted residuals of every series, so one held-out window per series still gives hundreds of
 * residuals per step on a panel the size of M4 Hourly.
 */
export class PooledConformal {
  /** `sorted[h]`: scaled absolute residuals of step `h + 1`, ascending. */
  readonly sorted: number[][];

  constructor(sorted: number[][]) {
    if (sorted.length === 0 || sorted.some((r) => r.length === 0)) throw new ForecastInputError('pooled conformal calibration needs at least one residual per step');
    this.sorted = sorted;
  }

  /** Pools residuals `scaled[series][h]` (held-out windows of every series) per step. */
  static fromResiduals(scaled: ArrayLike<number>[][]): PooledConformal {
    const horizon = Math.min(...scaled.flatMap((windows) => windows.map((w) => w.length)));
    if (!Number.isFinite(horizon) || horizon < 1) throw new ForecastInputError('pooled conformal calibration needs at least one held-out window');
    const sorted = Array.from({ length: horizon }, (_, h) => scaled.flatMap((windows) => windows.map((w) => w[h]!)).filter(Number.isFinite).sort((a, b) => a - b));
    return new PooledConformal(sorted);
  }

  get horizon(): number {
    return this.sorted.length;
  }

  /** Residuals per step. */
  get count(): number {
    return this.sorted[0]!.length;
  }

  /**
   * Half-widths in scaled units at `level` for `horizon` steps: the `ceil((n + 1) level)`-th
   * smallest residual of each step (the finite-sample conformal quantile, the largest when `n`
   * is too small); steps beyond the calibrated ones widen like a random walk.
   */
  halfWidths(level: number, horizon: number): number[] {
    if (!(level > 0 && level < 1)) throw new ForecastInputError(`level must be in (0, 1), got ${level}`);
    const q = this.sorted.map((r) => r[Math.min(r.length - 1, Math.max(0, Math.ceil((r.length + 1) * level) - 1))]!);
    return Array.from({ length: horizon }, (_, h) => (h < q.length ? q[h]! : q[q.length - 1]! * Math.sqrt((h + 1) / q.length)));
  }
}
