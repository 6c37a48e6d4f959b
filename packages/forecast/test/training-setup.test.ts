import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createForecaster, forecasterOptionsFor, holdoutOverlap, loadForecaster, readCsvSeries, reconcileSegments, sliceSeries } from '../src/index.js';

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../data');
const air = readCsvSeries(path.join(DATA, 'classic_ts/airline-passengers.csv'));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'seqlab-setup-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('SegRNN look-back and segment length', () => {
  it('are reconciled instead of refused', () => {
    // The case: CLI defaults gave lookback 564 with the default segment of 24.
    expect(reconcileSegments(564, undefined, false)).toEqual({ lookback: 576, segmentLength: 24 });
    expect(reconcileSegments(564, undefined, true)).toEqual({ lookback: 564, segmentLength: 12 });
    expect(reconcileSegments(96, undefined, true)).toEqual({ lookback: 96, segmentLength: 24 });
    expect(reconcileSegments(97, undefined, true)).toEqual({ lookback: 120, segmentLength: 24 });
    expect(reconcileSegments(100, 16, false)).toEqual({ lookback: 112, segmentLength: 16 });
    // Both given and incompatible: left to the model, which names both.
    expect(reconcileSegments(100, 16, true)).toEqual({ lookback: 100, segmentLength: 16 });
    expect(() => createForecaster('segrnn', { lookback: 100, segmentLength: 16, horizon: 4 })).toThrow(/lookback 100 must be a multiple of segmentLength 16/);
  });
  it('the forecast task applies it and the hints for hidden size, segment length and time budget', () => {
    // Horizon 282 on hourly data: the default look-back 564 used to fail.
    const hourly = readCsvSeries(path.join(DATA, 'ett/ETTh1.csv'), { targets: ['OT'] });
    const o = forecasterOptionsFor('segrnn', { horizon: 282 }, hourly);
    expect(o).toMatchObject({ lookback: 576, segmentLength: 24, horizon: 282 });
    expect(() => createForecaster('segrnn', o)).not.toThrow();
    const h = forecasterOptionsFor('segrnn', { horizon: 12, hints: { lookback: 36, hidden: 16, segmentLength: 6, timeBudgetSeconds: 5 } }, air);
    expect(h).toEqual({ horizon: 12, lookback: 36, segmentLength: 6, hidden: 16, timeBudgetSeconds: 5 });
    expect(forecasterOptionsFor('seq2seq', { horizon: 12, hints: { hidden: 8, segmentLength: 6 } }, air)).toEqual({ horizon: 12, lookback: 24, hidden: 8 });
    expect(forecasterOptionsFor('linear', { horizon: 12, hints: { hidden: 8 } }, air)).toEqual({ horizon: 12, lookback: 24 });
  });
});

describe('what a fitted model has seen', () => {
  it('is remembered through save/load, and a holdout overlapping it is flagged', async () => {
    const train = sliceSeries(air, 0, 100);
    const validation = sliceSeries(air, 76, 120);
    const model = await createForecaster('linear', { lookback: 24, horizon: 12 }).fit(train, { validation });
    expect(model.seenUntil?.toISOString().slice(0, 7)).toBe('1958-12'); // row 119
    await model.save(path.join(tmp, 'linear'));
    const loaded = await loadForecaster(path.join(tmp, 'linear'));
    expect(loaded.seenUntil?.getTime()).toBe(model.seenUntil!.getTime());
    // A holdout of the last 24 rows starts at row 120 (1959-01): after what was seen.
    expect(holdoutOverlap(loaded, air.dates![120])).toBeUndefined();
    // The last 36 rows start at row 108, inside the validation part.
    expect(holdoutOverlap(loaded, air.dates![108])).toMatch(/held-out rows from 1958-01-01T00:00:00.000Z overlap the data linear was fitted or calibrated on \(up to 1958-12-01T00:00:00.000Z\)/);
    const undated = await createForecaster('naive', {}).fit({ ...train, dates: undefined });
    expect(undated.seenUntil).toBeUndefined();
    expect(holdoutOverlap(undated, air.dates![0])).toBeUndefined();
  });
});
