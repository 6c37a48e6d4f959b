import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { compileDateFormat, decodeCsvBytes, detectDelimiter, readCsvPanel, readCsvRows, readCsvSeries, readWideCsv, seriesLength } from '../src/index.js';

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../data');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'seqlab-loading-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The first `n` rows of ETTh1 (date + OT), as [ISO date, OT text]. */
function ettRows(n: number): Array<[string, string]> {
  const lines = readFileSync(path.join(DATA, 'ett/ETTh1.csv'), 'utf8').split('\n').slice(1, n + 1);
  return lines.map((l) => {
    const cells = l.split(',');
    return [cells[0]!, cells[7]!];
  });
}
const reference = readCsvSeries(path.join(DATA, 'ett/ETTh1.csv'), { targets: ['OT'] });

describe('date formats', () => {
  // ETTh1's first 400 hours run from 1 July to 17 July 2016: days above 12 settle the order.
  const rows = ettRows(400);
  const dmy = rows.map(([d, v]) => `${d.slice(8, 10)}/${d.slice(5, 7)}/${d.slice(0, 4)} ${d.slice(11, 16)},${v}`);
  it('reads DD/MM/YYYY dates in the one order their values allow, and reports it', () => {
    const s = readCsvSeries(`date,OT\n${dmy.join('\n')}\n`);
    expect(s.read?.dateFormat).toBe('DD/MM/YYYY HH:mm');
    expect(s.dates!.map((d) => d.getTime())).toEqual(reference.dates!.slice(0, 400).map((d) => d.getTime()));
    expect(Array.from(s.values[0]!)).toEqual(Array.from(reference.values[0]!.subarray(0, 400)));
  });
  it('refuses dates whose day/month order is ambiguous, naming the rows; an explicit format reads them', () => {
    const first12 = dmy.slice(0, 12 * 24);
    expect(() => readCsvSeries(`date,OT\n${first12.join('\n')}\n`)).toThrow(
      /column "date": day\/month order of the dates is ambiguous: every row from row 1 \(line 2\) \("01\/07\/2016 00:00"\) to row 288 \(line 289\).*pass dateFormat 'DD\/MM\/YYYY' or 'MM\/DD\/YYYY' \(--date-format\)/,
    );
    const s = readCsvSeries(`date,OT\n${first12.join('\n')}\n`, { dateFormat: 'DD/MM/YYYY HH:mm' });
    expect(s.dates![24]!.toISOString()).toBe('2016-07-02T00:00:00.000Z');
    const m = readCsvSeries(`date,OT\n${first12.join('\n')}\n`, { dateFormat: 'MM/DD/YYYY' });
    expect(m.dates![24]!.toISOString()).toBe('2016-02-07T00:00:00.000Z');
  });
  it('refuses a column that mixes day-first and month-first dates', () => {
    expect(() => readCsvSeries('d,x\n13/01/2020,1\n01/14/2020,2\n')).toThrow(/mix day-first \(row 1 \(line 2\): "13\/01\/2020"\) and month-first \(row 2 \(line 3\): "01\/14\/2020"\)/);
  });
  it('names the row of a date that does not fit the given format, and rejects formats without a day', () => {
    expect(() => readCsvSeries('d,x\n2020-01-01,1\n2020-13-01,2\n', { dateFormat: 'YYYY-MM-DD' })).toThrow(/column "d" row 2 \(line 3\): "2020-13-01" is not a date in the format YYYY-MM-DD/);
    expect(() => compileDateFormat('MM/YYYY')).toThrow(/needs a year \(YYYY\), month \(MM\) and day \(DD\)/);
    expect(compileDateFormat('DD.MM.YY')('31.12.99')?.toISOString()).toBe('2099-12-31T00:00:00.000Z');
    expect(compileDateFormat('DD/MM/YYYY')('31/02/2020')).toBeUndefined();
  });
});

describe('duplicate timestamps', () => {
  const rows = ettRows(6);
  // Row 4 repeats row 3's hour with another value, as the public weather set does once.
  const text = `date,OT\n${[...rows.slice(0, 3), [rows[2]![0], '10'], ...rows.slice(3)].map((r) => r.join(',')).join('\n')}\n`;
  const ot = Array.from(reference.values[0]!.subarray(0, 6));
  it('are an error by default, naming the rows and the policies', () => {
    expect(() => readCsvSeries(text)).toThrow(/1 duplicate timestamp: 2016-07-01T02:00:00.000Z at row 3 \(line 4\) and row 4 \(line 5\); choose a policy: duplicates 'first', 'last' or 'mean' \(--duplicates\)/);
  });
  it('first, last and mean keep one row per timestamp', () => {
    const first = readCsvSeries(text, { duplicates: 'first' });
    expect(Array.from(first.values[0]!)).toEqual(ot);
    expect(first.read?.duplicateRows).toBe(1);
    expect(first.irregular).toBe(false);
    expect(readCsvSeries(text, { duplicates: 'last' }).values[0]![2]).toBe(10);
    expect(readCsvSeries(text, { duplicates: 'mean' }).values[0]![2]).toBeCloseTo((ot[2]! + 10) / 2, 12);
    expect(seriesLength(readCsvSeries(text, { duplicates: 'mean' }))).toBe(6);
  });
  it('dates going back are still an error whatever the policy', () => {
    expect(() => readCsvSeries('d,x\n2020-01-02,1\n2020-01-01,2\n', { duplicates: 'last' })).toThrow(/dates must increase; row 2 \(line 3\) is before the row before it/);
  });
});

