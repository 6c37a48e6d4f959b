/** Item progress for long scoring runs: silent when quiet, a line every 10 s off a terminal. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ItemProgress } from '../src/progress.js';

afterEach(() => vi.restoreAllMocks());

describe('ItemProgress', () => {
  it('off a terminal prints done/total, rate and ETA at most every 10 seconds', () => {
    let now = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    const writes: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (writes.push(String(s)), true));
    const p = new ItemProgress('scoring', 1000, { tty: false });
    now = 5_000;
    p.update(100);
    expect(writes).toEqual([]);
    now = 10_000;
    p.update(200);
    expect(writes).toEqual(['scoring: 200/1000 (20/s, ETA 40s)\n']);
    now = 15_000;
    p.update(300);
    expect(writes).toHaveLength(1);
    p.stop();
  });

  it('is silent when quiet (--json)', () => {
    let now = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const p = new ItemProgress('scoring', 10, { quiet: true, tty: false });
    now = 60_000;
    p.update(5);
    p.stop();
    expect(write).not.toHaveBeenCalled();
  });
});
