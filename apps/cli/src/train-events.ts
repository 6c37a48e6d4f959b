import cliProgress from 'cli-progress';
import type { TrainEvent } from '@seqlab/tasks';
import { fmt, note } from './cli.js';
import { formatSeconds } from './progress.js';

/** Options of {@link trainEventPrinter}. */
export interface TrainEventPrinterOptions {
  /** Print nothing (`--json`). */
  quiet?: boolean;
  /** Draw redrawn bars (a terminal) rather than plain lines. Default: stderr is a terminal. */
  tty?: boolean;
}

function metricText(metrics: Record<string, number>): string {
  return Object.entries(metrics)
    .filter(([, v]) => Number.isFinite(v))
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(' | ');
}

/**
 * Renders `train()`'s progress events on stderr, so stdout stays clean for `--json` and pipes:
 * stages as notes; on a terminal a bar per epoch or item stage with its ETA; elsewhere plain lines
 * (one per epoch, and at most one every 10 s inside a long stage), so no stage is silent in a log.
 * Every CLI `train *` command uses this one printer. Call `stop()` when the run ends.
 */
export function trainEventPrinter(options: TrainEventPrinterOptions = {}): { onProgress: (e: TrainEvent) => void; stop: () => void } {
  const tty = options.tty ?? process.stderr.isTTY === true;
  let bar: cliProgress.SingleBar | undefined;
  let barKey = '';
  let lastLine = 0;
  const stop = (): void => {
    bar?.stop();
    bar = undefined;
    barKey = '';
  };
  const who = (e: { candidate?: string }): string => (e.candidate ? `${e.candidate}: ` : '');
  const ensureBar = (key: string, total: number, format: string): cliProgress.SingleBar => {
    if (bar && barKey === key) return bar;
    stop();
    bar = new cliProgress.SingleBar({ stream: process.stderr, format, hideCursor: true, clearOnComplete: false, etaBuffer: 20 }, cliProgress.Presets.shades_classic);
    bar.start(Math.max(1, total), 0, { metrics: '' });
    barKey = key;
    return bar;
  };
  const onProgress = (e: TrainEvent): void => {
    if (options.quiet) return;
    switch (e.type) {
      case 'stage':
        stop();
        note(e.message);
        return;
      case 'epoch': {
        stop();
        const eta = e.etaSeconds !== undefined ? ` | ETA ${formatSeconds(e.etaSeconds)}` : '';
        const text = metricText(e.metrics);
        process.stderr.write(`${who(e)}epoch ${e.epoch}/${e.epochs}${text ? ` | ${text}` : ''} | ${e.seconds.toFixed(1)}s${e.partial ? ' (partial: time budget)' : ''}${eta}\n`);
        return;
      }
      case 'batch': {
        if (tty) {
          ensureBar(`${e.candidate}:${e.epoch}`, e.batches, `${who(e)}epoch ${e.epoch}/${e.epochs} |{bar}| {value}/{total} | {metrics} | ETA {eta_formatted}`).update(e.batch, { metrics: metricText(e.metrics) });
        } else if (performance.now() - lastLine >= 10_000 && e.batch < e.batches) {
          lastLine = performance.now();
          const eta = e.etaSeconds !== undefined ? `, ETA ${formatSeconds(e.etaSeconds)}` : '';
          process.stderr.write(`${who(e)}epoch ${e.epoch}/${e.epochs}: batch ${e.batch}/${e.batches}${eta}\n`);
        }
        return;
      }
      case 'items': {
        if (tty) {
          ensureBar(`${e.candidate}:${e.stage}`, e.total, `${who(e)}${e.stage} |{bar}| {value}/{total} | ETA {eta_formatted}`).update(e.done);
          if (e.done >= e.total) stop();
        } else if (performance.now() - lastLine >= 10_000 && e.done < e.total) {
          lastLine = performance.now();
          const eta = e.etaSeconds !== undefined ? `, ETA ${formatSeconds(e.etaSeconds)}` : '';
          process.stderr.write(`${who(e)}${e.stage}: ${e.done}/${e.total}${eta}\n`);
        }
        return;
      }
    }
  };
  return { onProgress, stop };
}
