import path from 'node:path';
import { ForecastInputError } from '../errors.js';
import type { TimeSeries } from '../data/series.js';
import type { ScalerKind } from '../data/scalers.js';
import { Forecaster, type BaseOptions, type FitOptions, type ForecasterCapabilities } from '../forecaster.js';

/** One member of a {@link MeanEnsembleForecaster}: a registry name and its options. */
export interface EnsembleMember {
  name: string;
  options?: Record<string, unknown>;
}

/** Options of {@link MeanEnsembleForecaster}. */
export interface MeanEnsembleOptions extends BaseOptions {
  /** The members, each created with `createForecaster(name, options)` (their own scaler is off). */
  members: EnsembleMember[];
}

/** Creates a forecaster by registry name; injected by the registry to avoid an import cycle. */
export type ForecasterFactory = (name: string, options: Record<string, unknown>) => Forecaster<BaseOptions>;
export type ForecasterLoader = (dir: string) => Promise<Forecaster<BaseOptions>>;

let factory: ForecasterFactory | undefined;
let loader: ForecasterLoader | undefined;

/** @internal Called once by the registry module. */
export function bindEnsembleRegistry(create: ForecasterFactory, load: ForecasterLoader): void {
  factory = create;
  loader = load;
}

/**
 * The mean of several forecasters' predictions (Darts' `NaiveEnsembleModel`): typically the same
 * neural model trained with different seeds, whose errors partly cancel, or a mix of models.
 * Every member is fitted on the same (ensemble-scaled) data and validation series; `save`
 * writes each member into `member-<i>/`.
 *
 * @example
 * ```ts
 * const model = new MeanEnsembleForecaster({
 *   members: [1, 2, 3].map((seed) => ({ name: 'segrnn', options: { lookback: 96, horizon: 96, seed } })),
 * });
 * await model.fit(train, { validation: val });
 * ```
 */
export class MeanEnsembleForecaster extends Forecaster<MeanEnsembleOptions> {
  readonly name = 'mean-ensemble';
  readonly capabilities: ForecasterCapabilities;
  private members: Array<Forecaster<BaseOptions>> = [];

  constructor(options: MeanEnsembleOptions) {
    super(options);
    if (!options || !Array.isArray(options.members) || options.members.length === 0) {
      throw new ForecastInputError('mean-ensemble: members must be a non-empty array of { name, options }');
    }
    options.members.forEach((m, i) => {
      if (!m || typeof m.name !== 'string') throw new ForecastInputError(`mean-ensemble: members[${i}].name must be a forecaster name`);
      if (m.name === 'mean-ensemble') throw new ForecastInputError(`mean-ensemble: members[${i}] is itself an ensemble`);
    });
    // Members are only instantiated to read their capabilities; fit makes fresh ones.
    const probes = options.members.map((m) => this.create(m));
    this.capabilities = {
      supportsMultivariate: probes.every((p) => p.capabilities.supportsMultivariate),
      probabilistic: true,
      minTrainLength: Math.max(...probes.map((p) => p.capabilities.minTrainLength)),
      neural: probes.some((p) => p.capabilities.neural),
    };
    this.minRows = Math.max(...probes.map((p) => p.requiredHistory));
    this.keepRows = Math.max(...probes.map((p) => p.keptHistory));
    probes.forEach((p) => p.dispose());
  }

  private readonly minRows: number;
  private readonly keepRows: number;

  private create(m: EnsembleMember): Forecaster<BaseOptions> {
    if (!factory) throw new Error('mean-ensemble: the forecaster registry is not loaded (import @seqlab/forecast)');
    // The ensemble scales once; members see its scaled data unchanged.
    return factory(m.name, { ...(m.options ?? {}), scaler: 'none' });
  }

  /** The fitted members (read-only view). */
  get fittedMembers(): ReadonlyArray<Forecaster<BaseOptions>> {
    return this.members;
  }

  protected override defaultScaler(): ScalerKind {
    return 'standard';
  }
  protected override minHistory(): number {
    return this.minRows;
  }
  protected override historyRows(): number {
    return this.keepRows;
  }

  protected async fitScaled(series: TimeSeries, validation: TimeSeries | undefined, options: FitOptions): Promise<void> {
    this.dispose();
    for (const spec of this.options.members) {
      const m = this.create(spec);
      try {
        // Members would share one checkpoint folder; each refits in full on a retry.
        await m.fit(series, { ...options, validation, calibration: false, checkpoint: undefined });
      } catch (err) {
        m.dispose();
        throw err;
      }
      this.members.push(m);
    }
  }

  private mean(parts: Float64Array[][][]): Float64Array[][] {
    const k = parts.length;
    return parts[0]!.map((cols, o) =>
      cols.map((first, c) => {
        const out = new Float64Array(first.length);
        for (const p of parts) {
          const v = p[o]![c]!;
          for (let h = 0; h < out.length; h++) out[h] += v[h]! / k;
        }
        return out;
      }),
    );
  }

  protected override async forecastManyScaled(values: Float64Array[], origins: number[], horizon: number): Promise<Float64Array[][]> {
    const series: TimeSeries = { columns: this.fittedColumns, values, irregular: false };
    const parts: Float64Array[][][] = [];
    for (const m of this.members) parts.push(await m.predictAt(series, origins, horizon));
    return this.mean(parts);
  }

  protected async forecastScaled(history: Float64Array[], horizon: number): Promise<Float64Array[]> {
    return (await this.forecastManyScaled(history, [history[0]!.length], horizon))[0]!;
  }

  protected getState(): Record<string, unknown> {
    return { members: this.members.length };
  }
  protected setState(state: Record<string, unknown>): void {
    if (state.members !== this.options.members.length) {
      throw new ForecastInputError(`mean-ensemble: saved state has ${String(state.members)} members, options list ${this.options.members.length}`);
    }
  }
  protected override async saveExtra(dir: string): Promise<void> {
    for (const [i, m] of this.members.entries()) await m.save(path.join(dir, `member-${i + 1}`));
  }
  protected override async loadExtra(dir: string): Promise<void> {
    if (!loader) throw new Error('mean-ensemble: the forecaster registry is not loaded (import @seqlab/forecast)');
    this.dispose();
    for (let i = 1; i <= this.options.members.length; i++) this.members.push(await loader(path.join(dir, `member-${i}`)));
  }

  override dispose(): void {
    for (const m of this.members) m.dispose();
    this.members = [];
  }

  clone(): MeanEnsembleForecaster {
    return new MeanEnsembleForecaster(this.options);
  }
}
