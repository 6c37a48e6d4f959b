/**
 * @packageDocumentation
 * The seqlab HTTP service: sentiment, generation, forecasting and embeddings behind Express,
 * with model work in worker threads and micro-batching. `main.ts` is the runnable entry;
 * this module exports the parts for embedding and tests.
 */
export { createApp, createJobsFor, PUBLIC_DIR, type App, type AppOptions } from './app.js';
export { API_SCOPES, loadKeyRing, hashApiKey, findApiKey, identifyCaller, requireScope, callerKeyId, type ApiKey, type ApiScope, type KeyRing } from './auth.js';
export { jobRoutes, jobView } from './routes/jobs.js';
export { modelRoutes, listStoredModels, type ModelEntry } from './routes/models.js';
export { routeTable, findRoute, methodNotAllowed, type RouteEntry } from './route-table.js';
export { createConfig, loadConfig, ConfigError, REPO_ROOT, type Config, type ConfigInput } from './config.js';
export { HttpError, WorkerError, HTTP_BY_CODE, errorMiddleware, toHttpError, redactPaths, redactKeyFromUrl, hidePaths, type ErrorCode, type FieldIssue, type WorkerErrorKind } from './errors.js';
export { createMetrics, type Metrics } from './metrics.js';
export { openApiDocument, type OpenApiOptions } from './openapi.js';
export { createSchemas, type Schemas, type SentimentRequest, type GenerateRequest, type ForecastRequest } from './schemas.js';
export { MicroBatcher, type MicroBatcherOptions } from './services/batcher.js';
export {
  createModelServices,
  readinessOf,
  resolveModelName,
  type Services,
  type CallOptions,
  type Readiness,
} from './services/services.js';
export { startServer, type RunningServer, type ShutdownReport } from './server.js';
export { admitTask, HEAVY_FORECAST_FLOPS, type Admission, type CostLimits } from './limits.js';
export {
  WorkerPool,
  type WorkerPoolOptions,
  type RunOptions,
  type PoolHealth,
  type CloseReport,
  type ReplacementEvent,
  type WorkerMemoryReport,
  type RetirementReason,
} from './workers/pool.js';
export type * from './workers/protocol.js';
