/**
 * Batch prediction of a data file through `pipeline()`: text classification writes one JSON line
 * per input text, forecasting writes a CSV of the forecast steps.
 */
import { promises as fs } from 'node:fs';
import { BadInputError, throwIfCancelled, writeFileAtomic } from '@seqlab/core';
import { readCsvSeries } from '@seqlab/forecast';
import { pipeline, type TrainTaskName } from '@seqlab/tasks';
import type { PredictOptions } from './types.js';

/** Texts classified per call: bounds memory and lets a cancel land between chunks. */
const CHUNK = 256;

/** What a prediction job reports. */
export interface PredictReport {
  task: TrainTaskName;
  /** Texts classified, or forecast steps written. */
  rows: number;
  seconds: number;
}

/**
 * Predicts every row of `data` with `model` and writes the results to `output` atomically.
 *
 * @throws BadInputError for unknown options, an empty file, or a forecast without `horizon`.
 */
export async function predictToFile(
  task: TrainTaskName,
  model: string | undefined,
  data: string,
  output: string,
  options: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<PredictReport> {
  const started = performance.now();
  const rows = task === 'forecast' ? await forecastToCsv(model, data, output, options as PredictOptions) : await classifyToJsonl(model!, data, output, options, signal);
  return { task, rows, seconds: (performance.now() - started) / 1000 };
}

/** Reads one text per line; a JSON-lines file (`{"text": ...}` per line) is read by its `text` field. */
async function readTexts(data: string): Promise<string[]> {
  const lines = (await fs.readFile(data, 'utf8')).split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (lines.length === 0) throw new BadInputError(`predict: ${data} has no texts`);
  return lines.map((line, i) => {
    if (!line.startsWith('{')) return line;
    const text = (JSON.parse(line) as { text?: unknown }).text;
    if (typeof text !== 'string') throw new BadInputError(`predict: ${data} line ${i + 1} is JSON without a "text" string`);
    return text;
  });
}

async function classifyToJsonl(model: string, data: string, output: string, options: Record<string, unknown>, signal?: AbortSignal): Promise<number> {
  const unknown = Object.keys(options);
  if (unknown.length > 0) throw new BadInputError(`predict text-classification: unknown options ${unknown.join(', ')} (it takes none)`);
  const texts = await readTexts(data);
  const classifier = await pipeline('text-classification', model);
  const lines: string[] = [];
  try {
    for (let i = 0; i < texts.length; i += CHUNK) {
      throwIfCancelled(signal, 'predict');
      const chunk = texts.slice(i, i + CHUNK);
      const results = await classifier.predict(chunk);
      results.forEach((r, j) => lines.push(JSON.stringify({ text: chunk[j], label: r.label, score: r.score })));
    }
  } finally {
    classifier.dispose();
  }
  await writeFileAtomic(output, `${lines.join('\n')}\n`);
  return texts.length;
}

async function forecastToCsv(model: string | undefined, data: string, output: string, options: PredictOptions): Promise<number> {
  const unknown = Object.keys(options).filter((k) => !['horizon', 'levels', 'target'].includes(k));
  if (unknown.length > 0) throw new BadInputError(`predict forecast: unknown options ${unknown.join(', ')}; valid options: horizon, levels, target`);
  if (!Number.isInteger(options.horizon) || options.horizon! < 1) throw new BadInputError('predict forecast: options.horizon must be a positive integer');
  if (model === undefined) throw new BadInputError('predict forecast: name a model (a saved forecaster or a registry name such as "holt-winters")');
  const series = readCsvSeries(data, options.target === undefined ? {} : { targets: [options.target] });
  const forecaster = await pipeline('forecast', model);
  try {
    const result = await forecaster.run(series, { horizon: options.horizon!, levels: options.levels ?? [0.9] });
    const f = result.main;
    const header = ['step', ...(f.dates ? ['date'] : []), 'column', 'mean', ...(f.lower ? ['lower', 'upper'] : [])];
    const rows: string[] = [header.join(',')];
    for (let step = 0; step < result.horizon; step++) {
      f.columns.forEach((column, c) => {
        const bounds = f.lower && f.upper ? [f.lower[c]![step], f.upper[c]![step]] : [];
        rows.push([step + 1, ...(f.dates ? [f.dates[step]] : []), JSON.stringify(column), f.mean[c]![step], ...bounds].join(','));
      });
    }
    await writeFileAtomic(output, `${rows.join('\n')}\n`);
    return result.horizon;
  } finally {
    forecaster.dispose();
  }
}
