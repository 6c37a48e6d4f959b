import { z } from 'zod';
import { ForecastInputError } from './errors.js';

const positiveInt = z.number().int().min(1).max(1_000_000);
const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const unit = (lo: number, hi: number) => finite.refine((v) => v > lo && v <= hi, `must be in (${lo}, ${hi}]`);
const scaler = z.enum(['standard', 'minmax', 'none']);

const base = { scaler: scaler.optional() };
const windowed = { ...base, lookback: positiveInt.optional(), horizon: positiveInt.optional() };
const linear = {
  ...windowed,
  lambda: z.union([z.literal('auto'), finite.refine((v) => v >= 0, 'must be >= 0')]).optional(),
  subtractLast: z.boolean().optional(),
  normalization: z.enum(['auto', 'none', 'last', 'revin']).optional(),
  kernel: positiveInt.optional(),
};
const neural = {
  ...windowed,
  epochs: positiveInt.optional(),
  batchSize: positiveInt.optional(),
  learningRate: unit(0, 10).optional(),
  lrDecay: unit(0, 1).optional(),
  patience: positiveInt.optional(),
  maxWindowsPerEpoch: positiveInt.optional(),
  normalization: z.enum(['last', 'revin', 'none']).optional(),
  loss: z.enum(['mse', 'mae']).optional(),
  seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
  verbose: z.boolean().optional(),
  timeBudgetSeconds: finite.refine((v) => v > 0, 'must be > 0').optional(),
  validationStride: positiveInt.optional(),
};
const seasonal = { ...base, season: positiveInt.optional() };

/**
 * The options each forecaster accepts, by registry name. Strict: an unknown key (a typo such as
 * `seasn`) is an error that lists the valid keys, never silently ignored.
 */
export const FORECASTER_OPTION_SCHEMAS = Object.freeze({
  auto: z.strictObject({
    ...base,
    horizon: positiveInt.optional(),
    season: positiveInt.optional(),
    nonNegative: z.boolean().optional(),
    windows: positiveInt.refine((v) => v <= 20, 'must be <= 20').optional(),
    neural: z.union([z.boolean(), z.literal('auto')]).optional(),
    epochs: positiveInt.optional(),
    seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
    kinds: z.array(z.string().min(1)).min(1).optional(),
  }),
  segrnn: z.strictObject({
    ...neural,
    segmentLength: positiveInt.optional(),
    hidden: positiveInt.optional(),
    dropout: finite.refine((v) => v >= 0 && v < 1, 'must be in [0, 1)').optional(),
    linearSkip: z.boolean().optional(),
  }),
  seq2seq: z.strictObject({
    ...neural,
    cell: z.enum(['gru', 'lstm']).optional(),
    hidden: positiveInt.optional(),
    bidirectional: z.boolean().optional(),
    attention: z.boolean().optional(),
  }),
  dlinear: z.strictObject(linear),
  linear: z.strictObject(linear),
  'seasonal-naive': z.strictObject(seasonal),
  naive: z.strictObject(base),
  drift: z.strictObject(base),
  'moving-average': z.strictObject({ ...base, window: positiveInt.optional() }),
  'holt-winters': z.strictObject({
    ...seasonal,
    alpha: unit(0, 1).optional(),
    beta: unit(0, 1).optional(),
    gamma: unit(0, 1).optional(),
    phi: unit(0, 1).optional(),
  }),
  'es-hybrid': z.strictObject({
    season: positiveInt.optional(),
    horizon: positiveInt.optional(),
    secondSeason: positiveInt.optional(),
    lookback: positiveInt.optional(),
    lookbacks: z.array(positiveInt).min(1).max(16).optional(),
    seeds: z.array(z.number().int().min(0).max(2 ** 32 - 1)).min(1).max(32).optional(),
    core: z.enum(['mlp', 'gru']).optional(),
    hidden: positiveInt.refine((v) => v <= 4096, 'must be <= 4096').optional(),
    layers: positiveInt.refine((v) => v <= 8, 'must be <= 8').optional(),
    epochs: positiveInt.optional(),
    windowsPerEpoch: positiveInt.optional(),
    batchSize: positiveInt.optional(),
    learningRate: unit(0, 1).optional(),
    lrDecay: unit(0, 1).optional(),
    patience: positiveInt.optional(),
    timeBudgetSeconds: finite.refine((v) => v > 0, 'must be > 0').optional(),
    verbose: z.boolean().optional(),
  }),
  'mean-ensemble': z.strictObject({
    ...base,
    members: z.array(z.strictObject({ name: z.string().min(1), options: z.record(z.string(), z.unknown()).optional() })).min(1),
  }),
} satisfies Record<string, z.ZodObject>);

/** The option names a forecaster accepts. */
export function forecasterOptionNames(name: string): string[] {
  const schema = (FORECASTER_OPTION_SCHEMAS as Record<string, z.ZodObject>)[name];
  return schema ? Object.keys(schema.shape) : [];
}

/**
 * Checks a forecaster's options: known keys only, each of the right type and range.
 *
 * @throws ForecastInputError naming the option and, for an unknown key, every valid one.
 */
export function validateForecasterOptions(name: string, options: unknown): Record<string, unknown> {
  const schema = (FORECASTER_OPTION_SCHEMAS as Record<string, z.ZodObject>)[name];
  if (!schema) return (options ?? {}) as Record<string, unknown>;
  const result = schema.safeParse(options ?? {});
  if (result.success) return options === undefined ? {} : (options as Record<string, unknown>);
  const problems = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((k) => `"${k}"`).join(', ');
      return `unknown option${issue.keys.length > 1 ? 's' : ''} ${keys}; valid options: ${Object.keys(schema.shape).join(', ')}`;
    }
    const key = issue.path.map(String).join('.');
    const got = issue.path.reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<PropertyKey, unknown>)[k] : undefined), options);
    return key ? `option "${key}": ${issue.message}, got ${JSON.stringify(got)}` : issue.message;
  });
  throw new ForecastInputError(`forecaster "${name}": ${problems.join('; ')}`, { details: { model: name, validOptions: Object.keys(schema.shape) } });
}
