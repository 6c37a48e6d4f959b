import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import cors from 'cors';
import express, { Router, type Express, type RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import { pino, type Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { createJobEngine, BullMqJobEngine, type JobEngine } from '@seqlab/jobs';
import { callerKeyId, identifyCaller, loadKeyRing, requireScope, type KeyRing } from './auth.js';
import type { Config } from './config.js';
import { HttpError, errorMiddleware, hidePaths, redactKeyFromUrl } from './errors.js';
import { createMetrics, type Metrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { findRoute, methodNotAllowed, routeTable } from './route-table.js';
import { classifyRoutes } from './routes/classify.js';
import { jobRoutes } from './routes/jobs.js';
import { modelRoutes } from './routes/models.js';
import { v1Routes } from './routes/v1.js';
import { createSchemas } from './schemas.js';
import type { Services } from './services/services.js';

/** Static demo page and docs (apps/api/public, next to src/ and dist/). */
export const PUBLIC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../public');

const VERSION = '0.1.0';

/** swagger-ui-dist's folder: the /docs renderer's assets are served from the installed package. */
const SWAGGER_UI_DIR = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const SWAGGER_UI_FILES = new Set(['swagger-ui-bundle.js', 'swagger-ui.css']);

/**
 * `/docs`: Swagger UI rendering `/openapi.json`. Its two assets are served from the installed
 * swagger-ui-dist package, so the page works offline and under the default CSP ('self' only).
 */
function docsRoutes(): Router {
  const router = Router();
  router.get(['/docs', '/docs/'], (_req, res) => res.sendFile(path.join(PUBLIC_DIR, 'docs.html')));
  router.get('/docs/ui/:file', (req, res, next) => {
    if (SWAGGER_UI_FILES.has(req.params.file)) res.sendFile(path.join(SWAGGER_UI_DIR, req.params.file), { maxAge: '1d' });
    // The package's other files (its own index page would load the petstore) are not served.
    else next(new HttpError(404, 'not_found', `no file "${req.params.file}" among the docs page's assets`));
  });
  return router;
}

/** Options of {@link createApp}. */
export interface AppOptions {
  /** Logger; default: pino at `config.logLevel` on stdout. */
  logger?: Logger;
  /** The job engine (with a keys file only); default: one made from the configuration by {@link createJobsFor}. */
  jobs?: JobEngine;
}

/** The app plus the pieces `main.ts` and tests need. */
export interface App {
  app: Express;
  metrics: Metrics;
  logger: Logger;
  /** The API keys (undefined when SEQLAB_API_KEYS is not set: job and admin routes are off). */
  keys?: KeyRing;
  /** The job engine (only with keys). */
  jobs?: JobEngine;
  /** Closes what the app started besides the model services (the job engine). */
  close(): Promise<void>;
}

/**
 * The job engine a configuration asks for: BullMQ on SEQLAB_REDIS_URL (with SEQLAB_QUEUE_PREFIX,
 * the workers' --prefix), else in-process; data only from the data and uploads folders.
 */
export function createJobsFor(config: Config): JobEngine {
  const dataDirs = [config.dataDir, config.uploadsDir];
  if (config.redisUrl !== undefined && config.queuePrefix !== undefined) return new BullMqJobEngine({ redisUrl: config.redisUrl, prefix: config.queuePrefix, dataDirs });
  return createJobEngine({ modelsDir: config.modelsDir, dataDirs, env: config.redisUrl === undefined ? {} : { SEQLAB_REDIS_URL: config.redisUrl } });
}

/** Request log lines: no headers (they carry keys and callers' credentials), no `?key=`. */
const requestSerializers = {
  req: (req: { id: unknown; method: string; url: string; remoteAddress?: string }) => ({
    id: req.id,
    method: req.method,
    url: redactKeyFromUrl(req.url),
    remoteAddress: req.remoteAddress,
  }),
  res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
  // A 5xx answer without a thrown error (a 503 from /readyz while models load) gets a made-up
  // error from pino-http; its stack says nothing, so only real errors keep theirs.
  err: (err: { type?: string; message?: string; stack?: string }) =>
    /^failed with status code \d+$/.test(err.message ?? '') ? { message: err.message } : err,
};

const PREDICTION_ROUTES = ['/v1/sentiment', '/v1/classify', '/v1/generate', '/v1/forecast', '/v1/embed', '/v1/similarity'];

// Aborts the request's work and answers 503 when it runs longer than the configured timeout;
// an aborted signal also follows a client that disconnects early.
function timeouts(ms: number): RequestHandler {
  return (req, res, next) => {
    const controller = new AbortController();
    res.locals.signal = controller.signal;
    const timer = setTimeout(() => {
      if (res.headersSent || res.locals.streaming) return;
      controller.abort(new HttpError(503, 'timeout', `request took longer than ${ms} ms`));
      res.set('Retry-After', '1').status(503).json({ error: { code: 'timeout', message: `request took longer than ${ms} ms` } });
    }, ms);
    res.once('close', () => {
      clearTimeout(timer);
      if (!res.writableFinished) controller.abort(new HttpError(499, 'timeout', 'client closed the request'));
    });
    next();
  };
}

/**
 * Request ids on every request, and one log line per request at info level (none for health
 * checks and metrics scrapes).
 */
function requestLogging(logger: Logger): RequestHandler {
  const requestId = (req: IncomingMessage, res: ServerResponse): string => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', id);
    return id;
  };
  if (logger.isLevelEnabled('info')) {
    return pinoHttp({
      logger,
      genReqId: requestId,
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' },
      // Not ready yet is expected while models load: a warning, not an error.
      customLogLevel: (req, res, err) => (err ? 'error' : res.statusCode >= 500 ? (req.url === '/readyz' ? 'warn' : 'error') : res.statusCode >= 400 ? 'warn' : 'info'),
      serializers: requestSerializers,
    });
  }
  // Request lines are info-level: above that pino-http would build a child logger and a finish
  // listener per request only to write nothing. Requests still get their id.
  return (req, res, next) => {
    (req as IncomingMessage & { id: string }).id = requestId(req, res);
    next();
  };
}

/** Health, readiness, metrics, the OpenAPI document (and the fault injector when enabled). */
function operationalRoutes(config: Config, services: Services, metrics: Metrics, openapi: Record<string, unknown>): Router {
  const app = Router();
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', uptimeSeconds: process.uptime() });
  });
  app.get('/readyz', (_req, res) => {
    const r = services.readiness();
    res.status(r.ready ? 200 : 503).json({ status: r.ready ? (r.degraded ? 'degraded' : 'ready') : 'not ready', ...r });
  });
  if (config.faultInjection) {
    // Tests and bench:abuse only (FAULT_INJECTION=on): one worker hits a real wasm trap.
    app.post('/debug/fault', async (_req, res) => {
      const t0 = performance.now();
      const message = await services.injectFault();
      res.json({ fault: message, ms: performance.now() - t0 });
    });
  }
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  return app;
}

