import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { MAX_PROMPT_LENGTH } from '@seqlab/core';
import { DEFAULT_MODELS } from '@seqlab/tasks';

/** Repository root (apps/api/src or apps/api/dist are two levels below it). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Thrown when the environment does not describe a valid configuration; lists every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

const boolish = z
  .union([z.boolean(), z.enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])])
  .transform((v) => (typeof v === 'boolean' ? v : ['1', 'true', 'yes', 'on'].includes(v)));

// The default applies to a missing value; an explicit "", "off" or "none" disables the model.
const optionalDir = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v) => v.trim())
    .transform((v) => (v === '' || v === 'off' || v === 'none' ? undefined : v));

/**
 * The service's settings, read from environment variables (names in capitals in the comments).
 * Every field has a default, so `npm start` works with no environment at all.
 */
const configSchema = z.object({
  /** PORT: TCP port; 0 picks a free one. */
  port: int(0, 65535).default(3000),
  /** HOST: interface to bind; loopback by default so nothing is exposed by accident. */
  host: z.string().min(1).default('127.0.0.1'),
  /** SEQLAB_MODELS: the only folder model directories may live under (model names resolve inside it); the CLI reads the same variable. */
  modelsDir: z.string().min(1).default('models'),
  /** SENTIMENT_MODEL: sentiment model directory or name under SEQLAB_MODELS; "off" disables it. Default: the registry's sentiment default. */
  sentimentModel: optionalDir(DEFAULT_MODELS.sentiment!),
  /** GENERATOR_MODEL: text generator directory or name under SEQLAB_MODELS; "off" disables it. Default: the registry's text-generation default. */
  generatorModel: optionalDir(DEFAULT_MODELS['text-generation']!),
  /** EMBEDDINGS: load the sentence encoder for /v1/embed and /v1/similarity. */
  embeddings: boolish.default(true),
  /** FORECAST_NEURAL: allow /v1/forecast to train neural forecasters (segrnn, seq2seq) per request. */
  forecastNeural: boolish.default(false),
  /** BODY_LIMIT: largest JSON body accepted (bytes or an express size string such as "100kb"). */
  bodyLimit: z.string().min(1).default('100kb'),
  /**
   * TRUST_PROXY: which proxies may set X-Forwarded-For (Express's `trust proxy`): "off" (default:
   * rate limits and logs use the socket's address, so a client cannot pick its own bucket), a hop
   * count, or comma-separated addresses/subnets such as "loopback" or "10.0.0.0/8".
   */
  trustProxy: z
    .union([z.boolean(), z.number(), z.string()])
    .default('off')
    .transform((v, ctx): boolean | number | string => {
      if (typeof v === 'boolean') return v;
      if (typeof v === 'number' || /^\d+$/.test(v.trim())) {
        const hops = Number(v);
        if (!Number.isInteger(hops) || hops < 0 || hops > 32) ctx.addIssue({ code: 'custom', message: `hop count must be an integer in [0, 32], got ${v}` });
        return hops;
      }
      const t = v.trim();
      if (['', 'off', 'false', 'no', '0'].includes(t)) return false;
      // "true" would trust any sender's X-Forwarded-For, which is what this setting exists to prevent.
      if (['on', 'true', 'yes', '*'].includes(t)) ctx.addIssue({ code: 'custom', message: 'trusting every proxy lets any client choose its address; give a hop count or the proxies\' addresses' });
      return t;
    }),
  /** RATE_LIMIT_WINDOW_MS and RATE_LIMIT_MAX: requests per IP per window; 0 turns the limit off. */
  rateLimitWindowMs: int(1).default(60_000),
  rateLimitMax: int(0).default(600),
  /** REQUEST_TIMEOUT_MS: a request that has not answered by then gets 503. */
  requestTimeoutMs: int(1).default(30_000),
  /** SHUTDOWN_TIMEOUT_MS: how long graceful shutdown waits for in-flight requests. */
  shutdownTimeoutMs: int(0).default(10_000),
  /**
   * DRAIN_MS: on SIGTERM, how long /readyz answers 503 while requests are still accepted, so a
   * load balancer stops sending before connections are refused.
   */
  drainMs: int(0, 600_000).default(2_000),
  /**
   * CANCEL_GRACE_MS: a cancelled or timed-out task that has not stopped this long after its
   * cancellation (stuck in code that cannot check) gets its worker replaced.
   */
  cancelGraceMs: int(10, 600_000).default(5_000),
  /**
   * HEAVY_WORKERS: workers that may run expensive tasks (generation, costly forecasts) at once;
   * the rest stay free for cheap ones (sentiment, embeddings). Default: all but one.
   */
  heavyWorkers: int(1, 32).optional(),
  /**
   * HEAVY_NICE: Linux nice value (0-19) of the heavy-lane workers when other workers are left for
   * cheap requests, so the kernel favours those and the HTTP thread; 0 turns it off.
   */
  heavyNice: int(0, 19).default(10),
  /** MAX_FORECAST_WORK: estimated floating-point operations one forecast request may cost. */
  maxForecastWork: z.coerce.number().positive().default(2e9),
  /** MAX_FORECAST_PARAMETERS: trainable weights a neural forecast request may build. */
  maxForecastParameters: int(1).default(2_000_000),
  /** MAX_FORECAST_MEMORY_MB: working memory one forecast request may need. */
  maxForecastMemoryMb: z.coerce.number().positive().default(128),
  /** MAX_FORECAST_SERIES: series in one panel forecast request (a saved global model). */
  maxForecastSeries: int(1).default(1_000),
  /** MAX_FORECAST_PANEL_VALUES: values over all series of one panel forecast request. */
  maxForecastPanelValues: int(1).default(1_000_000),
  /** MAX_PROMPT_LENGTH: characters of a generation prompt (the CLI shares the default). */
  maxPromptLength: int(1).default(MAX_PROMPT_LENGTH),
  /** MAX_GENERATE_STEPS: recurrent steps of one generation request: prompt length + maxTokens x beam. */
  maxGenerateSteps: int(1).default(4_000),
  /**
   * FAULT_INJECTION: mounts POST /debug/fault, which makes a model worker hit a real wasm trap.
   * For tests and bench:abuse only; never enable it on a served instance.
   */
  faultInjection: boolish.default(false),
  /** CORS_ORIGINS: comma-separated allowed origins, "*" for any; empty allows none. */
  corsOrigins: z
    .union([z.string(), z.array(z.string())])
    .default('')
    .transform((v) =>
      (Array.isArray(v) ? v : v.split(','))
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    ),
  /** BATCH_WINDOW_MS: how long sentiment/embedding requests are gathered; 0 disables micro-batching. */
  batchWindowMs: int(0, 1000).default(5),
  /** BATCH_MAX_SIZE: texts per batch; a full batch runs at once. 1 disables micro-batching. */
  batchMaxSize: int(1, 1024).default(32),
  /**
   * BATCH_MAX_IN_FLIGHT: sentiment/embedding batches computed at once; more wait, however full.
   * Default: the workers, but at most the cores less one, so model work leaves the HTTP thread a
   * core (on 2 cores: 1 batch at a time).
   */
  batchMaxInFlight: int(1, 64).optional(),
  /** WORKERS: model worker threads. */
  workers: int(1, 32).default(2),
  /**
   * SPARE_WORKERS: loaded standby workers. A worker retired after a backend fault or a stuck task
   * is replaced by a spare at once (a new spare then loads in the background); 0 replaces it by
   * starting a new worker, which takes as long as loading the models.
   */
  spareWorkers: int(0, 4).default(1),
  /**
   * WORKER_MAX_WASM_MB: a model worker whose WebAssembly memory has grown past this many MB is
   * replaced once its running task has finished (no request fails); 0 never. A wasm memory never
   * shrinks, so one large request would otherwise keep its high-water mark in the process for
   * good. The default models take 92 MB per worker once loaded and up to about 115 MB in use;
   * a worker whose models alone fill the limit is not recycled (a replacement would be no smaller).
   * The recurrent kernels' resident tables (projected embeddings the models keep once they have
   * read as many tokens as their vocabularies hold) are the models' own and are not counted.
   */
  workerMaxWasmMb: int(0).default(192),
  /** MAX_QUEUE: pending model tasks per worker before requests get 503 (back-pressure). */
  maxQueue: int(1).default(256),
  /** MAX_TEXTS and MAX_TEXT_LENGTH: per-request limits on sentiment/embedding input. */
  maxTexts: int(1).default(64),
  maxTextLength: int(1).default(2000),
  /** MAX_GENERATE_TOKENS: upper bound on maxTokens for /v1/generate. */
  maxGenerateTokens: int(1).default(500),
  /** SEQLAB_DATA: the folder job data is named in (`data` of POST /v1/jobs is a file inside it). */
  dataDir: z.string().min(1).default('data'),
  /** SEQLAB_UPLOADS: where uploaded job data is streamed to (shared with workers on Redis). Default `<SEQLAB_DATA>/uploads`. */
  uploadsDir: z.string().min(1).optional(),
  /** SEQLAB_MAX_UPLOAD_MB: the largest upload POST /v1/jobs accepts, in MB (413 above). */
  maxUploadMb: z.coerce.number().positive().default(50),
  /**
   * SEQLAB_API_KEYS: path of the keys file `{"keys":[{"id","sha256","scopes":["predict","train","admin"]}]}`
   * (hex SHA-256 of each key, never the key). Without it the job and model-admin routes are off.
   */
  apiKeys: z.string().min(1).optional(),
  /** SEQLAB_REQUIRE_KEYS: prediction routes need a key with scope `predict` too (needs SEQLAB_API_KEYS). */
  requireKeys: boolish.default(false),
  /** SEQLAB_REDIS_URL: run jobs on `seqlab worker` processes through Redis (BullMQ) instead of in-process. */
  redisUrl: z.string().min(1).optional(),
  /** SEQLAB_QUEUE_PREFIX: the BullMQ key prefix (the workers' --prefix); default that of @seqlab/jobs. */
  queuePrefix: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/, 'letters, digits, ":", "_", "-"').optional(),
  /** MODEL_POLL_MS: how often a served model's folder is checked for a new version or pin (hot reload). */
  modelPollMs: int(0, 600_000).default(1000),
  /** LOG_LEVEL: pino level. */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** SEQLAB_BACKEND is read by @seqlab/core itself; recorded here for /readyz. */
  backend: z.enum(['tensorflow', 'wasm', 'cpu']).optional(),
});

