import { seriesLength, type TimeSeries } from './data/series.js';

/** One season length a sampling frequency suggests. */
export interface SeasonCandidate {
  /** Steps per cycle. */
  period: number;
  /** The cycle: `daily`, `weekly`, `yearly`. */
  cycle: string;
}

/** Which season length was used and why: reported by every command and result that uses one. */
export interface SeasonReport {
  /** The season used; undefined when none applies (no dates, yearly data, an odd interval). */
  period: number | undefined;
  /** `'given'` by the caller, `'inferred'` from the dates, `'none'`. */
  source: 'given' | 'inferred' | 'none';
  /** Sampling frequency read from the dates: `15-minute`, `hourly`, `daily`, `monthly`, ... */
  frequency?: string;
  /** Every season length the frequency suggests (the shortest cycle first). */
  candidates: SeasonCandidate[];
  /** One sentence saying why `period` was chosen. */
  reason: string;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** Median gap between consecutive dates (ms), read from up to the first 2,000 rows. */
function medianGap(dates: readonly Date[]): number {
  const gaps: number[] = [];
  for (let i = 1; i < Math.min(dates.length, 2001); i++) gaps.push(dates[i]!.getTime() - dates[i - 1]!.getTime());
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)]!;
}

function minutesName(minutes: number): string {
  if (minutes % 60 === 0) return minutes === 60 ? 'hourly' : `${minutes / 60}-hour`;
  return `${minutes}-minute`;
}

/**
 * Mean absolute error over the last `holdout` rows of a seasonal-naive forecast with period `s`
 * made from the rows before them (each column scaled by its mean absolute value, so columns
 * weigh alike): how well repeating the last cycle would have forecast a held-out year.
 */
function seasonalNaiveError(series: TimeSeries, s: number, holdout: number): number {
  const n = seriesLength(series);
  const start = n - holdout;
  let total = 0;
  for (const v of series.values) {
    let err = 0;
    let scale = 0;
    for (let t = start; t < n; t++) {
      const back = s * Math.ceil((t - start + 1) / s);
      err += Math.abs(v[t]! - v[t - back]!);
      scale += Math.abs(v[t]!);
    }
    total += err / Math.max(scale, 1e-12);
  }
  return total / series.values.length;
}

/**
 * Infers the season length from the sampling frequency of the dates, reporting every choice:
 * sub-daily data gets one day (15-minute 96, 10-minute 144, hourly 24) with the week offered;
 * business-daily data 5; daily data 7, with 365 offered and chosen when there are at least two
 * years and repeating the last year forecasts the final year better than repeating the last
 * week; weekly 52, monthly 12, quarterly 4; yearly data and odd intervals get none.
 *
 * @param given a season set by the caller, which always wins (and is reported as given).
 */
export function inferSeasonality(series: Pick<TimeSeries, 'dates' | 'values'>, given?: number): SeasonReport {
  const inferred = infer(series as TimeSeries);
  if (given !== undefined) {
    return { ...inferred, period: given, source: 'given', reason: `season ${given} was given${inferred.period !== undefined && inferred.period !== given ? ` (the dates suggest ${inferred.period})` : ''}` };
  }
  return inferred;
}

function infer(series: TimeSeries): SeasonReport {
  const d = series.dates;
  if (!d || d.length < 3) return { period: undefined, source: 'none', candidates: [], reason: 'no dates to infer a season from; pass a season' };
  const gap = medianGap(d);
  const none = (frequency: string, why: string): SeasonReport => ({ period: undefined, source: 'none', frequency, candidates: [], reason: why });
  if (gap <= 0) return none('unknown', 'dates do not increase; no season inferred');
  if (gap < DAY) {
    const minutes = gap / MINUTE;
    const perDay = DAY / gap;
    if (!Number.isInteger(minutes) || !Number.isInteger(perDay)) {
      return none(`every ${(gap / 1000).toFixed(0)} s`, `a sampling interval of ${(gap / 1000).toFixed(0)} s does not divide a day; no season inferred (pass one)`);
    }
    const frequency = minutesName(minutes);
    const candidates = [{ period: perDay, cycle: 'daily' }, { period: 7 * perDay, cycle: 'weekly' }];
    return { period: perDay, source: 'inferred', frequency, candidates, reason: `${frequency} data: one day is ${perDay} steps (a week, ${7 * perDay}, is offered)` };
  }
  const days = gap / DAY;
  if (Math.abs(days - 1) < 1 / 24) {
    let weekendGaps = 0;
    for (let i = 1; i < d.length; i++) if (Math.round((d[i]!.getTime() - d[i - 1]!.getTime()) / DAY) === 3) weekendGaps++;
    if (weekendGaps > 0.1 * (d.length / 5)) {
      return { period: 5, source: 'inferred', frequency: 'business-daily', candidates: [{ period: 5, cycle: 'weekly' }], reason: 'business-daily data (weekends skipped): one week is 5 steps' };
    }
    const candidates = [{ period: 7, cycle: 'weekly' }, { period: 365, cycle: 'yearly' }];
    const n = seriesLength(series);
    if (n < 2 * 365) {
      return { period: 7, source: 'inferred', frequency: 'daily', candidates, reason: `daily data: one week is 7 steps (365 needs at least two years; the series has ${n} days)` };
    }
    const week = seasonalNaiveError(series, 7, 365);
    const year = seasonalNaiveError(series, 365, 365);
    const period = year < week ? 365 : 7;
    return {
      period,
      source: 'inferred',
      frequency: 'daily',
      candidates,
      reason: `daily data over ${(n / 365).toFixed(1)} years: repeating the last ${period === 365 ? 'year' : 'week'} forecast the final year better (relative error ${year.toFixed(3)} for 365 vs ${week.toFixed(3)} for 7)`,
    };
  }
  if (Math.abs(days - 7) < 1 / 24) return { period: 52, source: 'inferred', frequency: 'weekly', candidates: [{ period: 52, cycle: 'yearly' }], reason: 'weekly data: one year is about 52 steps' };
  if (days >= 27 && days <= 32) return { period: 12, source: 'inferred', frequency: 'monthly', candidates: [{ period: 12, cycle: 'yearly' }], reason: 'monthly data: one year is 12 steps' };
  if (days >= 89 && days <= 93) return { period: 4, source: 'inferred', frequency: 'quarterly', candidates: [{ period: 4, cycle: 'yearly' }], reason: 'quarterly data: one year is 4 steps' };
  if (days >= 364 && days <= 367) return none('yearly', 'yearly data: no season');
  return none(`every ${days.toFixed(2)} days`, `a sampling interval of ${days.toFixed(2)} days has no standard season; pass one`);
}