describe('delimiters and encodings', () => {
  const rows = ettRows(50);
  const ot = Array.from(reference.values[0]!.subarray(0, 50));
  it('detects semicolons with decimal commas, and tabs', () => {
    const semi = `date;OT\n${rows.map(([d, v]) => `${d};${v.replace('.', ',')}`).join('\n')}\n`;
    expect(detectDelimiter(semi)).toBe(';');
    const s = readCsvSeries(semi);
    expect(s.read).toMatchObject({ delimiter: ';', delimiterDetected: true });
    expect(Array.from(s.values[0]!)).toEqual(ot);
    const tsv = `date\tOT\n${rows.map((r) => r.join('\t')).join('\n')}\n`;
    expect(Array.from(readCsvSeries(tsv).values[0]!)).toEqual(ot);
    // Forcing the wrong delimiter gives one column whose cells are not numbers.
    expect(() => readCsvSeries(tsv, { delimiter: ',', dateColumn: false })).toThrow(/is not a number/);
  });
  it('reads Latin-1 headers, UTF-8 with a byte-order mark, and a forced encoding', () => {
    const body = rows.map(([d, v]) => `${d};${v}`).join('\n');
    const latin1 = path.join(tmp, 'latin1.csv');
    writeFileSync(latin1, Buffer.from(`date;Température (°C)\n${body}\n`, 'latin1'));
    const s = readCsvSeries(latin1);
    expect(s.columns).toEqual(['Température (°C)']);
    expect(s.read?.encoding).toBe('latin1');
    expect(Array.from(s.values[0]!)).toEqual(ot);
    const bom = path.join(tmp, 'bom.csv');
    writeFileSync(bom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`date,Température\n${rows.map((r) => r.join(',')).join('\n')}\n`, 'utf8')]));
    const b = readCsvSeries(bom);
    expect(b.columns).toEqual(['Température']);
    expect(b.read?.encoding).toBe('utf8-bom');
    // UTF-8 bytes forced to Latin-1 show the two-byte sequence: the flag really decides.
    expect(readCsvSeries(bom, { encoding: 'latin1' }).columns[0]).toBe('TempÃ©rature');
    expect(decodeCsvBytes(Buffer.from('a\n', 'utf8'), 'auto').encoding).toBe('utf8');
  });
});

describe('many series in one file', () => {
  it('reads a long/tidy file by id column, in order of first appearance, errors naming the series', () => {
    const rows = ettRows(30);
    const ref = readCsvSeries(path.join(DATA, 'ett/ETTh1.csv'), { targets: ['OT', 'HUFL'] });
    const hufl = Array.from(ref.values[1]!.subarray(0, 30));
    // Interleaved rows: OT and HUFL as two series of one tidy file.
    const lines = rows.flatMap(([d, v], i) => [`OT,${d},${v}`, `HUFL,${d},${hufl[i]}`]);
    const panel = readCsvPanel(`series,date,value\n${lines.join('\n')}\n`, { idColumn: 'series' });
    expect(panel.map((p) => p.id)).toEqual(['OT', 'HUFL']);
    expect(panel[0]!.series.columns).toEqual(['value']);
    expect(Array.from(panel[0]!.series.values[0]!)).toEqual(Array.from(ref.values[0]!.subarray(0, 30)));
    expect(Array.from(panel[1]!.series.values[0]!)).toEqual(hufl);
    expect(panel[1]!.series.dates![29]!.getTime()).toBe(ref.dates![29]!.getTime());
    const bad = [...lines.slice(0, 5), `HUFL,${rows[3]![0]},abc`];
    expect(() => readCsvPanel(`series,date,value\n${bad.join('\n')}\n`, { idColumn: 'series' })).toThrow(/series "HUFL" column "value" row 3 \(line 7\): "abc" is not a number/);
    expect(() => readCsvPanel('a,b\n1,2\n', { idColumn: 'store' })).toThrow(/id column "store" not found; columns are a, b/);
  });
  it('reads the M4 layout (one row per series) as a panel, the same values as readCsvRows', () => {
    const file = path.join(DATA, 'm4/Hourly-train.csv');
    const panel = readWideCsv(file);
    const rows = readCsvRows(file);
    expect(panel).toHaveLength(414);
    expect(panel[0]!.id).toBe('H1');
    for (const p of [panel[0]!, panel[413]!]) expect(Array.from(p.series.values[0]!)).toEqual(rows.get(p.id));
    expect(() => readWideCsv('id,a,b,c\nA,1,,3\n')).toThrow(/series "A" \(row 1, line 2\) cell 3: "" is empty between values/);
  });
});
