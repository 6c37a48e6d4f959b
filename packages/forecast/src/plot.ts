import type { TimeSeries } from './data/series.js';
import type { Forecast } from './forecaster.js';

/** One row of long-format plot data (Vega-Lite friendly). */
export interface PlotRow {
  /** ISO timestamp when dates are known, else the row index (history rows count from 0). */
  t: string | number;
  /** `'history'`, `'forecast'` or `'actual'`. */
  series: 'history' | 'forecast' | 'actual';
  /** Column name. */
  column: string;
  value: number;
  lower?: number;
  upper?: number;
}

/**
 * Long-format rows of history, forecast (with interval bounds) and, optionally, the actual
 * values over the forecast period, for a Vega-Lite line + area chart.
 *
 * @param historyRows Plot only the last this many history rows (default: all).
 *
 * @example
 * ```ts
 * const rows = forecastPlotData(history, forecast, actual);
 * // { mark: 'line', data: { values: rows }, encoding: { x: { field: 't' }, y: { field: 'value' }, color: { field: 'series' } } }
 * ```
 */
export function forecastPlotData(history: TimeSeries, forecast: Forecast, actual?: TimeSeries, historyRows?: number): PlotRow[] {
  const rows: PlotRow[] = [];
  const n = history.values[0]?.length ?? 0;
  const from = historyRows === undefined ? 0 : Math.max(0, n - historyRows);
  const horizon = forecast.mean[0]?.length ?? 0;
  const futureT = (h: number): string | number => forecast.dates?.[h] ?? n + h;
  forecast.columns.forEach((col, fc) => {
    const hc = history.columns.indexOf(col);
    if (hc >= 0) {
      const v = history.values[hc]!;
      for (let t = from; t < n; t++) rows.push({ t: history.dates?.[t]?.toISOString() ?? t, series: 'history', column: col, value: v[t]! });
    }
    for (let h = 0; h < horizon; h++) {
      const row: PlotRow = { t: futureT(h), series: 'forecast', column: col, value: forecast.mean[fc]![h]! };
      if (forecast.lower && forecast.upper) {
        row.lower = forecast.lower[fc]![h]!;
        row.upper = forecast.upper[fc]![h]!;
      }
      rows.push(row);
    }
    if (actual) {
      const ac = actual.columns.indexOf(col);
      if (ac >= 0) {
        const v = actual.values[ac]!;
        for (let h = 0; h < Math.min(horizon, v.length); h++) {
          rows.push({ t: actual.dates?.[h]?.toISOString() ?? futureT(h), series: 'actual', column: col, value: v[h]! });
        }
      }
    }
  });
  return rows;
}
