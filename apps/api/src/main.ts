/**
 * Entry point: `npm start` from the repository root. Configuration comes from environment
 * variables (see README.md); SIGTERM/SIGINT shut down gracefully.
 */
import { ConfigError, loadConfig } from './config.js';
import { startServer } from './server.js';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`seqlab api: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

const running = await startServer(config);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    running.logger.info({ signal }, 'signal received');
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        running.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
