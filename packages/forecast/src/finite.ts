import { BadInputError } from '@seqlab/core';
import type { Forecast } from './forecaster.js';

/**
 * Throws unless every value of `forecast` (mean and interval bounds) is finite. Finite inputs
 * can still overflow float64 arithmetic (a series of 1e308 values has an infinite variance), and
 * `NaN` would reach a JSON caller as `null`; a forecast that is not a number is an error.
 *
 * @throws BadInputError naming the column, step and model.
 */
export function assertFiniteForecast(forecast: Pick<Forecast, 'columns' | 'mean' | 'lower' | 'upper'>, model: string): void {
  const parts = [['mean', forecast.mean], ['lower', forecast.lower], ['upper', forecast.upper]] as const;
  for (const [part, rows] of parts) {
    if (!rows) continue;
    for (let c = 0; c < rows.length; c++) {
      const h = rows[c]!.findIndex((v) => !Number.isFinite(v));
      if (h >= 0) {
        const column = forecast.columns[c] ?? String(c);
        throw new BadInputError(
          `${model}: the ${part} forecast of column "${column}" is ${rows[c]![h]} at step ${h + 1}; the series' values overflow the model's arithmetic (rescale them, e.g. to units of 1e6)`,
          { details: { column, step: h + 1, part } },
        );
      }
    }
  }
}