/** Validated service configuration. */
export type Config = Omit<z.output<typeof configSchema>, 'sentimentModel' | 'generatorModel' | 'uploadsDir'> & {
  /** Absolute uploads folder. */
  uploadsDir: string;
  /** Absolute sentiment model directory, or undefined when disabled. */
  sentimentModel?: string;
  /** Absolute generator model directory, or undefined when disabled. */
  generatorModel?: string;
};
/** Configuration as given (all optional; strings from the environment are coerced). */
export type ConfigInput = z.input<typeof configSchema>;

const ENV_NAMES: Record<keyof Config, string> = {
  port: 'PORT',
  host: 'HOST',
  modelsDir: 'SEQLAB_MODELS',
  sentimentModel: 'SENTIMENT_MODEL',
  generatorModel: 'GENERATOR_MODEL',
  embeddings: 'EMBEDDINGS',
  forecastNeural: 'FORECAST_NEURAL',
  bodyLimit: 'BODY_LIMIT',
  trustProxy: 'TRUST_PROXY',
  rateLimitWindowMs: 'RATE_LIMIT_WINDOW_MS',
  rateLimitMax: 'RATE_LIMIT_MAX',
  requestTimeoutMs: 'REQUEST_TIMEOUT_MS',
  shutdownTimeoutMs: 'SHUTDOWN_TIMEOUT_MS',
  drainMs: 'DRAIN_MS',
  cancelGraceMs: 'CANCEL_GRACE_MS',
  heavyWorkers: 'HEAVY_WORKERS',
  heavyNice: 'HEAVY_NICE',
  maxForecastWork: 'MAX_FORECAST_WORK',
  maxForecastParameters: 'MAX_FORECAST_PARAMETERS',
  maxForecastMemoryMb: 'MAX_FORECAST_MEMORY_MB',
  maxForecastSeries: 'MAX_FORECAST_SERIES',
  maxForecastPanelValues: 'MAX_FORECAST_PANEL_VALUES',
  maxPromptLength: 'MAX_PROMPT_LENGTH',
  maxGenerateSteps: 'MAX_GENERATE_STEPS',
  faultInjection: 'FAULT_INJECTION',
  corsOrigins: 'CORS_ORIGINS',
  batchWindowMs: 'BATCH_WINDOW_MS',
  batchMaxSize: 'BATCH_MAX_SIZE',
  batchMaxInFlight: 'BATCH_MAX_IN_FLIGHT',
  workers: 'WORKERS',
  spareWorkers: 'SPARE_WORKERS',
  workerMaxWasmMb: 'WORKER_MAX_WASM_MB',
  maxQueue: 'MAX_QUEUE',
  maxTexts: 'MAX_TEXTS',
  maxTextLength: 'MAX_TEXT_LENGTH',
  maxGenerateTokens: 'MAX_GENERATE_TOKENS',
  dataDir: 'SEQLAB_DATA',
  uploadsDir: 'SEQLAB_UPLOADS',
  maxUploadMb: 'SEQLAB_MAX_UPLOAD_MB',
  apiKeys: 'SEQLAB_API_KEYS',
  requireKeys: 'SEQLAB_REQUIRE_KEYS',
  redisUrl: 'SEQLAB_REDIS_URL',
  queuePrefix: 'SEQLAB_QUEUE_PREFIX',
  modelPollMs: 'MODEL_POLL_MS',
  logLevel: 'LOG_LEVEL',
  backend: 'SEQLAB_BACKEND',
};

