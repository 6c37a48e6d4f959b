import { describe, expect, it } from 'vitest';
import { sharedTokens } from '../src/index.js';

const upper = (ts: readonly string[]) => ts.map((t) => t.toUpperCase());

describe('sharedTokens', () => {
  it('computes once per batch and key, again for another array', () => {
    const shared = sharedTokens();
    const texts = ['a b', 'c'];
    let calls = 0;
    const compute = (ts: readonly string[]) => (calls++, upper(ts));
    const first = shared.get(texts, 'k', compute);
    expect(shared.get(texts, 'k', compute)).toBe(first);
    expect(calls).toBe(1);
    expect(shared.get([...texts], 'k', compute)).toEqual(['A B', 'C']);
    expect(calls).toBe(2);
  });

  it('prefills one text per step; get() computes only the texts left, in order', () => {
    const shared = sharedTokens();
    const texts = ['one', 'two', 'three', 'four'];
    const step = shared.prefill(texts, 'k', (t) => t.toUpperCase());
    expect(step()).toBe(true);
    expect(step()).toBe(true);
    let given: readonly string[] = [];
    expect(shared.get(texts, 'k', (ts) => ((given = ts), upper(ts)))).toEqual(['ONE', 'TWO', 'THREE', 'FOUR']);
    expect(given).toEqual(['three', 'four']);
    // Done: nothing left to fill, and a finished entry is not filled again.
    expect(step()).toBe(false);
    const full = shared.prefill(texts, 'other', (t) => t.length);
    while (full());
    expect(shared.get(texts, 'other', () => [])).toEqual([3, 3, 5, 4]);
  });
});
