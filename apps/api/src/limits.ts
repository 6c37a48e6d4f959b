import { LimitExceededError } from '@seqlab/core';
import { checkForecastOptions, checkPromptLength, FORECASTER_NAMES, forecastCost, forecasterOptionsFor, generationSteps } from '@seqlab/tasks';
import type { Config } from './config.js';
import type { Task } from './workers/protocol.js';

/** The configured limits one request's estimated cost is held to. */
export type CostLimits = Pick<
  Config,
  'maxForecastWork' | 'maxForecastParameters' | 'maxForecastMemoryMb' | 'maxPromptLength' | 'maxGenerateSteps'
>;

/** How the worker pool should schedule an admitted task. */
export interface Admission {
  /**
   * Heavy tasks (generation, forecasts above {@link HEAVY_FORECAST_FLOPS}) run on at most
   * `heavyWorkers` workers at a time, so cheap requests always find a worker.
   */
  heavy: boolean;
}

/** Forecasts estimated below this many operations (well under 100 ms) count as cheap. */
export const HEAVY_FORECAST_FLOPS = 5e7;

function exceed(limit: string, what: string, value: number, max: number, hint: string): never {
  const show = (v: number) => (v >= 1e6 ? v.toExponential(2) : String(Math.round(v)));
  throw new LimitExceededError(`${what} ${show(value)} exceeds the server's limit ${limit}=${show(max)}; ${hint}`, {
    details: { limit, value, max },
  });
}

/**
 * The cost model: checks a task against the configured limits before any work starts and says
 * how to schedule it. Option ranges are checked here too (finite, meaningful values), so no
 * worker ever builds a model from them.
 *
 * @throws LimitExceededError (422) naming the limit, the estimate and the maximum.
 * @throws BadInputError (400) for an option outside its range.
 */
export function admitTask(task: Task, limits: CostLimits): Admission {
  switch (task.kind) {
    case 'generate':
    case 'stream': {
      checkPromptLength(task.prompt, limits.maxPromptLength);
      const steps = generationSteps({ promptLength: task.prompt.length, maxTokens: task.options.maxTokens ?? 100, beam: task.options.beam ?? 1 });
      if (steps > limits.maxGenerateSteps) {
        exceed('MAX_GENERATE_STEPS', 'generation steps (prompt length + maxTokens x beam)', steps, limits.maxGenerateSteps, 'lower maxTokens or beam, or shorten the prompt');
      }
      return { heavy: true };
    }
    case 'forecast': {
      checkForecastOptions(task.options);
      // A saved forecaster is already fitted: it only forecasts, and its own options apply.
      if (!(FORECASTER_NAMES as readonly string[]).includes(task.model)) return { heavy: true };
      const columns = Object.values(task.columns);
      // The cost of what will run: the caller's options completed as the forecast task completes
      // them (the window follows the horizon unless the caller set it).
      const options = forecasterOptionsFor(task.model, { horizon: task.horizon, options: task.options }, { dates: task.dates?.slice(0, 3).map((d) => new Date(d)) });
      const cost = forecastCost({
        model: task.model,
        options,
        rows: columns[0]?.length ?? 0,
        columns: columns.length,
        horizon: task.horizon,
      });
      if (cost.parameters > limits.maxForecastParameters) {
        exceed('MAX_FORECAST_PARAMETERS', `${task.model}: trainable weights`, cost.parameters, limits.maxForecastParameters, 'use a smaller hidden size');
      }
      if (cost.flops > limits.maxForecastWork) {
        exceed(
          'MAX_FORECAST_WORK',
          `${task.model}: estimated work (floating-point operations for ${columns[0]?.length ?? 0} rows, lookback, horizon and model size)`,
          cost.flops,
          limits.maxForecastWork,
          'send fewer rows, or use a shorter lookback, horizon or a smaller model',
        );
      }
      const mb = cost.memoryBytes / 2 ** 20;
      if (mb > limits.maxForecastMemoryMb) {
        exceed('MAX_FORECAST_MEMORY_MB', `${task.model}: working memory (MB)`, mb, limits.maxForecastMemoryMb, 'use a shorter lookback, a smaller hidden size or batchSize');
      }
      return { heavy: cost.flops > HEAVY_FORECAST_FLOPS || task.model === 'segrnn' || task.model === 'seq2seq' };
    }
    // A saved global model only forecasts (no fitting of the shared network); the request's size is
    // bounded by MAX_FORECAST_SERIES and MAX_FORECAST_PANEL_VALUES in its schema. Like every saved
    // forecaster it takes the heavy lane, so many series cannot crowd out cheap requests.
    case 'forecast-panel':
      return { heavy: true };
    // Classification is bounded by MAX_TEXTS x MAX_TEXT_LENGTH like sentiment, chunked long texts too.
    case 'sentiment':
    case 'embed':
    case 'classify':
    case 'status':
      return { heavy: false };
    case 'fault':
      // Backend faults come from big models, i.e. from heavy work: injected ones take that lane too.
      return { heavy: true };
  }
}
