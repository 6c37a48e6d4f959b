import { describe, expect, it } from 'vitest';
import { MicroBatcher } from '../src/index.js';

const double = async (xs: number[]) => xs.map((x) => x * 2);

describe('MicroBatcher', () => {
  it('merges requests arriving within the window into one call and splits results in order', async () => {
    const calls: number[][] = [];
    const b = new MicroBatcher<number, number>(async (xs) => (calls.push(xs), double(xs)), { windowMs: 20, maxBatchSize: 100 });
    const out = await Promise.all([b.add('m', [1, 2]), b.add('m', [3]), b.add('m', [4, 5, 6])]);
    expect(out).toEqual([[2, 4], [6], [8, 10, 12]]);
    expect(calls).toEqual([[1, 2, 3, 4, 5, 6]]);
  });

  it('runs a full batch at once without waiting for the window', async () => {
    const calls: number[][] = [];
    const b = new MicroBatcher<number, number>(async (xs) => (calls.push(xs), double(xs)), { windowMs: 10_000, maxBatchSize: 3 });
    const t0 = Date.now();
    const out = await Promise.all([b.add('m', [1]), b.add('m', [2]), b.add('m', [3])]);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(out).toEqual([[2], [4], [6]]);
    expect(calls).toEqual([[1, 2, 3]]);
  });

  it('never splits a request and sends the waiting batch off when the next one would overflow it', async () => {
    const calls: number[][] = [];
    const sizes: number[] = [];
    const b = new MicroBatcher<number, number>(async (xs) => (calls.push(xs), double(xs)), {
      windowMs: 15,
      maxBatchSize: 4,
      onBatch: (n) => sizes.push(n),
    });
    const out = await Promise.all([b.add('m', [1, 2, 3]), b.add('m', [4, 5]), b.add('m', [6, 7, 8, 9, 10])]);
    expect(out).toEqual([[2, 4, 6], [8, 10], [12, 14, 16, 18, 20]]);
    expect(calls).toEqual([[1, 2, 3], [4, 5], [6, 7, 8, 9, 10]]);
    expect(sizes).toEqual([3, 2, 5]);
  });

  it('keeps keys (models) apart', async () => {
    const calls: Array<[string, number[]]> = [];
    const b = new MicroBatcher<number, number>(async (xs, key) => (calls.push([key, xs]), double(xs)), { windowMs: 10, maxBatchSize: 10 });
    await Promise.all([b.add('a', [1]), b.add('b', [2]), b.add('a', [3])]);
    expect(calls.sort()).toEqual([
      ['a', [1, 3]],
      ['b', [2]],
    ]);
  });

  it('rejects every request of a failed batch with the error', async () => {
    const b = new MicroBatcher<number, number>(async () => Promise.reject(new Error('model exploded')), { windowMs: 5, maxBatchSize: 8 });
    const results = await Promise.allSettled([b.add('m', [1]), b.add('m', [2])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason.message).toBe('model exploded');
  });

  it('drops requests whose signal aborted before the batch ran', async () => {
    const calls: number[][] = [];
    const b = new MicroBatcher<number, number>(async (xs) => (calls.push(xs), double(xs)), { windowMs: 20, maxBatchSize: 10 });
    const controller = new AbortController();
    const gone = b.add('m', [1], controller.signal);
    const kept = b.add('m', [2]);
    controller.abort(new Error('client left'));
    await expect(gone).rejects.toThrow('client left');
    expect(await kept).toEqual([4]);
    expect(calls).toEqual([[2]]);
  });

  it('with a 0 ms window runs every request alone (batching off)', async () => {
    const calls: number[][] = [];
    const b = new MicroBatcher<number, number>(async (xs) => (calls.push(xs), double(xs)), { windowMs: 0, maxBatchSize: 32 });
    expect(b.enabled).toBe(false);
    await Promise.all([b.add('m', [1]), b.add('m', [2])]);
    expect(calls).toEqual([[1], [2]]);
  });

  it('while maxInFlight batches run, later requests gather into one fuller batch', async () => {
    const calls: number[][] = [];
    const slow = async (xs: number[]) => {
      calls.push(xs);
      await new Promise((r) => setTimeout(r, 60));
      return double(xs);
    };
    const b = new MicroBatcher<number, number>(slow, { windowMs: 2, maxBatchSize: 32, maxInFlight: 1 });
    const first = b.add('m', [1]);
    await new Promise((r) => setTimeout(r, 10));
    expect(b.inFlight).toBe(1);
    // These arrive over ~30 ms, far past the 2 ms window, while the first batch runs.
    const later: Array<Promise<number[]>> = [];
    for (let i = 2; i <= 6; i++) {
      later.push(b.add('m', [i]));
      await new Promise((r) => setTimeout(r, 6));
    }
    expect(await first).toEqual([2]);
    expect(await Promise.all(later)).toEqual([[4], [6], [8], [10], [12]]);
    expect(calls).toEqual([[1], [2, 3, 4, 5, 6]]);
  });

  it('a full batch goes at once even when maxInFlight batches are running', async () => {
    const calls: number[][] = [];
    const slow = async (xs: number[]) => (calls.push(xs), await new Promise((r) => setTimeout(r, 50)), double(xs));
    const b = new MicroBatcher<number, number>(slow, { windowMs: 1, maxBatchSize: 2, maxInFlight: 1 });
    const p1 = b.add('m', [1, 2]);
    const p2 = b.add('m', [3, 4]);
    await new Promise((r) => setTimeout(r, 5));
    expect(b.inFlight).toBe(2);
    expect(await Promise.all([p1, p2])).toEqual([[2, 4], [6, 8]]);
  });

  it('with strictInFlight, full batches wait for a free slot and leave maxBatchSize at a time, in arrival order', async () => {
    const calls: number[][] = [];
    let peak = 0;
    const b = new MicroBatcher<number, number>(
      async (xs) => {
        calls.push(xs);
        peak = Math.max(peak, b.inFlight);
        await new Promise((r) => setTimeout(r, 30));
        return double(xs);
      },
      { windowMs: 1, maxBatchSize: 2, maxInFlight: 1, strictInFlight: true },
    );
    const ps = [b.add('m', [1, 2]), b.add('m', [3]), b.add('m', [4]), b.add('m', [5, 6, 7]), b.add('m', [8])];
    await new Promise((r) => setTimeout(r, 5));
    expect(b.inFlight).toBe(1);
    expect(await Promise.all(ps)).toEqual([[2, 4], [6], [8], [10, 12, 14], [16]]);
    // One at a time; a request larger than a batch still goes whole, never split.
    expect(peak).toBe(1);
    expect(calls).toEqual([[1, 2], [3, 4], [5, 6, 7], [8]]);
  });

  it('with immediateWhenIdle, a request to an idle batcher goes at once; later ones still gather', async () => {
    const calls: number[][] = [];
    const slow = async (xs: number[]) => (calls.push(xs), await new Promise((r) => setTimeout(r, 40)), double(xs));
    const b = new MicroBatcher<number, number>(slow, { windowMs: 10_000, maxBatchSize: 32, maxInFlight: 1, immediateWhenIdle: true });
    const t0 = Date.now();
    const first = b.add('m', [1]);
    await new Promise((r) => setTimeout(r, 5));
    expect(calls).toEqual([[1]]);
    const rest = [b.add('m', [2]), b.add('m', [3])];
    expect(await first).toEqual([2]);
    expect(await Promise.all(rest)).toEqual([[4], [6]]);
    // The 10 s window never applied: the second batch went when the first finished.
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(calls).toEqual([[1], [2, 3]]);
  });

  it('refuses invalid options', () => {
    expect(() => new MicroBatcher(double, { windowMs: 5, maxBatchSize: 0 })).toThrow(/maxBatchSize/);
    expect(() => new MicroBatcher(double, { windowMs: -1, maxBatchSize: 4 })).toThrow(/windowMs/);
  });
});
