import { ForecastInputError } from '../errors.js';
import { validateForecasterOptions } from '../options.js';
import { EsHybridForecaster, type EsHybridOptions } from './es-hybrid.js';
import { GlobalForecaster, readSavedGlobal } from './forecaster.js';

type GlobalFactory = (options: Record<string, unknown>) => GlobalForecaster<object>;

/** Global (panel) forecasters by registry name. Frozen. */
export const GLOBAL_FORECASTERS: Readonly<Record<string, GlobalFactory>> = Object.freeze({
  'es-hybrid': (o) => new EsHybridForecaster(o as EsHybridOptions),
} satisfies Record<string, GlobalFactory>);

/** Registry names of the global forecasters. */
export const GLOBAL_FORECASTER_NAMES: readonly string[] = Object.freeze(Object.keys(GLOBAL_FORECASTERS));

/** Whether `name` is a global (panel) forecaster rather than a per-series one. */
export function isGlobalForecaster(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(GLOBAL_FORECASTERS, name);
}

/**
 * Creates a global forecaster by name, its options checked by the same strict schemas as the
 * per-series forecasters' (`FORECASTER_OPTION_SCHEMAS`).
 *
 * @example
 * ```ts
 * const model = createGlobalForecaster('es-hybrid', { horizon: 48, seeds: [1, 2, 3] });
 * const evaluation = await model.backtest(readWideCsv('data/m4/Hourly-train.csv'));
 * ```
 * @throws ForecastInputError for an unknown name (listing the valid ones) or option.
 */
export function createGlobalForecaster(name: string, options: Record<string, unknown> = {}): GlobalForecaster<object> {
  if (!isGlobalForecaster(name)) throw new ForecastInputError(`unknown global forecaster "${name}"; valid names: ${GLOBAL_FORECASTER_NAMES.join(', ')}`);
  return GLOBAL_FORECASTERS[name]!(validateForecasterOptions(name, options));
}

/** Loads a global forecaster saved with `save(dir)`. Needs `initBackend()` first. */
export async function loadGlobalForecaster(dir: string): Promise<GlobalForecaster<object>> {
  const saved = await readSavedGlobal(dir);
  const model = createGlobalForecaster(saved.name, saved.options);
  await model.restore(saved, dir);
  return model;
}
