import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dataPath, formatTable, median } from '../src/index.js';

describe('bench report helpers', () => {
  it('median of odd and even lists', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(/empty/);
  });
  it('formats a table with aligned columns', () => {
    const t = formatTable([{ model: 'a', mse: 0.12345 }, { model: 'longer', mse: 2 }]).split('\n');
    expect(t[0]).toBe('model   mse');
    expect(t[2]).toBe('a       0.1235');
    expect(t[3]).toBe('longer  2');
  });
  it('finds the repository data', () => {
    expect(existsSync(dataPath('ett', 'ETTh1.csv'))).toBe(true);
  });
});
