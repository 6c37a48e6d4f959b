/**
 * Entry point: `npm start` from the repository root. Configuration comes from environment
 * variables (see README.md); SIGTERM/SIGINT shut down gracefully.
 *
 * Exit codes: 0 every request finished; 2 invalid configuration; 3 the shutdown timeout ran
 * out and unfinished requests were answered 503; 1 the shutdown itself failed.
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

let running;
try {
  running = await startServer(config);
} catch (err) {
  // A bad keys file is found while the app is built: the same one-line answer as any bad setting.
  if (err instanceof ConfigError) {
    process.stderr.write(`seqlab api: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}
// One plain line beside the JSON logs, for whoever started the service by hand.
if (config.logLevel !== 'silent') process.stderr.write(`seqlab api: listening on ${running.url}${running.jobs ? ' (jobs on)' : ''}\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    running.logger.info({ signal }, 'signal received');
    running.close().then(
      (report) => process.exit(report.abandoned > 0 ? 3 : 0),
      (err: unknown) => {
        running.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