/** In front of every /v1 route: caller identification, rate limit, JSON body limit, request timeout. */
function v1Middleware(config: Config, keys: KeyRing | undefined): RequestHandler[] {
  // Before the rate limit, which counts per key where one is given.
  const v1: RequestHandler[] = [identifyCaller(keys)];
  if (config.rateLimitMax > 0) {
    v1.push(
      rateLimit({
        windowMs: config.rateLimitWindowMs,
        limit: config.rateLimitMax,
        standardHeaders: 'draft-7',
        legacyHeaders: false,
        // X-Forwarded-For without a trusted proxy is expected (and ignored), not a misconfiguration.
        validate: { xForwardedForHeader: false },
        keyGenerator: (req, res) => {
          const id = callerKeyId(res);
          return id === undefined ? ipKeyGenerator(req.ip ?? '') : `key:${id}`;
        },
        handler: (_req, res, next, opts) =>
          next(new HttpError(429, 'rate_limited', `more than ${opts.limit} requests in ${Math.round(config.rateLimitWindowMs / 1000)} s from this ${callerKeyId(res) ? 'key' : 'address'}; retry later`)),
      }),
    );
  }
  v1.push(express.json({ limit: config.bodyLimit, strict: true }));
  v1.push(timeouts(config.requestTimeoutMs));
  return v1;
}

/**
 * Builds the Express app: security headers, CORS, logs, metrics, rate limit, body limit and
 * timeouts in front of the `/v1` routes, plus health, readiness, metrics, OpenAPI and the demo.
 * Does not listen; `main.ts` does (tests drive the app directly).
 */
export function createApp(config: Config, services: Services, options: AppOptions = {}): App {
  const logger = options.logger ?? pino({ level: config.logLevel });
  // Answers name models by name: the models folder's absolute path never appears in them.
  hidePaths(config.modelsDir);
  const metrics = createMetrics(services);
  const schemas = createSchemas(config);
  const openapi = openApiDocument(schemas, VERSION, { requireKeys: config.requireKeys });
  const keys = config.apiKeys === undefined ? undefined : loadKeyRing(config.apiKeys);
  const jobs = keys === undefined ? undefined : (options.jobs ?? createJobsFor(config));
  const routes = routeTable({ faultInjection: config.faultInjection });
  const app = express();

  app.disable('x-powered-by');
  // Rate limits and logs key on req.ip: the socket's address unless TRUST_PROXY names the proxies
  // whose X-Forwarded-For is believed (otherwise any client could pick a fresh bucket per request).
  app.set('trust proxy', config.trustProxy);
  // Helmet's defaults, minus upgrade-insecure-requests: behind plain http on a LAN address it
  // would make browsers fetch the demo's own scripts over https and break the page.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  if (config.corsOrigins.length > 0) {
    app.use(cors({ origin: config.corsOrigins.includes('*') ? '*' : config.corsOrigins, maxAge: 600 }));
  }
  app.use(requestLogging(logger));
  app.use((req, res, next) => {
    const label = findRoute(routes, req.path)?.label;
    if (label?.startsWith('/v1/')) res.locals.routeLabel = label;
    next();
  });
  app.use(metrics.middleware);

  app.use(operationalRoutes(config, services, metrics, openapi));
  app.use(docsRoutes());
  app.use(express.static(PUBLIC_DIR, { index: 'index.html', maxAge: '1h' }));

  app.use('/v1', ...v1Middleware(config, keys));
  if (config.requireKeys) app.post(PREDICTION_ROUTES, requireScope(keys, 'predict'));
  app.use(v1Routes(config, services, schemas, metrics));
  app.use(classifyRoutes(schemas, services));
  app.use(jobRoutes(config, schemas, jobs, keys));
  app.use(modelRoutes(config, schemas, keys));

  app.use(methodNotAllowed(routes, PUBLIC_DIR));
  app.use(errorMiddleware(logger));
  return { app, metrics, logger, ...(keys ? { keys } : {}), ...(jobs ? { jobs } : {}), close: async () => jobs?.close() };
}
