import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import cors from 'cors';
import express, { Router, type Express, type RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import { pino, type Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { Config } from './config.js';
import { HttpError, errorMiddleware, hidePaths } from './errors.js';
import { createMetrics, type Metrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { classifyRoutes } from './routes/classify.js';
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
    else next();
  });
  return router;
}

/** Options of {@link createApp}. */
export interface AppOptions {
  /** Logger; default: pino at `config.logLevel` on stdout. */
  logger?: Logger;
}

/** The app plus the pieces `main.ts` and tests need. */
export interface App {
  app: Express;
  metrics: Metrics;
  logger: Logger;
}

const KNOWN_ROUTES = new Set([
  '/v1/sentiment',
  '/v1/classify',
  '/v1/generate',
  '/v1/forecast',
  '/v1/embed',
  '/v1/similarity',
  '/v1/info',
  '/v1/samples/airline-passengers',
]);

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
  const openapi = openApiDocument(schemas, VERSION);
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
  const requestId = (req: IncomingMessage, res: ServerResponse): string => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', id);
    return id;
  };
  if (logger.isLevelEnabled('info')) {
    app.use(
      pinoHttp({
        logger,
        genReqId: requestId,
        autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' },
        // One line per request without headers: they can carry credentials of the callers' apps.
        serializers: {
          req: (req: { id: unknown; method: string; url: string; remoteAddress?: string }) => ({
            id: req.id,
            method: req.method,
            url: req.url,
            remoteAddress: req.remoteAddress,
          }),
          res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
        },
      }),
    );
  } else {
    // Request lines are info-level: above that pino-http would build a child logger and a finish
    // listener per request only to write nothing. Requests still get their id.
    app.use((req, res, next) => {
      (req as IncomingMessage & { id: string }).id = requestId(req, res);
      next();
    });
  }
  app.use((req, res, next) => {
    if (KNOWN_ROUTES.has(req.path)) res.locals.routeLabel = req.path;
    next();
  });
  app.use(metrics.middleware);

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
  app.use(docsRoutes());
  app.use(express.static(PUBLIC_DIR, { index: 'index.html', maxAge: '1h' }));

  const v1: RequestHandler[] = [];
  if (config.rateLimitMax > 0) {
    v1.push(
      rateLimit({
        windowMs: config.rateLimitWindowMs,
        limit: config.rateLimitMax,
        standardHeaders: 'draft-7',
        legacyHeaders: false,
        // X-Forwarded-For without a trusted proxy is expected (and ignored), not a misconfiguration.
        validate: { xForwardedForHeader: false },
        handler: (_req, _res, next, opts) =>
          next(new HttpError(429, 'rate_limited', `more than ${opts.limit} requests in ${Math.round(config.rateLimitWindowMs / 1000)} s from this address; retry later`)),
      }),
    );
  }
  v1.push(express.json({ limit: config.bodyLimit, strict: true }));
  v1.push(timeouts(config.requestTimeoutMs));
  app.use('/v1', ...v1);
  app.use(v1Routes(config, services, schemas, metrics));
  app.use(classifyRoutes(schemas, services));

  app.use((req, res, next) => {
    if (KNOWN_ROUTES.has(req.path)) {
      res.set('Allow', req.path.startsWith('/v1/samples') || req.path === '/v1/info' ? 'GET' : 'POST');
      next(new HttpError(405, 'method_not_allowed', `${req.method} is not allowed on ${req.path}`));
    } else next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}`));
  });
  app.use(errorMiddleware(logger));
  return { app, metrics, logger };
}
