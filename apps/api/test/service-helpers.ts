/**
 * What the service tests share: a service started in-process (config, real model workers and the
 * Express app), an app listening on a free port, and their shutdown.
 */
import { rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, createConfig, createModelServices, type App, type Config, type ConfigInput, type Services } from '../src/index.js';

/** A service with no model loaded at start and one model worker: jobs and docs need no models. */
export const NO_MODELS = { sentimentModel: 'off', generatorModel: 'off', embeddings: false, workers: 1, spareWorkers: 0 } as const satisfies ConfigInput;

/** A started service: its configuration, model workers and app. */
export interface TestService {
  config: Config;
  services: Services;
  app: App['app'];
}

/** Builds the configuration, starts the model workers, waits until every model loaded, then builds the app. */
export async function startService(input: ConfigInput, appOptions?: Parameters<typeof createApp>[2]): Promise<TestService> {
  const config = createConfig(input);
  const services = createModelServices(config);
  await services.whenReady();
  return { config, services, app: createApp(config, services, appOptions).app };
}

/** Closes the model workers (if they started) and removes the test's temporary folder (if made). */
export async function stopService(services: Services | undefined, dir?: string): Promise<void> {
  await services?.close(2000);
  if (dir) await rm(dir, { recursive: true, force: true });
}

/** Listens on a free port of 127.0.0.1; resolves with the server and its base URL. */
export function listen(app: App['app']): Promise<{ server: Server; base: string }> {
  return new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve({ server: s, base: `http://127.0.0.1:${(s.address() as AddressInfo).port}` }));
  });
}

/** Stops a listening server at once, open connections included. */
export function closeServer(server: Server | undefined): void {
  server?.closeAllConnections();
  server?.close();
}
