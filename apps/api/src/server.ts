import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { JobEngine } from '@seqlab/jobs';
import { createApp } from './app.js';
import type { Config } from './config.js';
import { createModelServices, type Services } from './services/services.js';

/** How a graceful shutdown ended. */
export interface ShutdownReport {
  /** Requests answered 503 `shutting_down` because they could not finish within the timeout. */
  abandoned: number;
  /** Milliseconds from the start of the shutdown to its end. */
  ms: number;
}

/** A listening service: the HTTP server, its services and a graceful `close`. */
export interface RunningServer {
  server: Server;
  services: Services;
  /** The job engine (only with API keys). */
  jobs?: JobEngine;
  logger: Logger;
  /** `http://host:port` actually bound (useful with PORT=0). */
  url: string;
  /**
   * Graceful shutdown in three steps: for `config.drainMs` /readyz answers 503 while requests
   * are still accepted (a load balancer stops sending); then new connections are refused and
   * in-flight work gets up to `config.shutdownTimeoutMs` to finish; whatever is still queued or
   * running then is answered 503 `shutting_down` before connections close and workers stop.
   */
  close(): Promise<ShutdownReport>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Starts workers and the HTTP server on `config.host:config.port`. */
export async function startServer(config: Config, services: Services = createModelServices(config)): Promise<RunningServer> {
  const created = createApp(config, services);
  const { app, logger } = created;
  const server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  // Slow clients cannot hold sockets forever: headers within 10 s, whole request within the timeout.
  server.headersTimeout = 10_000;
  server.requestTimeout = config.requestTimeoutMs + 5_000;
  server.keepAliveTimeout = 5_000;
  const address = server.address() as AddressInfo;
  const url = `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;
  logger.info({ url, workers: config.workers, sentimentModel: config.sentimentModel, generatorModel: config.generatorModel }, 'listening');

  let closing: Promise<ShutdownReport> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const t0 = Date.now();
      // /readyz turns 503 at once; requests keep being served during the drain window.
      services.drain();
      if (config.drainMs > 0) {
        logger.info({ drainMs: config.drainMs }, 'shutting down: draining (readiness 503, still serving)');
        await sleep(config.drainMs);
      }
      logger.info('shutting down: refusing new connections, finishing in-flight requests');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive sockets become idle as their last response finishes; close them as they do.
      server.closeIdleConnections();
      const sweeper = setInterval(() => server.closeIdleConnections(), 25);
      // Model work gets the timeout; what is left is answered 503 so no caller sees a reset.
      // Running in-process jobs are cancelled (a Redis engine only drops its connections: workers go on).
      const [report] = await Promise.all([services.close(config.shutdownTimeoutMs), created.close()]);
      if (report.abandoned > 0) logger.warn({ abandoned: report.abandoned }, 'shutdown timeout: answered unfinished requests with 503');
      // Responses just written need a moment to leave; then whatever is still open is cut.
      const flushed = await Promise.race([closed.then(() => true), sleep(Math.min(1000, config.shutdownTimeoutMs + 100)).then(() => false)]);
      if (!flushed) {
        logger.warn('shutdown: closing remaining connections');
        server.closeAllConnections();
        await closed;
      }
      clearInterval(sweeper);
      logger.info({ abandoned: report.abandoned }, 'shutdown complete');
      return { abandoned: report.abandoned, ms: Date.now() - t0 };
    })());
  return { server, services, logger, url, close, ...(created.jobs ? { jobs: created.jobs } : {}) };
}
