import { z } from 'zod';
import { JOB_TYPES } from '@seqlab/jobs';
import { TRAIN_TASKS } from '@seqlab/tasks';
import type { Config } from './config.js';

const modelName = z
  .string()
  .min(1)
  .max(64)
  .describe('Model folder name under SEQLAB_MODELS (no paths); default: the configured model');

/** Request schemas, sized by the configured limits. Shared by the routes and the OpenAPI document. */
export function createSchemas(config: Pick<Config, 'maxTexts' | 'maxTextLength' | 'maxGenerateTokens' | 'maxForecastSeries' | 'maxForecastPanelValues'>) {
  const text = z.string().min(1, 'must not be empty').max(config.maxTextLength, `must be at most ${config.maxTextLength} characters`);
  const texts = z.array(text).min(1, 'needs at least one text').max(config.maxTexts, `at most ${config.maxTexts} texts per request`);

  const sentiment = z.strictObject({ texts, model: modelName.optional() }).describe('Texts to classify');

  const classify = z
    .strictObject({
      texts,
      model: modelName.optional(),
      labels: z.number().int().min(1).max(1000).default(3).describe('classes returned per text, highest score first'),
      longTexts: z.enum(['truncate', 'chunks']).optional().describe("texts longer than the model reads: cut (head+tail) or read in chunks; default: the model's setting"),
      explain: z.boolean().default(false).describe('per-token attention weights (recurrent models); multi-label recurrent models add each token\'s share of each predicted class\'s logit'),
    })
    .describe('Texts to classify with any text classifier');

  const generate = z
    .strictObject({
      prompt: z.string().min(1, 'must not be empty').max(config.maxTextLength),
      maxTokens: z.number().int().min(1).max(config.maxGenerateTokens).default(100),
      temperature: z.number().min(0).max(5).default(1).describe('0 means greedy'),
      topK: z.number().int().min(0).max(1000).default(0).describe('0 disables top-k filtering'),
      topP: z.number().gt(0).max(1).default(1).describe('nucleus sampling mass; 1 disables it'),
      beam: z.number().int().min(1).max(8).default(1).describe('beam width; 1 means sampling'),
      repetitionPenalty: z.number().min(1).max(10).default(1),
      stop: z.array(z.string().min(1).max(32)).max(4).optional(),
      seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
      stream: z.boolean().default(false).describe('answer with Server-Sent Events (also chosen by Accept: text/event-stream)'),
      model: modelName.optional(),
    })
    .refine((g) => !(g.stream && g.beam > 1), { message: 'beam search cannot stream; use beam: 1 or stream: false', path: ['beam'] });

  const finiteNumber = z.number().refine(Number.isFinite, 'must be a finite number');
  const values = z.array(finiteNumber).min(3, 'needs at least 3 values').max(100_000);
  const dates = z.array(z.string().min(1).max(40));
  const panelSeries = z
    .strictObject({ values, dates: dates.optional().describe('one ISO timestamp per value') })
    .superRefine((s, ctx) => {
      if (s.dates && s.dates.length !== s.values.length) ctx.addIssue({ code: 'custom', path: ['dates'], message: `has ${s.dates.length} entries for ${s.values.length} values` });
    });
  const forecast = z
    .strictObject({
      series: values.optional().describe('one column of values, oldest first'),
      panel: z
        .record(z.string().min(1).max(64), panelSeries)
        .optional()
        .describe('many series by id, each { values, dates? }, forecast by a saved global model (e.g. es-hybrid) named by model'),
      newSeries: z
        .enum(['fit', 'error'])
        .optional()
        .describe("with panel: series the model was not fitted on are forecast with per-series smoothing fitted on their values ('fit', default) or refused ('error')"),
      columns: z
        .record(z.string().min(1).max(64), values)
        .optional()
        .describe('several named columns of equal length'),
      dates: dates.optional().describe('one ISO date per row'),
      horizon: z.number().int().min(1).max(1000),
      model: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be a forecaster name such as "holt-winters", or the name of a saved forecaster')
        .default('auto')
        .describe('a forecaster kind, or the name of a saved forecaster; default auto: the kind with the lowest RMSE in a rolling-origin backtest on the series sent'),
      level: z.number().gt(0).lt(1).default(0.9).describe('prediction interval coverage'),
      options: z
        .record(z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,40}$/), z.union([z.number(), z.string().max(64), z.boolean()]))
        .default({})
        .describe('forecaster options, e.g. { "season": 12 }'),
    })
    .superRefine((f, ctx) => {
      if (f.panel !== undefined) {
        if (f.series !== undefined || f.columns !== undefined) ctx.addIssue({ code: 'custom', path: ['panel'], message: 'give exactly one of series, columns or panel' });
        if (f.dates !== undefined) ctx.addIssue({ code: 'custom', path: ['dates'], message: 'with panel, give each series its own dates' });
        if (Object.keys(f.options).length > 0) ctx.addIssue({ code: 'custom', path: ['options'], message: 'do not apply to a saved global model (its options were set when it was trained)' });
        const ids = Object.keys(f.panel);
        if (ids.length === 0) ctx.addIssue({ code: 'custom', path: ['panel'], message: 'needs at least one series' });
        if (ids.length > config.maxForecastSeries) ctx.addIssue({ code: 'custom', path: ['panel'], message: `has ${ids.length} series; at most ${config.maxForecastSeries} per request (MAX_FORECAST_SERIES)` });
        const total = Object.values(f.panel).reduce((a, s) => a + s.values.length, 0);
        if (total > config.maxForecastPanelValues) {
          ctx.addIssue({ code: 'custom', path: ['panel'], message: `has ${total} values over all series; at most ${config.maxForecastPanelValues} per request (MAX_FORECAST_PANEL_VALUES)` });
        }
        return;
      }
      if (f.newSeries !== undefined) ctx.addIssue({ code: 'custom', path: ['newSeries'], message: 'applies to panel requests only' });
      if ((f.series === undefined) === (f.columns === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['series'], message: 'give exactly one of series, columns or panel' });
        return;
      }
      const cols = f.columns ? Object.entries(f.columns) : [['value', f.series!] as const];
      if (cols.length === 0) ctx.addIssue({ code: 'custom', path: ['columns'], message: 'needs at least one column' });
      if (cols.length > 32) ctx.addIssue({ code: 'custom', path: ['columns'], message: 'at most 32 columns' });
      const n = cols[0]?.[1].length ?? 0;
      for (const [name, v] of cols) {
        if (v.length !== n) ctx.addIssue({ code: 'custom', path: ['columns', name], message: `has ${v.length} values, expected ${n}` });
      }
      if (f.dates && f.dates.length !== n) ctx.addIssue({ code: 'custom', path: ['dates'], message: `has ${f.dates.length} entries for ${n} rows` });
    });

  const jobSpec = z
    .strictObject({
      type: z.enum(JOB_TYPES).describe('train a model, evaluate one, or predict a file with one'),
      task: z.enum(TRAIN_TASKS),
      data: z.string().min(1).max(255).describe("a file inside the service's data folder (SEQLAB_DATA), e.g. classic_ts/airline-passengers.csv, or an earlier upload's id"),
      options: z.record(z.string(), z.unknown()).optional().describe("the task's train() / evaluate() options, or a predict job's { horizon, levels, target }"),
      model: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be a model name (letters, digits, ".", "_", "-")')
        .optional()
        .describe('train: the name to publish as (a new version each time); evaluate / predict: the model to use (its served version), or for forecasts a forecaster kind'),
    })
    .describe('A job; with multipart/form-data, the same JSON without data as the part "spec", and the data file as the part "file"');
  const pin = z.strictObject({ version: z.number().int().min(1).nullable().describe('the version to serve, or null to serve the newest again') });

  const embed = z.strictObject({ texts });
  const similarity = z.strictObject({
    query: text,
    candidates: texts,
  });
  return { sentiment, classify, generate, forecast, embed, similarity, jobSpec, pin };
}

export type Schemas = ReturnType<typeof createSchemas>;
export type SentimentRequest = z.output<Schemas['sentiment']>;
export type ClassifyRequest = z.output<Schemas['classify']>;
export type GenerateRequest = z.output<Schemas['generate']>;
export type ForecastRequest = z.output<Schemas['forecast']>;
