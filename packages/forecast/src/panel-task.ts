import { throwIfCancelled } from '@seqlab/core';
import { z } from 'zod';
import { ForecastInputError } from './errors.js';
import { assertFiniteForecast } from './finite.js';
import { futureDates, type Forecast, type ForecastBounds } from './forecaster.js';
import type { PanelSeries } from './data/panel.js';
import type { GlobalForecaster, PanelForecast } from './global/forecaster.js';

const level = z.number().gt(0, 'must be in (0, 1)').lt(1, 'must be in (0, 1)');

/** Options of one panel forecast request (validated; unknown keys are refused). */
export const panelForecastRequestSchema = z.strictObject({
  /** Steps to forecast (at most the horizon the model was trained for). */
  horizon: z.number().int().min(1).max(100_000),
  /** Interval levels in (0, 1), widest first; `[]` for point forecasts only. Default `[0.9]`. */
  levels: z.array(level).max(8).optional(),
  /** Forecast only these series (ids of the panel given, or of the fitted panel without one), in this order. */
  series: z.array(z.string().min(1)).min(1).optional(),
  /** Series the model was not fitted on: `'fit'` their per-series part on their history (default, where the model can), or `'error'`. */
  newSeries: z.enum(['fit', 'error']).optional(),
  /** Limits the series cannot leave; forecasts and intervals are clipped to them. */
  bounds: z.strictObject({ lower: z.number().finite().optional(), upper: z.number().finite().optional() }).optional(),
  /** Abandons the work once aborted (checked between levels). */
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, 'must be an AbortSignal').optional(),
});

/** A forecast request for many series at once, answered by a global (panel) model. */
export interface PanelForecastRequest {
  horizon: number;
  /** Interval levels in (0, 1). Default `[0.9]` when the model is calibrated; `[]` for point forecasts only. */
  levels?: number[];
  /** Forecast only these series, in this order (default: every series of the panel given, or of the fitted panel). */
  series?: string[];
  /**
   * Series the model was not fitted on. `'fit'` (default): forecast them when the model can
   * (`capabilities.newSeries`: es-hybrid fits their smoothing on the given history and applies
   * its shared network as trained); `'error'`: refuse them, naming them.
   */
  newSeries?: 'fit' | 'error';
  bounds?: ForecastBounds;
  signal?: AbortSignal;
}

/** One interval of one series' forecast. */
export interface PanelInterval {
  level: number;
  lower: number[];
  upper: number[];
}

/** One series' forecast in a {@link PanelForecastResult}. */
export interface SeriesForecast {
  id: string;
  /** Whether the model was fitted on this series; false: its per-series part was fitted on the given history now. */
  seen: boolean;
  /** Rows of history the forecast starts from (0: the model's stored state at the end of its training rows). */
  historyRows: number;
  /** Timestamps of the forecast steps, when the history has regular dates. */
  dates?: string[];
  mean: number[];
  /** One per level, widest first; empty for point forecasts. */
  intervals: PanelInterval[];
}

/** The result of a panel forecast: every series' forecast and intervals. */
export interface PanelForecastResult {
  /** The model's name (its directory's name for a saved model). */
  model: string;
  /** The global forecaster's registry name (`es-hybrid`). */
  kind: string;
  horizon: number;
  /** Interval levels given, widest first ([] for point forecasts). */
  levels: number[];
  series: SeriesForecast[];
  /** Ids forecast without having been fitted on (their per-series part was fitted on the given history). */
  newSeries: string[];
  /** Set when intervals were asked for and the model has none. */
  warning?: string;
  /** What users should know about the answer (e.g. a level too high for the model's calibration residuals). */
  notes: string[];
}

function parsePanelRequest(request: PanelForecastRequest): void {
  const result = panelForecastRequestSchema.safeParse(request);
  if (result.success) return;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    throw new ForecastInputError(`forecast: unknown option ${issue.keys.map((k) => `"${k}"`).join(', ')}; valid options: ${Object.keys(panelForecastRequestSchema.shape).join(', ')}`);
  }
  throw new ForecastInputError(`forecast: ${issue.path.map(String).join('.') || 'request'}: ${issue.message}`);
}

/** The panel's series named by `ids`, in that order; an id not in it is named in the error with the ones that are. */
function selectSeries<T extends { id: string }>(items: readonly T[], ids: readonly string[] | undefined, where: string): T[] {
  if (!ids) return [...items];
  const byId = new Map(items.map((p) => [p.id, p]));
  const seen = new Set<string>();
  return ids.map((id) => {
    if (seen.has(id)) throw new ForecastInputError(`forecast: series "${id}" is asked for twice`);
    seen.add(id);
    const p = byId.get(id);
    if (!p) {
      const some = items.slice(0, 8).map((s) => `"${s.id}"`).join(', ');
      throw new ForecastInputError(`forecast: series "${id}" is not in ${where} (${items.length} series: ${some}${items.length > 8 ? ', ...' : ''})`);
    }
    return p;
  });
}

/**
 * Forecasts many series with a fitted or loaded global model: from the histories in `panel`
 * (which may include series the model was not fitted on, see `request.newSeries`), or from the
 * end of every fitted series when `panel` is undefined. The one place a panel request becomes
 * forecasts, so the CLI and the HTTP service give the same numbers.
 *
 * @throws ForecastInputError for a bad request, an unknown `series` id, a new series the model
 *   cannot (or was told not to) forecast, a horizon beyond the model's, or a forecast that is not
 *   finite.
 */
