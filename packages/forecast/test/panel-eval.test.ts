import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createForecaster, evaluatePanel, readWideCsv, smape } from '../src/index.js';

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../data');

describe('evaluatePanel', () => {
  it('backtests every M4 Hourly series in one call: per-series errors as computed by hand, means over series, short series skipped', async () => {
    const panel = readWideCsv(path.join(DATA, 'm4/Hourly-train.csv')).slice(0, 20);
    // A series too short for a 24-season model and a 48-step forecast is reported, not fatal.
    panel.push({ id: 'tiny', series: { columns: ['value'], values: [Float64Array.from([1, 2, 3, 4, 5])], irregular: false } });
    const r = await evaluatePanel(panel, () => createForecaster('seasonal-naive', { season: 24 }), { horizon: 48, season: 24, level: null });
    expect(r.series).toHaveLength(20);
    expect(r.skipped.map((s) => s.id)).toEqual(['tiny']);
    expect(r.skipped[0]!.reason).toMatch(/needs 24/);
    const h1 = panel[0]!.series.values[0]!;
    const n = h1.length;
    const actual = Array.from(h1.subarray(n - 48));
    const pred = actual.map((_, h) => h1[n - 48 - 24 + (h % 24)]!);
    let insample = 0;
    for (let t = 24; t < n - 48; t++) insample += Math.abs(h1[t]! - h1[t - 24]!);
    insample /= n - 48 - 24;
    const mae = actual.reduce((a, y, h) => a + Math.abs(y - pred[h]!), 0) / 48;
    expect(r.series[0]!.id).toBe('H1');
    expect(r.series[0]!.smape).toBeCloseTo(smape(actual, pred), 9);
    expect(r.series[0]!.mase).toBeCloseTo(mae / insample, 9);
    expect(r.aggregate.smape).toBeCloseTo(r.series.reduce((a, s) => a + s.smape, 0) / 20, 9);
    expect(r.aggregate.series).toBe(20);
  });
});
