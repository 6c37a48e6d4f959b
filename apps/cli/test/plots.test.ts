import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pngSize } from './helpers.js';
import { confusionChart, forecastChart, renderSvg, trainingCurveChart, writeChart } from '../src/plots.js';

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];


describe('plots', () => {
  const dir = mkdtempSync(join(tmpdir(), 'seqlab-plots-'));

  it('renders a forecast chart with history, forecast, interval and actual layers to SVG', async () => {
    const points = [
      ...[1, 2, 3, 4].map((x) => ({ x, series: 'y', kind: 'history' as const, value: x * 2 })),
      ...[4, 5, 6].map((x) => ({ x, series: 'y', kind: 'forecast' as const, value: x * 2 + 1 })),
      ...[5, 6].map((x) => ({ x, series: 'y', kind: 'actual' as const, value: x * 2 - 1 })),
    ];
    const intervals = [5, 6].map((x) => ({ x, series: 'y', level: 90, lower: x, upper: x * 3 }));
    const svg = await renderSvg(forecastChart(points, intervals, { temporal: false, title: 'test forecast' }));
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('test forecast');
    // One path per line (history, forecast, actual) and one for the band.
    expect(svg.match(/<path/g)!.length).toBeGreaterThanOrEqual(4);
    expect(svg).toContain('shaded: 90% prediction interval');
    // One level alone is still translucent (it used to be drawn opaque over the forecast line),
    // and the y axis is named after the series.
    expect(svg).toMatch(/opacity="0\.18"/);
    expect(svg).toContain('>y</text>');
  });

  it('draws one translucent band per level, widest first, at any number of levels', async () => {
    const points = [1, 2, 3].map((x) => ({ x, series: 'Passengers', kind: 'forecast' as const, value: x }));
    const levels = [50, 80, 95, 99];
    const intervals = levels.flatMap((level) => [1, 2, 3].map((x) => ({ x, series: 'Passengers', level, lower: x - level / 50, upper: x + level / 50 })));
    const spec = forecastChart(points, intervals, { temporal: false }) as unknown as {
      title: { subtitle: string };
      vconcat: Array<{ layer: Array<{ mark: { type: string; opacity?: number }; data: { values: Array<{ level?: number }> }; encoding: { y: { title: string } } }> }>;
    };
    const bands = spec.vconcat[0]!.layer.filter((l) => l.mark.type === 'area');
    expect(bands.map((b) => b.data.values[0]!.level)).toEqual([99, 95, 80, 50]);
    expect(bands.every((b) => b.mark.opacity! < 0.3)).toBe(true);
    expect(spec.vconcat[0]!.layer.every((l) => l.encoding.y.title === 'Passengers')).toBe(true);
    expect(spec.title.subtitle).toBe('shaded: 99%, 95%, 80%, 50% prediction intervals (darker = narrower)');
    expect(await renderSvg(spec as never)).toMatch(/^<svg/);
  });

  it('gives each target its own panel with only its own rows', () => {
    const points = ['a', 'b'].flatMap((series) => [1, 2, 3].map((x) => ({ x, series, kind: 'history' as const, value: series === 'a' ? x : -x })));
    const spec = forecastChart(points, [], { temporal: false }) as unknown as { vconcat: { title: string; layer: { data: { values: { series: string }[] } }[] }[] };
    expect(spec.vconcat.map((p) => p.title)).toEqual(['a', 'b']);
    for (const panel of spec.vconcat) {
      for (const layer of panel.layer) expect(new Set(layer.data.values.map((v) => v.series))).toEqual(new Set([panel.title]));
    }
  });

  it('writes valid PNG and SVG files', async () => {
    const curve = [1, 2, 3].flatMap((epoch) => [
      { epoch, metric: 'loss', split: 'train' as const, value: 1 / epoch },
      { epoch, metric: 'loss', split: 'validation' as const, value: 1.2 / epoch },
    ]);
    const png = join(dir, 'curve.png');
    const bytes = await writeChart(trainingCurveChart(curve, { title: 'curve', resumedFrom: 2 }), png);
    const data = readFileSync(png);
    expect(data.length).toBe(bytes);
    expect([...data.subarray(0, 8)]).toEqual(PNG_MAGIC);
    expect(pngSize(data).width).toBeGreaterThan(400);
    const svgFile = join(dir, 'cm.svg');
    await writeChart(confusionChart(['negative', 'positive'], [[5, 1], [2, 7]]), svgFile);
    const svg = readFileSync(svgFile, 'utf8');
    expect(svg).toContain('negative');
    expect(svg).toContain('>7<');
  });

  it('refuses other extensions', async () => {
    await expect(writeChart(trainingCurveChart([]), join(dir, 'x.jpg'))).rejects.toThrow('.png or .svg');
  });
});
