import { seriesLength, type TimeSeries } from './data/series.js';
import { inferSeasonality } from './season.js';

/** One season length worth trying, and where it came from. */
export interface DetectedSeason {
  /** Steps per cycle. */
  period: number;
  /**
   * `'given'` by the caller, `'calendar'` from the sampling frequency of the dates (12 for
   * monthly data), `'autocorrelation'` from a peak of the series' own autocorrelation.
   */
  source: 'given' | 'calendar' | 'autocorrelation';
  /** Autocorrelation of the detrended series at this lag (NaN beyond the lags searched). */
  autocorrelation: number;
  /** The calendar cycle (`yearly`, `weekly`, ...) for calendar seasons. */
  cycle?: string;
}

/** Options of {@link detectSeasons}. */
export interface DetectSeasonsOptions {
  /** A season set by the caller: always a candidate, listed first. */
  given?: number;
  /** Most autocorrelation peaks kept. Default 3. */
  peaks?: number;
  /** Longest lag searched. Default a third of the rows, at most 400. */
  maxPeriod?: number;
}

/** Rows of the end of a series the autocorrelation reads (longer series cost more, tell no more). */
const ACF_ROWS = 5000;

/**
 * Autocorrelation at lags `0..maxLag` of `v` less its least-squares line (a trend would make
 * every lag look correlated and hide the cycle; differencing would remove it too, but doubles
 * the noise and blurs the peak of a noisy cycle by a step).
 */
export function detrendedAutocorrelation(v: ArrayLike<number>, maxLag: number): Float64Array {
  const start = Math.max(0, v.length - ACF_ROWS);
  const n = v.length - start;
  let st = 0;
  let sy = 0;
  let stt = 0;
  let sty = 0;
  for (let t = 0; t < n; t++) {
    const y = v[start + t]!;
    st += t;
    sy += y;
    stt += t * t;
    sty += t * y;
  }
  const slope = n > 1 ? (n * sty - st * sy) / (n * stt - st * st) : 0;
  const intercept = (sy - slope * st) / n;
  const d = Float64Array.from({ length: n }, (_, t) => v[start + t]! - intercept - slope * t);
  let denom = 0;
  for (const x of d) denom += x * x;
  const acf = new Float64Array(maxLag + 1);
  if (!(denom > 0)) return acf;
  for (let k = 0; k <= Math.min(maxLag, n - 1); k++) {
    let s = 0;
    for (let i = k; i < n; i++) s += d[i]! * d[i - k]!;
    acf[k] = s / denom;
  }
  return acf;
}

/** Local maxima of `acf` above the noise level, strongest first, without multiples of a stronger one. */
function acfPeaks(acf: Float64Array, n: number, keep: number): number[] {
  // Twice the standard error of a white-noise autocorrelation: peaks below it are noise.
  const floor = Math.max(0.1, 2 / Math.sqrt(n));
  const peaks: number[] = [];
  for (let k = 2; k < acf.length - 1; k++) {
    if (acf[k]! > floor && acf[k]! > acf[k - 1]! && acf[k]! >= acf[k + 1]!) peaks.push(k);
  }
  peaks.sort((a, b) => acf[b]! - acf[a]!);
  const kept: number[] = [];
  for (const p of peaks) {
    // 22 and 33 echo a cycle of 11: keep the cycle, not its echoes.
    const echo = kept.some((q) => Math.round(p / q) >= 2 && Math.abs(p - Math.round(p / q) * q) <= 1);
    if (!echo) kept.push(p);
    if (kept.length >= keep) break;
  }
  return kept;
}

/**
 * The season lengths a series suggests, to be tried (not trusted): the caller's, the calendar's
 * (from the dates' sampling frequency, see {@link inferSeasonality}) and the strongest peaks of
 * the autocorrelation of the series less its linear trend, so a cycle that is not a calendar period (an
 * 11-step cycle in monthly data) is found. Mean of the columns' autocorrelations for several
 * columns. Every candidate leaves at least three cycles in the series.
 */
