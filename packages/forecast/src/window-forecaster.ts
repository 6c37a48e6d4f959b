import type { ScalerKind } from './data/scalers.js';
import { Forecaster, type BaseOptions } from './forecaster.js';

/**
 * A forecaster that reads a fixed look-back window and is trained for a fixed horizon (the
 * linear and the neural models): it keeps only the window as history, needs at least one window
 * to forecast, calibrates its intervals at its trained horizon and standardises by default.
 */
export abstract class WindowForecaster<O extends BaseOptions> extends Forecaster<O> {
  /** Rows of history each forecast reads. */
  abstract readonly lookback: number;
  /** Steps ahead the model is trained to forecast. */
  abstract readonly horizon: number;

  protected override defaultScaler(): ScalerKind {
    return 'standard';
  }
  protected override minHistory(): number {
    return this.lookback;
  }
  protected override historyRows(): number {
    return this.lookback;
  }
  protected override calibrationHorizon(): number {
    return this.horizon;
  }
}
