import { describe, expect, it } from 'vitest';
import { coverage, ForecastInputError, mae, mape, mase, mse, rmse, smape } from '../src/index.js';

describe('metrics against hand-computed values', () => {
  const a = [1, 2, 3, 4];
  const p = [2, 2, 1, 5];
  // errors: -1, 0, 2, -1
  it('MAE, MSE, RMSE', () => {
    expect(mae(a, p)).toBeCloseTo(1, 12); // (1 + 0 + 2 + 1) / 4
    expect(mse(a, p)).toBeCloseTo(1.5, 12); // (1 + 0 + 4 + 1) / 4
    expect(rmse(a, p)).toBeCloseTo(Math.sqrt(1.5), 12);
  });
  it('MAPE and sMAPE in percent', () => {
    // |1/1| + 0 + |2/3| + |1/4| = 1.9166..., / 4 * 100
    expect(mape(a, p)).toBeCloseTo(47.916666, 5);
    // 200/4 * (1/3 + 0 + 2/4 + 1/9)
    expect(smape(a, p)).toBeCloseTo(50 * (1 / 3 + 0.5 + 1 / 9), 10);
    expect(smape([0], [0])).toBe(0);
    expect(mape([0, 2], [1, 1])).toBeCloseTo(50, 12);
  });
  it('MASE scales by the in-sample seasonal naive error', () => {
    const insample = [1, 3, 2, 4, 3, 5]; // lag-2 differences: 1, 1, 1, 1 -> scale 1
    expect(mase([5, 6], [4, 8], insample, 2)).toBeCloseTo(1.5, 12);
    // lag-1 differences: 2, 1, 2, 1, 2 -> scale 1.6
    expect(mase([5, 6], [4, 8], insample, 1)).toBeCloseTo(1.5 / 1.6, 12);
    expect(() => mase([1], [1], [1, 2], 2)).toThrow(/seasonality 2/);
  });
  it('coverage counts values inside the bounds, inclusive', () => {
    expect(coverage([1, 2, 3, 4], [0, 2, 4, 0], [1, 3, 5, 3])).toBe(0.5);
  });
  it('accepts [col][h] arrays and rejects mismatched lengths', () => {
    expect(mae([[1, 2], [3, 4]], [[1, 2], [3, 6]])).toBeCloseTo(0.5, 12);
    expect(() => mse([1, 2], [1])).toThrow(ForecastInputError);
  });
});
