import { ForecastInputError } from './errors.js';
import { validateForecasterOptions } from './options.js';
import { Forecaster, readSaved, type BaseOptions } from './forecaster.js';
import {
  DriftForecaster,
  HoltWintersForecaster,
  MovingAverageForecaster,
  NaiveForecaster,
  SeasonalNaiveForecaster,
} from './models/baselines.js';
import { DLinearForecaster, LinearForecaster } from './models/linear.js';
import { bindEnsembleRegistry, MeanEnsembleForecaster, type MeanEnsembleOptions } from './models/ensemble.js';
import { SegRnnForecaster } from './neural/segrnn.js';
import { isGlobalForecaster } from './global/registry.js';
import { Seq2SeqForecaster } from './neural/seq2seq.js';
import { AutoForecaster } from './auto.js';

type Factory = (options: Record<string, unknown>) => Forecaster<BaseOptions>;

/** Every forecaster by registry name. Frozen: extend by subclassing, not by mutation. */
export const FORECASTERS: Readonly<Record<string, Factory>> = Object.freeze({
  auto: (o) => new AutoForecaster(o),
  segrnn: (o) => new SegRnnForecaster(o),
  seq2seq: (o) => new Seq2SeqForecaster(o),
  dlinear: (o) => new DLinearForecaster(o),
  linear: (o) => new LinearForecaster(o),
  'seasonal-naive': (o) => new SeasonalNaiveForecaster(o),
  naive: (o) => new NaiveForecaster(o),
  drift: (o) => new DriftForecaster(o),
  'moving-average': (o) => new MovingAverageForecaster(o),
  'holt-winters': (o) => new HoltWintersForecaster(o),
  'mean-ensemble': (o) => new MeanEnsembleForecaster(o as unknown as MeanEnsembleOptions),
} satisfies Record<string, Factory>);

/** Registry names of all forecasters. */
export const FORECASTER_NAMES: readonly string[] = Object.freeze(Object.keys(FORECASTERS));

/**
 * Creates a forecaster by name.
 *
 * @example
 * ```ts
 * const model = createForecaster('seasonal-naive', { season: 12 });
 * await model.fit(series);
 * const forecast = await model.predict(24);
 * ```
 * @throws ForecastInputError for an unknown name, listing the valid ones, and for an unknown or
 *   invalid option, listing the valid options.
 */
export function createForecaster(name: string, options: Record<string, unknown> = {}): Forecaster<BaseOptions> {
  const factory = Object.prototype.hasOwnProperty.call(FORECASTERS, name) ? FORECASTERS[name] : undefined;
  if (!factory) {
    // A global model's name here is a mix-up worth naming rather than a typo.
    const global = isGlobalForecaster(name) ? `; "${name}" is a global (panel) model: use createGlobalForecaster` : '';
    throw new ForecastInputError(`unknown forecaster "${name}"; valid names: ${FORECASTER_NAMES.join(', ')}${global}`);
  }
  return factory(validateForecasterOptions(name, options));
}

/**
 * Loads a forecaster saved with `save(dir)`: configuration, scaler, recent history,
 * calibration and weights. Neural models need `initBackend()` first.
 */
export async function loadForecaster(dir: string): Promise<Forecaster<BaseOptions>> {
  const saved = await readSaved(dir);
  const model = createForecaster(saved.name, saved.options);
  await model.restore(saved, dir);
  return model;
}

bindEnsembleRegistry(createForecaster, loadForecaster);