export function detectSeasons(series: Pick<TimeSeries, 'values' | 'dates'>, options: DetectSeasonsOptions = {}): DetectedSeason[] {
  const n = seriesLength(series as TimeSeries);
  const maxLag = Math.max(2, Math.min(options.maxPeriod ?? 400, Math.floor(n / 3)));
  const acf = new Float64Array(maxLag + 1);
  for (const v of series.values) {
    const a = detrendedAutocorrelation(v, maxLag);
    for (let k = 0; k <= maxLag; k++) acf[k]! += a[k]! / series.values.length;
  }
  const out: DetectedSeason[] = [];
  const add = (period: number, source: DetectedSeason['source'], cycle?: string): void => {
    if (period < 2 || out.some((s) => s.period === period)) return;
    if (source !== 'given' && period > n / 3) return;
    out.push({ period, source, autocorrelation: period <= maxLag ? acf[period]! : Number.NaN, ...(cycle ? { cycle } : {}) });
  };
  if (options.given !== undefined) add(options.given, 'given');
  const calendar = inferSeasonality({ dates: series.dates, values: series.values as Float64Array[] });
  if (calendar.period !== undefined) add(calendar.period, 'calendar', calendar.candidates.find((c) => c.period === calendar.period)?.cycle);
  for (const c of calendar.candidates) add(c.period, 'calendar', c.cycle);
  for (const p of acfPeaks(acf, Math.min(n, ACF_ROWS), options.peaks ?? 3)) add(p, 'autocorrelation');
  return out;
}

/** Missing steps in a series' dates. */
export interface DateGapReport {
  /** Places where consecutive dates are further apart than the usual step. */
  gaps: number;
  /** Steps missing in all (a gap of three steps misses two). */
  missingSteps: number;
  /** The usual step: `1 month`, or a duration in hours / days. */
  step: string;
  /** The first gap: the dates either side of it (ISO). */
  first: { after: string; before: string };
}

const DAY = 86_400_000;

function monthsBetween(a: Date, b: Date): number {
  return (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + b.getUTCMonth() - a.getUTCMonth();
}

/**
 * Gaps in the dates of a series (days missing from a daily series, months from a monthly one):
 * rows either side of a gap are consecutive to every model, so a forecast silently bridges
 * them; callers report this instead. Undefined when there are no dates or no gaps. The usual
 * step is the median spacing; monthly data is measured in calendar months.
 */
export function detectDateGaps(dates: readonly Date[] | undefined): DateGapReport | undefined {
  if (!dates || dates.length < 3) return undefined;
  const spacing = dates.slice(1).map((d, i) => d.getTime() - dates[i]!.getTime());
  const sorted = [...spacing].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  if (median <= 0) return undefined;
  const monthly = median >= 28 * DAY && median <= 31 * DAY;
  const steps = (i: number): number => (monthly ? monthsBetween(dates[i]!, dates[i + 1]!) : Math.round(spacing[i]! / median));
  let gaps = 0;
  let missing = 0;
  let first: DateGapReport['first'] | undefined;
  for (let i = 0; i < spacing.length; i++) {
    const k = steps(i);
    if (k <= 1) continue;
    gaps++;
    missing += k - 1;
    first ??= { after: dates[i]!.toISOString(), before: dates[i + 1]!.toISOString() };
  }
  if (!first) return undefined;
  const step = monthly ? '1 month' : median % DAY === 0 ? `${median / DAY} day${median === DAY ? '' : 's'}` : `${median / 3_600_000} hours`;
  return { gaps, missingSteps: missing, step, first };
}

/** One sentence for a {@link DateGapReport}. */
export function describeDateGaps(g: DateGapReport): string {
  return `the dates have ${g.gaps} gap${g.gaps > 1 ? 's' : ''} (${g.missingSteps} missing step${g.missingSteps > 1 ? 's' : ''} of ${g.step}), the first between ${g.first.after.slice(0, 10)} and ${g.first.before.slice(0, 10)}; models read the rows as consecutive - fill the missing rows (e.g. with --missing after adding them) or pass a complete series`;
}
