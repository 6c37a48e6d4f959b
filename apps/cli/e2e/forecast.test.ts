import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seqlab } from './cli.js';

const AIRLINE = 'data/classic_ts/airline-passengers.csv';

describe('seqlab forecast (built binary)', () => {
  it('forecasts airline passengers and writes a valid PNG with history, forecast, intervals and actuals', async () => {
    const png = join(mkdtempSync(join(tmpdir(), 'seqlab-e2e-')), 'airline.png');
    const r = await seqlab(['forecast', '--csv', AIRLINE, '--horizon', '12', '--model', 'holt-winters', '--holdout', '--plot', png, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.forecast).toHaveLength(12);
    expect(out.forecast[11].date.slice(0, 7)).toBe('1960-12');
    expect(out.forecast[11].actual).toBe(432);
    expect(out.plot).toBe(png);
    const bytes = readFileSync(png);
    // PNG signature, then an IHDR chunk with the image size.
    expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(bytes.subarray(12, 16).toString('latin1')).toBe('IHDR');
    const width = bytes.readUInt32BE(16);
    const height = bytes.readUInt32BE(20);
    expect(width).toBeGreaterThan(1000);
    expect(height).toBeGreaterThan(400);
    expect(bytes.subarray(bytes.length - 8, bytes.length - 4).toString('latin1')).toBe('IEND');
  });

  it('also writes SVG', async () => {
    const svg = join(mkdtempSync(join(tmpdir(), 'seqlab-e2e-')), 'airline.svg');
    const r = await seqlab(['forecast', '--csv', AIRLINE, '--horizon', '12', '--plot', svg]);
    expect(r.code).toBe(0);
    const text = readFileSync(svg, 'utf8');
    expect(text).toMatch(/^<svg/);
    // The default model is auto (chosen by a backtest on the training rows).
    expect(text).toContain('auto forecast, horizon 12');
  });
});
