import { ForecastInputError } from '../errors.js';

/**
 * What to do with rows that repeat the timestamp of the row before them: `'error'` (default)
 * names them; `'first'` / `'last'` keep one of them; `'mean'` averages their values (missing
 * cells left out).
 */
export type DuplicatePolicy = 'error' | 'first' | 'last' | 'mean';
export const DUPLICATE_POLICIES: readonly DuplicatePolicy[] = ['error', 'first', 'last', 'mean'];

/**
 * Checks that dates never go back and applies the duplicate policy to runs of equal
 * timestamps. Returns the dates and values to keep (the inputs themselves when nothing repeats)
 * and how many rows were merged away.
 *
 * @param where names the file and date column in errors; `rowLabel(r)` names row `r`.
 */
export function resolveDuplicateDates(
  dates: Date[],
  values: Float64Array[],
  policy: DuplicatePolicy,
  where: string,
  rowLabel: (r: number) => string,
): { dates: Date[]; values: Float64Array[]; merged: number } {
  if (!DUPLICATE_POLICIES.includes(policy)) {
    throw new ForecastInputError(`duplicates must be one of ${DUPLICATE_POLICIES.join(', ')}; got "${String(policy)}"`);
  }
  const n = dates.length;
  const repeats: number[] = [];
  for (let r = 1; r < n; r++) {
    const d = dates[r]!.getTime() - dates[r - 1]!.getTime();
    if (d < 0) throw new ForecastInputError(`${where}: dates must increase; ${rowLabel(r)} is before the row before it`);
    if (d === 0) repeats.push(r);
  }
  if (repeats.length === 0) return { dates, values, merged: 0 };
  if (policy === 'error') {
    const shown = repeats.slice(0, 5).map((r) => `${dates[r]!.toISOString()} at ${rowLabel(r - 1)} and ${rowLabel(r)}`);
    throw new ForecastInputError(
      `${where}: ${repeats.length} duplicate timestamp${repeats.length > 1 ? 's' : ''}: ${shown.join('; ')}${repeats.length > 5 ? '; ...' : ''}; choose a policy: duplicates 'first', 'last' or 'mean' (--duplicates)`,
    );
  }
  const keptDates: Date[] = [];
  const kept: number[][] = values.map(() => []);
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && dates[end]!.getTime() === dates[start]!.getTime()) end++;
    keptDates.push(dates[start]!);
    values.forEach((v, c) => {
      if (policy === 'first') kept[c]!.push(v[start]!);
      else if (policy === 'last') kept[c]!.push(v[end - 1]!);
      else {
        let sum = 0;
        let count = 0;
        for (let r = start; r < end; r++) {
          if (!Number.isNaN(v[r]!)) {
            sum += v[r]!;
            count++;
          }
        }
        kept[c]!.push(count > 0 ? sum / count : Number.NaN);
      }
    });
    start = end;
  }
  return { dates: keptDates, values: kept.map((v) => Float64Array.from(v)), merged: n - keptDates.length };
}
