import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  createSeries,
  ettSplit,
  ForecastInputError,
  instanceDenormalize,
  instanceNormalize,
  makeWindows,
  readCsvRows,
  readCsvSeries,
  Scaler,
  seriesLength,
  splitByDate,
  splitByRatio,
  windowStarts,
} from '../src/index.js';

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../data');

describe('readCsvSeries', () => {
  it('reads a date column and numeric columns, dates in UTC', () => {
    const s = readCsvSeries('date,a,b\n2020-01-01 00:00:00,1,2\n2020-01-01 01:00:00,3,4\n2020-01-01 02:00:00,5,6\n');
    expect(s.columns).toEqual(['a', 'b']);
    expect(Array.from(s.values[1]!)).toEqual([2, 4, 6]);
    expect(s.dates![1]!.toISOString()).toBe('2020-01-01T01:00:00.000Z');
    expect(s.irregular).toBe(false);
  });
  it('detects irregular timestamps; monthly data is regular', () => {
    const s = readCsvSeries('t,v\n2020-01-01,1\n2020-01-02,2\n2020-01-05,3\n');
    expect(s.irregular).toBe(true);
    const air = readCsvSeries(path.join(DATA, 'classic_ts/airline-passengers.csv'));
    expect(air.columns).toEqual(['Passengers']);
    expect(seriesLength(air)).toBe(144);
    expect(air.irregular).toBe(false);
  });
  it('names the column and row of a non-numeric cell', () => {
    expect(() => readCsvSeries('d,x,y\n2020-01-01,1,2\n2020-01-02,3,abc\n')).toThrow(/column "y" row 2 \(line 3\): "abc" is not a number/);
  });
  it('missing cells: error by default, forward fill or linear interpolation on request', () => {
    const text = 'd,x\n2020-01-01,1\n2020-01-02,\n2020-01-03,NA\n2020-01-04,4\n';
    expect(() => readCsvSeries(text)).toThrow(/column "x" row 2 \(line 3\) is missing/);
    expect(Array.from(readCsvSeries(text, { missing: 'ffill' }).values[0]!)).toEqual([1, 1, 1, 4]);
    expect(Array.from(readCsvSeries(text, { missing: 'linear' }).values[0]!)).toEqual([1, 2, 3, 4]);
    expect(Array.from(readCsvSeries('x\nNaN\n2\n', { missing: 'linear', dateColumn: false }).values[0]!)).toEqual([2, 2]);
  });
  it('selects targets and rejects unknown ones', () => {
    const s = readCsvSeries(path.join(DATA, 'ett/ETTh1.csv'), { targets: ['OT', 'HUFL'] });
    expect(s.columns).toEqual(['OT', 'HUFL']);
    expect(s.values[0]![0]).toBeCloseTo(30.531, 3);
    expect(() => readCsvSeries(path.join(DATA, 'ett/ETTh1.csv'), { targets: ['nope'] })).toThrow(/column "nope" not found/);
  });
  it('rejects dates that do not increase', () => {
    expect(() => readCsvSeries('d,x\n2020-01-02,1\n2020-01-01,2\n')).toThrow(/dates must increase; row 2/);
  });
});

describe('readCsvRows (one series per row, M4 layout)', () => {
  it('reads rows of different lengths', () => {
    const m = readCsvRows('"id","V1","V2","V3"\n"A","1","2",""\n"B","4","5","6"\n');
    expect(m.get('A')).toEqual([1, 2]);
    expect(m.get('B')).toEqual([4, 5, 6]);
    const m4 = readCsvRows(path.join(DATA, 'm4/Hourly-test.csv'));
    expect(m4.size).toBe(414);
    expect(m4.get('H1')).toHaveLength(48);
  });
  it('names the series and cell of a bad value', () => {
    expect(() => readCsvRows('id,a,b\nA,1,x\n')).toThrow(/series "A" \(row 1\) cell 3: "x" is not a number/);
  });
});

