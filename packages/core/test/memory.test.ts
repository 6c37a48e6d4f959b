import { describe, expect, it } from 'vitest';
import { releaseMemory, releaseMemoryEvery } from '../src/memory.js';

const rssMb = () => process.memoryUsage().rss / 2 ** 20;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('releaseMemory', () => {
  it('frees an unreachable 256 MB shared buffer, which V8 alone keeps (it sees no heap pressure from it)', async () => {
    const touch = () => {
      const big = new Int32Array(new SharedArrayBuffer(256 * 2 ** 20));
      for (let i = 0; i < big.length; i += 1024) big[i] = i;
      return rssMb();
    };
    releaseMemory();
    await sleep(200);
    const before = rssMb();
    const held = touch();
    expect(held - before).toBeGreaterThan(200);
    releaseMemory();
    // The backing store is unmapped off the main thread, shortly after the collection.
    let now = rssMb();
    for (let i = 0; i < 40 && held - now < 200; i++) {
      await sleep(50);
      now = rssMb();
    }
    expect(held - now).toBeGreaterThan(200);
  });

  it('releaseMemoryEvery collects on a clock until stopped', async () => {
    releaseMemory();
    await sleep(200);
    const before = rssMb();
    (() => {
      const big = new Int32Array(new SharedArrayBuffer(256 * 2 ** 20));
      for (let i = 0; i < big.length; i += 1024) big[i] = i;
    })();
    const held = rssMb();
    expect(held - before).toBeGreaterThan(200);
    const stop = releaseMemoryEvery(100);
    try {
      let now = rssMb();
      for (let i = 0; i < 40 && held - now < 200; i++) {
        await sleep(50);
        now = rssMb();
      }
      expect(held - now).toBeGreaterThan(200);
    } finally {
      stop();
    }
  });
});