function finish(parsed: z.output<typeof configSchema>): Config {
  const modelsDir = path.resolve(REPO_ROOT, parsed.modelsDir);
  const resolveModel = (v: string | undefined): string | undefined =>
    v === undefined ? undefined : path.isAbsolute(v) ? v : path.resolve(v.includes('/') || v.includes(path.sep) ? REPO_ROOT : modelsDir, v);
  const dataDir = path.resolve(REPO_ROOT, parsed.dataDir);
  if (parsed.requireKeys && parsed.apiKeys === undefined) throw new ConfigError(['SEQLAB_REQUIRE_KEYS: keys can only be required with a keys file (SEQLAB_API_KEYS)']);
  return {
    ...parsed,
    modelsDir,
    dataDir,
    uploadsDir: parsed.uploadsDir === undefined ? path.join(dataDir, 'uploads') : path.resolve(REPO_ROOT, parsed.uploadsDir),
    apiKeys: parsed.apiKeys === undefined ? undefined : path.resolve(parsed.apiKeys),
    sentimentModel: resolveModel(parsed.sentimentModel),
    generatorModel: resolveModel(parsed.generatorModel),
  };
}

function problemsOf(error: z.ZodError, name: (key: string) => string): string[] {
  return error.issues.map((i) => `${name(String(i.path[0] ?? '?'))}: ${i.message}`);
}

/**
 * Builds a configuration from explicit values (tests and embedding code). Relative model paths
 * containing a slash resolve against the repository root; bare names resolve inside `modelsDir`.
 *
 * @throws {@link ConfigError} naming every invalid field.
 */
export function createConfig(input: ConfigInput = {}): Config {
  const result = configSchema.safeParse(input);
  if (!result.success) throw new ConfigError(problemsOf(result.error, (k) => k));
  return finish(result.data);
}

/**
 * Reads the configuration from environment variables (see {@link Config} for the names).
 *
 * @throws {@link ConfigError} naming every invalid variable and the value's problem.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, string> = {};
  for (const [key, envName] of Object.entries(ENV_NAMES)) {
    const v = env[envName];
    if (v !== undefined && v !== '') raw[key] = v;
    // An explicitly empty model variable means "off", not "default".
    else if (v === '' && (key === 'sentimentModel' || key === 'generatorModel' || key === 'corsOrigins')) raw[key] = '';
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(problemsOf(result.error, (k) => ENV_NAMES[k as keyof Config] ?? k));
  return finish(result.data);
}
