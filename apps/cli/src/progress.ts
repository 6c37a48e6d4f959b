import cliProgress from 'cli-progress';
import { fmt } from './cli.js';

/** Per-step or per-epoch numbers shown next to the bar (loss, accuracy, ...). */
export type Metrics = Record<string, number | undefined>;

function metricText(metrics: Metrics): string {
  return Object.entries(metrics)
    .filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]))
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(' | ');
}

/** `75` -> `1m15s`. */
export function formatSeconds(s: number): string {
  const t = Math.max(0, Math.round(s));
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * Training progress on stderr, so stdout stays clean for `--json` and piped output. On a
 * terminal it is a cli-progress bar per epoch (steps, loss and metrics, ETA); elsewhere (CI
 * logs, tests, pipes) one plain line per epoch, because redrawn bars turn into noise there.
 */
export class TrainingProgress {
  private bar: cliProgress.SingleBar | undefined;
  private readonly tty: boolean;
  private readonly startedAt = Date.now();

  constructor(
    private readonly totalEpochs: number,
    options: { quiet?: boolean; tty?: boolean } = {},
  ) {
    this.tty = options.tty ?? process.stderr.isTTY === true;
    this.quiet = options.quiet ?? false;
  }

  private readonly quiet: boolean;

  /** Starts the bar for `epoch` (1-based) with `steps` batches. */
  epochStart(epoch: number, steps: number): void {
    if (this.quiet || !this.tty) return;
    this.bar?.stop();
    this.bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `epoch ${epoch}/${this.totalEpochs} |{bar}| {value}/{total} | {metrics} | epoch ETA {eta_formatted}{run}`,
        barCompleteChar: '\u2588',
        barIncompleteChar: '\u2591',
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(Math.max(1, steps), 0, { metrics: '', run: '' });
  }

  /** Advances the bar to `step` (1-based within the epoch). */
  step(step: number, metrics: Metrics, runEtaSeconds?: number): void {
    if (this.quiet || !this.bar) return;
    const run = runEtaSeconds !== undefined && Number.isFinite(runEtaSeconds) ? ` | run ETA ${formatSeconds(runEtaSeconds)}` : '';
    this.bar.update(step, { metrics: metricText(metrics), run });
  }

  /** Closes the epoch's bar and, off a terminal, prints one line for it. */
  epochEnd(epoch: number, metrics: Metrics, extra = ''): void {
    if (this.quiet) return;
    if (this.bar) {
      this.bar.update({ metrics: metricText(metrics) });
      this.bar.stop();
      this.bar = undefined;
      if (extra) process.stderr.write(`  ${extra}\n`);
      return;
    }
    const elapsed = (Date.now() - this.startedAt) / 1000;
    const text = metricText(metrics);
    const of = this.totalEpochs > 0 ? `/${this.totalEpochs}` : '';
    process.stderr.write(
      `epoch ${epoch}${of}${text ? ` | ${text}` : ''} | ${elapsed.toFixed(1)}s${extra ? ` | ${extra}` : ''}\n`,
    );
  }

  /** Stops any bar still drawn (on errors and interrupts). */
  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

/**
 * Progress over a list of items (texts scored, embedded, ...) on stderr: a bar with rate and ETA
 * on a terminal; elsewhere a plain line at most every 10 seconds, so a long evaluation is never
 * silent and logs stay short.
 */
export class ItemProgress {
  private bar: cliProgress.SingleBar | undefined;
  private readonly startedAt = performance.now();
  private lastLine = performance.now();

  private readonly quiet: boolean;

  constructor(
    private readonly what: string,
    private readonly total: number,
    options: { quiet?: boolean; tty?: boolean } = {},
  ) {
    this.quiet = options.quiet ?? false;
    if (this.quiet) return;
    const tty = options.tty ?? process.stderr.isTTY === true;
    if (tty) {
      this.bar = new cliProgress.SingleBar(
        { stream: process.stderr, format: `${what} |{bar}| {value}/{total} | {rate}/s | ETA {eta_formatted}`, hideCursor: true, etaBuffer: 50 },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(Math.max(1, total), 0, { rate: '0' });
    }
  }

  /** `done` items finished so far. */
  update(done: number): void {
    if (this.quiet) return;
    const seconds = (performance.now() - this.startedAt) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    if (this.bar) {
      this.bar.update(done, { rate: rate.toFixed(0) });
      return;
    }
    if (performance.now() - this.lastLine >= 10_000 && done < this.total) {
      this.lastLine = performance.now();
      const eta = rate > 0 ? (this.total - done) / rate : NaN;
      process.stderr.write(`${this.what}: ${done}/${this.total} (${rate.toFixed(0)}/s, ETA ${Number.isFinite(eta) ? formatSeconds(eta) : '?'})\n`);
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
