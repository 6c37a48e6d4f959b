import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createApp } from './app.js';
import type { Config } from './config.js';
import { createModelServices, type Services } from './services/services.js';

/** A listening service: the HTTP server, its services and a graceful `close`. */
export interface RunningServer {
  server: Server;
  services: Services;
  logger: Logger;
  /** `http://host:port` actually bound (useful with PORT=0). */
  url: string;
  /**
   * Graceful shutdown: stop accepting connections, let in-flight requests finish (up to
   * `config.shutdownTimeoutMs`), then stop the model workers.
   */
  close(): Promise<void>;
}

/** Starts workers and the HTTP server on `config.host:config.port`. */
export async function startServer(config: Config, services: Services = createModelServices(config)): Promise<RunningServer> {
  const { app, logger } = createApp(config, services);
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

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      logger.info('shutting down: finishing in-flight requests');
      // /readyz turns 503 at once; requests already accepted still complete.
      services.drain();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive sockets become idle as their last response finishes; close them as they do.
      server.closeIdleConnections();
      const sweeper = setInterval(() => server.closeIdleConnections(), 25);
      const timer = setTimeout(() => {
        logger.warn('shutdown timeout: closing remaining connections');
        server.closeAllConnections();
      }, config.shutdownTimeoutMs);
      await closed;
      clearTimeout(timer);
      clearInterval(sweeper);
      await services.close(config.shutdownTimeoutMs);
      logger.info('shutdown complete');
    })());
  return { server, services, logger, url, close };
}
