import { BadInputError, CancelledError, initBackend } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  assertFiniteForecast,
  checkForecastOptions,
  createForecaster,
  createSeries,
  forecastCost,
  ForecastInputError,
  LinearForecaster,
  readCsvSeries,
} from '../src/index.js';

beforeAll(() => initBackend());

function seasonal(n: number): number[] {
  return Array.from({ length: n }, (_, i) => 100 + 10 * Math.sin((2 * Math.PI * i) / 12) + ((i * 7919) % 13) / 13);
}

describe('checkForecastOptions', () => {
  it('refuses non-finite and out-of-range values, naming the option and the range', () => {
    expect(() => checkForecastOptions({ hidden: 1e9 })).toThrow(/options\.hidden must be an integer in \[1, 4096\], got 1000000000/);
    expect(() => checkForecastOptions({ learningRate: 1e308 })).toThrow(/options\.learningRate must be a number in \(0, 1\]/);
    expect(() => checkForecastOptions({ phi: 1e308 })).toThrow(/options\.phi/);
    expect(() => checkForecastOptions({ phi: 0 })).toThrow(/options\.phi/);
    expect(() => checkForecastOptions({ epochs: 2.5 })).toThrow(/options\.epochs must be an integer/);
    expect(() => checkForecastOptions({ season: 'twelve' })).toThrow(/options\.season must be a finite number, got "twelve"/);
    expect(() => checkForecastOptions({ season: -1 })).toThrow(BadInputError);
    expect(() => checkForecastOptions({ lambda: 'auto', phi: 0.9, hidden: 64, learningRate: 1e-3, normalization: 'revin' })).not.toThrow();
  });
});

describe('forecastCost', () => {
  it('grows with lookback squared for the linear models and hidden squared for the recurrent ones', () => {
    const linear = (lookback: number) => forecastCost({ model: 'linear', options: { lookback }, rows: 12_000, columns: 1, horizon: 24 });
    // The probe request: rows x lookback^2 is hundreds of billions of operations.
    expect(forecastCost({ model: 'linear', options: { lookback: 4000 }, rows: 12_000, columns: 1, horizon: 1000 }).flops).toBeGreaterThan(1e11);
    expect(linear(96).flops).toBeLessThan(5e8);
    expect(linear(800).flops / linear(400).flops).toBeGreaterThan(3.5);
    const seg = (hidden: number) => forecastCost({ model: 'segrnn', options: { hidden }, rows: 1000, columns: 1, horizon: 24 });
    expect(seg(4096).parameters).toBeGreaterThan(1e8);
    expect(seg(256).parameters / seg(128).parameters).toBeGreaterThan(3.5);
    expect(forecastCost({ model: 'naive', options: {}, rows: 100, columns: 2, horizon: 5 }).parameters).toBe(0);
  });
});

describe('finite outputs', () => {
  it('a forecast that overflows is a BadInputError naming the column and step', async () => {
    const huge = seasonal(48).map((v) => v * 1e306);
    const model = createForecaster('holt-winters');
    await model.fit(createSeries({ load: huge }));
    const out = await model.predict(3);
    expect(() => assertFiniteForecast(out, 'holt-winters')).toThrow(/forecast of column "load" is (NaN|-?Infinity) at step 1/);
    const fine = await (await createForecaster('naive').fit(createSeries({ v: seasonal(20) }))).predict(3);
    expect(() => assertFiniteForecast(fine, 'naive')).not.toThrow();
  });
});

describe('cancellation', () => {
  it('a neural fit stops before its next batch with CancelledError and frees its tensors', async () => {
    await expectNoLeakedTensors(async () => {
      const model = createForecaster('segrnn', { lookback: 24, horizon: 12, segmentLength: 12, hidden: 8, epochs: 1000, batchSize: 16 });
      const controller = new AbortController();
      setTimeout(() => controller.abort(new CancelledError('caller left')), 100);
      const t0 = performance.now();
      try {
        await expect(model.fit(createSeries({ v: seasonal(600) }), { signal: controller.signal })).rejects.toThrow('caller left');
      } finally {
        model.dispose();
      }
      expect(performance.now() - t0).toBeLessThan(2000);
    }, { label: 'cancelled segrnn fit' });
  });

  it('a linear fit checks between pieces of work; with a signal that never fires it fits the same model', async () => {
    const series = createSeries({ v: seasonal(3000) });
    const plain = new LinearForecaster({ lookback: 200 });
    await plain.fit(series);
    const watched = new LinearForecaster({ lookback: 200 });
    await watched.fit(series, { signal: new AbortController().signal });
    const a = plain.linearWeights();
    const b = watched.linearWeights();
    expect(watched.chosenLambda).toBe(plain.chosenLambda);
    expect(b).toEqual(a);
    const controller = new AbortController();
    controller.abort(new CancelledError('deadline passed'));
    await expect(new LinearForecaster({ lookback: 200 }).fit(series, { signal: controller.signal })).rejects.toThrow('deadline passed');
  });

  it('a backtest stops between windows', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(createForecaster('naive').backtest(createSeries({ v: seasonal(100) }), { horizon: 5, signal: controller.signal })).rejects.toBeInstanceOf(CancelledError);
  });
});

describe('CSV headers', () => {
  it('refuses a first row that is data, and duplicate column names', () => {
    expect(() => readCsvSeries('1949-01,112\n1949-02,118\n1949-03,132\n')).toThrow(/CSV text: the first row looks like data \("1949-01", "112"\), not a header/);
    expect(() => readCsvSeries('1,2,3\n4,5,6\n')).toThrow(/first row looks like data/);
    expect(() => readCsvSeries('date,a,b,a\n2020-01-01,1,2,3\n2020-01-02,1,2,3\n')).toThrow(/column name "a" appears twice in the header \(columns 2 and 4\)/);
    expect(() => readCsvSeries('date,a,b,a\n2020-01-01,1,2,3\n')).toThrow(ForecastInputError);
    expect(readCsvSeries('month,2019\n2020-01,1\n2020-02,2\n').columns).toEqual(['2019']);
  });
});