export async function forecastPanelWith(model: GlobalForecaster<object>, name: string, panel: readonly PanelSeries[] | undefined, request: PanelForecastRequest): Promise<PanelForecastResult> {
  parsePanelRequest(request);
  const chosen = panel ? selectSeries(panel, request.series, 'the panel given') : undefined;
  if (!chosen && request.series) {
    // Without histories only fitted series can be forecast, from their stored state.
    selectSeries(model.fittedIds.map((id) => ({ id })), request.series, `the series ${name} was fitted on`);
  }
  const wanted = request.levels ?? [0.9];
  const levels = model.calibrated ? [...new Set(wanted)].sort((a, b) => a - b).reverse() : [];
  const warning = wanted.length > 0 && !model.calibrated ? `${name} has no prediction intervals (it was fitted without held-out rows); showing point forecasts` : undefined;
  const base = { ...(chosen ? { panel: chosen } : {}), ...(request.bounds ? { bounds: request.bounds } : {}), ...(request.newSeries ? { newSeries: request.newSeries } : {}) };
  // One predict per level: the point forecasts are the same in each, the intervals differ.
  const runs: PanelForecast[][] = [];
  for (const l of levels.length ? levels : [null]) {
    throwIfCancelled(request.signal, 'forecast');
    runs.push(await model.predict(request.horizon, { ...base, level: l }));
  }
  const notes: string[] = [];
  const n = model.calibrationCount ?? 0;
  for (const l of levels) {
    // The conformal quantile needs ceil((n + 1) l) <= n residuals; beyond that the widest is all there is.
    if (Math.ceil((n + 1) * l) > n) {
      notes.push(`${Math.round(l * 1000) / 10}% intervals: ${n} held-out residuals per step (one per fitted series) are too few for that level; the widest residual is used, so coverage may fall short`);
    }
  }
  const first = runs[0]!;
  let order = first;
  if (!chosen && request.series) {
    const byId = new Map(first.map((f) => [f.id, f]));
    order = request.series.map((id) => byId.get(id)!);
  }
  const at = new Map(first.map((f, i) => [f.id, i]));
  const series: SeriesForecast[] = order.map((f) => {
    const i = at.get(f.id)!;
    for (const run of runs) assertFiniteForecast(run[i]!.forecast, `${name} (series "${f.id}")`);
    const history = chosen?.[i]?.series;
    const dates = history ? futureDates(history, request.horizon) : undefined;
    return {
      id: f.id,
      seen: f.seen,
      historyRows: history ? history.values[0]!.length : 0,
      ...(dates ? { dates } : {}),
      mean: f.forecast.mean[0]!,
      intervals: levels.map((l, k) => {
        const fc: Forecast = runs[k]![i]!.forecast;
        return { level: l, lower: fc.lower![0]!, upper: fc.upper![0]! };
      }),
    };
  });
  return {
    model: name,
    kind: model.name,
    horizon: request.horizon,
    levels,
    series,
    newSeries: series.filter((s) => !s.seen).map((s) => s.id),
    ...(warning ? { warning } : {}),
    notes,
  };
}

/** One row of a panel forecast in long format (what {@link panelForecastRows} gives). */
export interface PanelForecastRow {
  series: string;
  step: number;
  /** The step's timestamp, when the history had regular dates. */
  timestamp?: string;
  forecast: number;
  /** `lower_80`, `upper_80`, ... per level (percent). */
  [bound: `${'lower' | 'upper'}_${number}`]: number;
}

/** A panel forecast in long format: one row per series and step, `lower_P` / `upper_P` per level P (percent). */
export function panelForecastRows(result: PanelForecastResult): PanelForecastRow[] {
  return result.series.flatMap((s) =>
    s.mean.map((forecast, h) => {
      const row: PanelForecastRow = { series: s.id, step: h + 1, ...(s.dates ? { timestamp: s.dates[h]! } : {}), forecast };
      for (const iv of s.intervals) {
        const p = Math.round(iv.level * 1000) / 10;
        row[`lower_${p}`] = iv.lower[h]!;
        row[`upper_${p}`] = iv.upper[h]!;
      }
      return row;
    }),
  );
}

function csvCell(v: string | number | undefined): string {
  if (v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A panel forecast as CSV in long format: `series,step[,timestamp],forecast,lower_P,upper_P,...`. */
export function panelForecastCsv(result: PanelForecastResult): string {
  const rows = panelForecastRows(result);
  const timestamps = result.series.some((s) => s.dates);
  const bounds = result.levels.flatMap((l) => {
    const p = Math.round(l * 1000) / 10;
    return [`lower_${p}`, `upper_${p}`] as const;
  });
  const header = ['series', 'step', ...(timestamps ? ['timestamp'] : []), 'forecast', ...bounds];
  const lines = rows.map((r) => [r.series, r.step, ...(timestamps ? [r.timestamp] : []), r.forecast, ...bounds.map((b) => r[b as `lower_${number}`])].map(csvCell).join(','));
  return `${header.join(',')}\n${lines.join('\n')}\n`;
}
