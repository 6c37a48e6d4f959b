import { ForecastInputError } from '../errors.js';

/**
 * A date format: `'iso'` (`YYYY-MM-DD[ HH:MM[:SS]]`, read as UTC, or anything `Date.parse`
 * reads with an explicit offset), or a pattern of the tokens `YYYY`, `YY`, `MM`, `M`, `DD`, `D`,
 * `HH`, `H`, `mm`, `ss` and literal characters, such as `DD/MM/YYYY` or `MM/DD/YYYY HH:mm`.
 * Patterns without a time part also accept a trailing ` HH:MM[:SS]`.
 */
export type DateFormat = string;

/** A parser chosen for one date column, and the format it reads (reported to users). */
export interface DateParser {
  /** The format in use: the given pattern, the detected day/month order, or `'iso'`. */
  format: string;
  /** How the format was chosen. */
  source: 'given' | 'detected' | 'default';
  parse(text: string): Date | undefined;
}

const ISO_LIKE = /^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?$/;

/**
 * Parses a timestamp. `YYYY-MM[-DD[ HH:MM[:SS]]]` is read as UTC so results do not depend on
 * the machine's time zone; anything else goes through `Date.parse`.
 */
export function parseIsoDate(text: string): Date | undefined {
  const m = ISO_LIKE.exec(text);
  if (m) {
    const [, y, mo, d, h, mi, s, ms] = m;
    return utc(+y!, +mo!, d ? +d : 1, h ? +h : 0, mi ? +mi : 0, s ? +s : 0, ms ? Number(`0.${ms}`) * 1000 : 0);
  }
  if (!/\d/.test(text) || DAY_MONTH.test(text)) return undefined;
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/** A date whose fields are all in range (no rollover of 31 February into March), or undefined. */
function utc(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): Date | undefined {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  if (Number.isNaN(t)) return undefined;
  const date = new Date(t);
  return date.getUTCDate() === d ? date : undefined;
}

const TOKENS: Array<[string, string, string]> = [
  ['YYYY', '(\\d{4})', 'year'],
  ['YY', '(\\d{2})', 'year2'],
  ['MM', '(\\d{1,2})', 'month'],
  ['M', '(\\d{1,2})', 'month'],
  ['DD', '(\\d{1,2})', 'day'],
  ['D', '(\\d{1,2})', 'day'],
  ['HH', '(\\d{1,2})', 'hour'],
  ['H', '(\\d{1,2})', 'hour'],
  ['mm', '(\\d{2})', 'minute'],
  ['ss', '(\\d{2})', 'second'],
];

/**
 * Compiles a date pattern (see {@link DateFormat}) into a parser reading UTC dates.
 *
 * @throws ForecastInputError for a pattern without year, month or day.
 */
export function compileDateFormat(format: DateFormat): (text: string) => Date | undefined {
  if (format.toLowerCase() === 'iso') return parseIsoDate;
  let source = '';
  const fields: string[] = [];
  for (let i = 0; i < format.length; ) {
    const token = TOKENS.find(([t]) => format.startsWith(t, i));
    if (token) {
      source += token[1];
      fields.push(token[2]);
      i += token[0].length;
    } else {
      source += format[i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      i++;
    }
  }
  const has = (f: string) => fields.includes(f);
  if (!(has('year') || has('year2')) || !has('month') || !has('day')) {
    throw new ForecastInputError(`date format "${format}" needs a year (YYYY), month (MM) and day (DD); e.g. DD/MM/YYYY, MM/DD/YYYY or iso`);
  }
  const time = has('hour') ? '' : '(?:[ T](\\d{1,2}):(\\d{2})(?::(\\d{2}))?)?';
  const re = new RegExp(`^${source}${time}$`);
  return (text: string) => {
    const m = re.exec(text);
    if (!m) return undefined;
    const v: Record<string, number> = {};
    fields.forEach((f, i) => (v[f] = Number(m[i + 1])));
    if (!has('hour') && m[fields.length + 1] !== undefined) {
      v.hour = Number(m[fields.length + 1]);
      v.minute = Number(m[fields.length + 2]);
      v.second = Number(m[fields.length + 3] ?? 0);
    }
    const year = v.year ?? 2000 + v.year2!;
    return utc(year, v.month!, v.day!, v.hour ?? 0, v.minute ?? 0, v.second ?? 0);
  };
}

/** Day and month as the first two numeric fields, order unknown: `03/04/2020`, `3.4.20 10:00`. */
const DAY_MONTH = /^(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;

/** Whether a cell looks like a date of any supported kind (used to find the date column). */
export function looksLikeDate(text: string): boolean {
  return DAY_MONTH.test(text) || (Number.isNaN(Number(text)) && parseIsoDate(text) !== undefined);
}

/**
 * Chooses the parser for a date column. With `format` given it is used as is. Otherwise
 * `DD/MM/YYYY`-like cells are read in the one day/month order their values allow (a first field
 * above 12 means day first, a second field above 12 month first); when every row fits both orders
 * the column is refused, naming rows, rather than guessed. Other cells are read as ISO dates.
 *
 * @param cells the column's cells, in row order.
 * @param where names the file and column in errors; `rowLabel(r)` names row `r`.
 */
export function chooseDateParser(cells: readonly string[], format: DateFormat | undefined, where: string, rowLabel: (r: number) => string): DateParser {
  if (format !== undefined) return { format, source: 'given', parse: compileDateFormat(format) };
  const first = cells.find((c) => c !== '');
  const m = first !== undefined ? DAY_MONTH.exec(first) : null;
  if (!m) return { format: 'iso', source: 'default', parse: parseIsoDate };
  const sep = m[2]!;
  let dayFirst: number | undefined;
  let monthFirst: number | undefined;
  for (let r = 0; r < cells.length && (dayFirst === undefined || monthFirst === undefined); r++) {
    const c = DAY_MONTH.exec(cells[r]!);
    if (!c) continue;
    if (dayFirst === undefined && Number(c[1]) > 12) dayFirst = r;
    if (monthFirst === undefined && Number(c[3]) > 12) monthFirst = r;
  }
  const yearToken = m[4]!.length === 4 ? 'YYYY' : 'YY';
  const time = m[5] !== undefined ? (m[7] !== undefined ? ' HH:mm:ss' : ' HH:mm') : '';
  const dmy = `DD${sep}MM${sep}${yearToken}`;
  const mdy = `MM${sep}DD${sep}${yearToken}`;
  if (dayFirst !== undefined && monthFirst !== undefined) {
    throw new ForecastInputError(
      `${where}: dates mix day-first (${rowLabel(dayFirst)}: "${cells[dayFirst]}") and month-first (${rowLabel(monthFirst)}: "${cells[monthFirst]}") order; fix the file or pass dateFormat (--date-format)`,
    );
  }
  if (dayFirst === undefined && monthFirst === undefined) {
    const last = cells.length - 1;
    throw new ForecastInputError(
      `${where}: day/month order of the dates is ambiguous: every row from ${rowLabel(0)} ("${cells[0]}") to ${rowLabel(last)} ("${cells[last]}") reads both as ${dmy} and as ${mdy}; pass dateFormat '${dmy}' or '${mdy}' (--date-format)`,
    );
  }
  const chosen = dayFirst !== undefined ? dmy : mdy;
  return { format: `${chosen}${time}`, source: 'detected', parse: compileDateFormat(chosen) };
}