describe('windows and splits', () => {
  it('window starts cover exactly the windows that fit', () => {
    expect(windowStarts(10, 3, 2)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(windowStarts(10, 3, 2, 2)).toEqual([0, 2, 4]);
    expect(() => windowStarts(10, 3, 0)).toThrow(/horizon must be a positive integer, got 0/);
  });
  it('inputs strictly precede targets (no look-ahead), one window per column', () => {
    const s = createSeries({ a: [0, 1, 2, 3, 4, 5], b: [10, 11, 12, 13, 14, 15] });
    const w = makeWindows(s, 3, 2);
    expect(w.count).toBe(4);
    expect(Array.from(w.inputs.subarray(0, 3))).toEqual([0, 1, 2]);
    expect(Array.from(w.targets.subarray(0, 2))).toEqual([3, 4]);
    expect(Array.from(w.inputs.subarray(9, 12))).toEqual([11, 12, 13]);
    expect(Array.from(w.targets.subarray(6, 8))).toEqual([14, 15]);
    expect(() => makeWindows(s, 5, 2)).toThrow(/6 rows; lookback 5 \+ horizon 2 = 7/);
  });
  it('ETT protocol: 12/4/4 months, validation and test carry L rows of context', () => {
    const raw = readCsvSeries(path.join(DATA, 'ett/ETTh1.csv'));
    const sp = ettSplit(raw, 96);
    expect(seriesLength(sp.train)).toBe(8640);
    expect(seriesLength(sp.val)).toBe(11520 - 8640 + 96);
    expect(seriesLength(sp.test)).toBe(14400 - 11520 + 96);
    expect(sp.test.dates![0]!.getTime()).toBe(raw.dates![11520 - 96]!.getTime());
    expect(sp.test.dates![95]!.getTime()).toBeLessThan(raw.dates![11520]!.getTime());
    // Every test window counted: H = 96 gives 2880 - 96 + 1 = 2785.
    expect(windowStarts(seriesLength(sp.test), 96, 96).length).toBe(2785);
    expect(windowStarts(seriesLength(sp.test), 96, 720).length).toBe(2161);
    // The scaler sees train rows only.
    const sc = Scaler.fit(sp.train, 'standard');
    const ot = raw.values[6]!.subarray(0, 8640);
    const mean = ot.reduce((s, v) => s + v, 0) / 8640;
    expect(sc.state.shift[6]).toBeCloseTo(mean, 9);
    expect(sc.state.shift[6]).not.toBeCloseTo(raw.values[6]!.reduce((s, v) => s + v, 0) / raw.values[6]!.length, 3);
  });
  it('splits by ratio and by date', () => {
    const s = createSeries({ x: Array.from({ length: 100 }, (_, i) => i) }, Array.from({ length: 100 }, (_, i) => new Date(Date.UTC(2020, 0, 1 + i))));
    const r = splitByRatio(s, { train: 0.7, val: 0.1 }, 5);
    expect(r.bounds).toEqual({ trainEnd: 70, valEnd: 80, testEnd: 100, lookback: 5 });
    expect(r.val.values[0]![0]).toBe(65);
    const d = splitByDate(s, '2020-03-01', '2020-03-21', 5);
    expect(d.bounds.trainEnd).toBe(60);
    expect(d.bounds.valEnd).toBe(80);
  });
});

describe('scalers', () => {
  const s = createSeries({ a: [1, 2, 3, 4], c: [5, 5, 5, 5] });
  it.each(['standard', 'minmax'] as const)('%s is invertible and handles a constant column', (kind) => {
    const sc = Scaler.fit(s, kind);
    const z = sc.transform(s);
    expect(Array.from(z.values[1]!)).toEqual([0, 0, 0, 0]);
    const back = sc.inverse(z);
    expect(Array.from(back.values[0]!)).toEqual([1, 2, 3, 4]);
    expect(Array.from(back.values[1]!)).toEqual([5, 5, 5, 5]);
    const restored = Scaler.fromState(JSON.parse(JSON.stringify(sc.state)));
    expect(Array.from(restored.transform(s).values[0]!)).toEqual(Array.from(z.values[0]!));
  });
  it('standard uses the population std', () => {
    const z = Scaler.fit(s, 'standard').transform(s).values[0]!;
    expect(z[0]).toBeCloseTo(-1.5 / Math.sqrt(1.25), 12);
  });
  it('instance normalization (RevIN) round-trips', () => {
    const w = Float64Array.from([3, 5, 7, 9]);
    const { normalized, stats } = instanceNormalize(w);
    expect(normalized.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 6);
    expect(Array.from(instanceDenormalize(normalized, stats)).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([3, 5, 7, 9]);
  });
  it('rejects an unknown scaler', () => {
    expect(() => Scaler.fit(s, 'robust' as never)).toThrow(ForecastInputError);
  });
});
