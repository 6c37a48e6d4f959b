import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { TrainOptions, TrainProgress, TrainResult } from '@seqlab/rnn';
import { note } from './cli.js';
import { InterruptedError, NotFoundError, UsageError } from './errors.js';
import type { CurvePoint } from './plots.js';
import { TrainingProgress, formatSeconds } from './progress.js';

/*
 * What `train classifier` and `train lm` share: the run directory layout, resume, Ctrl-C
 * handling, progress bars and the training-curve plot. The training loop itself is
 * @seqlab/rnn's `train` (checkpoints, early stopping, resume state).
 *
 * Run directory (--out DIR):
 *   DIR/run.json          the options of the run, so `--resume DIR` needs no other flags
 *   DIR/checkpoints/      last/, best/ and state.json written by train() after every epoch
 *   DIR/training-curve.png, DIR/training.json, and the final model files
 */

/** File that records a run's options. */
export const RUN_FILE = 'run.json';

/** The saved options of a run, read back by `--resume`. */
export interface RunRecord<O> {
  task: 'classifier' | 'lm';
  options: O;
}

/**
 * Merges the options of a run being resumed with the flags given now: flags typed on the
 * command line win (e.g. a larger `--epochs`), defaults do not.
 */
export function resumeOptions<O extends Record<string, unknown>>(
  dir: string,
  task: RunRecord<O>['task'],
  cmd: Command,
  raw: Record<string, unknown>,
): Record<string, unknown> {
  const file = join(dir, RUN_FILE);
  if (!existsSync(dir)) throw new NotFoundError(`--resume: run directory not found: ${dir}`);
  if (!existsSync(file)) throw new NotFoundError(`--resume: ${dir} has no ${RUN_FILE}; was it written by \`seqlab train ${task}\`?`);
  const record = JSON.parse(readFileSync(file, 'utf8')) as RunRecord<O>;
  if (record.task !== task) throw new UsageError(`--resume: ${dir} is a ${record.task} run, not a ${task} run`);
  const merged: Record<string, unknown> = { ...record.options };
  for (const [key, value] of Object.entries(raw)) {
    if (cmd.getOptionValueSource(key) === 'cli') merged[key] = value;
  }
  return merged;
}

/** Turns the loop's events into progress bars / lines and curve points; handles Ctrl-C. */
export class TrainingSession {
  readonly curve: CurvePoint[] = [];
  private readonly progress: TrainingProgress;
  private interrupted = false;
  private currentEpoch = 0;
  private readonly onSignal = () => {
    if (this.interrupted) {
      // A second Ctrl-C means now.
      process.stderr.write('\nseqlab: interrupted again; exiting without waiting\n');
      process.exit(130);
    }
    this.interrupted = true;
    process.stderr.write('\nseqlab: interrupt received; stopping (the last finished epoch is checkpointed)\n');
  };

  constructor(
    readonly epochs: number,
    private readonly runDir: string,
    private readonly resumeHint: string,
    options: { quiet: boolean },
  ) {
    this.progress = new TrainingProgress(epochs, { quiet: options.quiet });
  }

  /** Runs `fn` (which calls `train`) with SIGINT/SIGTERM turned into a clean stop. */
  async run(fn: (onProgress: TrainOptions['onProgress']) => Promise<TrainResult>): Promise<TrainResult> {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    try {
      return await fn((e) => this.onProgress(e));
    } finally {
      process.off('SIGINT', this.onSignal);
      process.off('SIGTERM', this.onSignal);
      this.progress.stop();
    }
  }

  private lastYield = performance.now();

  private async onProgress(e: TrainProgress): Promise<void> {
    const epoch = e.epoch + 1;
    // The loop only awaits already-resolved promises between batches, so signal handlers (which
    // run from the event loop) would wait for the next checkpoint write; yield now and then.
    if (performance.now() - this.lastYield > 200) {
      await new Promise((r) => setImmediate(r));
      this.lastYield = performance.now();
    }
    if (e.type === 'batch') {
      if (e.batch === 0 || epoch !== this.currentEpoch) {
        this.currentEpoch = epoch;
        this.progress.epochStart(epoch, e.batchesPerEpoch);
      }
      this.progress.step(e.batch + 1, { loss: e.loss, acc: e.metrics.accuracy }, e.etaSeconds);
    } else if (e.type === 'epoch') {
      const m = e.metrics;
      this.curve.push({ epoch, metric: 'loss', split: 'train', value: e.loss });
      if (m.accuracy !== undefined) this.curve.push({ epoch, metric: 'accuracy', split: 'train', value: m.accuracy });
      if (m.val_loss !== undefined) this.curve.push({ epoch, metric: 'loss', split: 'validation', value: m.val_loss });
      if (m.val_accuracy !== undefined) this.curve.push({ epoch, metric: 'accuracy', split: 'validation', value: m.val_accuracy });
      this.progress.epochEnd(
        epoch,
        { loss: e.loss, acc: m.accuracy, val_loss: m.val_loss, val_acc: m.val_accuracy },
        `checkpoint saved | run ETA ${formatSeconds(e.etaSeconds)}`,
      );
    }
    if (this.interrupted) {
      const where =
        e.type === 'epoch'
          ? `interrupted after epoch ${epoch} (checkpointed)`
          : `interrupted during epoch ${epoch}; its partial progress is dropped and the run resumes after epoch ${epoch - 1}`;
      throw new InterruptedError(`${where}; checkpoints are in ${join(this.runDir, 'checkpoints')}; continue with: ${this.resumeHint}`);
    }
  }
}

/** Training-curve points from a resumed run's saved history (so the plot covers the whole run). */
/** The 1-based epoch the time budget cut short (the last one, when it is partial), for the plot's marker. */
export function partialEpochOf(history: TrainResult['history']): number | undefined {
  const last = history.at(-1);
  return last?.partial ? last.epoch + 1 : undefined;
}

export function curveFromHistory(history: TrainResult['history']): CurvePoint[] {
  const out: CurvePoint[] = [];
  for (const h of history) {
    const epoch = h.epoch + 1;
    out.push({ epoch, metric: 'loss', split: 'train', value: h.loss });
    if (Number.isFinite(h.accuracy)) out.push({ epoch, metric: 'accuracy', split: 'train', value: h.accuracy });
    if (h.val_loss !== undefined) out.push({ epoch, metric: 'loss', split: 'validation', value: h.val_loss });
    if (h.val_accuracy !== undefined) out.push({ epoch, metric: 'accuracy', split: 'validation', value: h.val_accuracy });
  }
  return out;
}

/** Prints where a resumed run picks up. */
export function announceResume(completed: number, epochs: number): void {
  if (completed > 0) note(`seqlab: resuming from epoch ${completed} (${completed} of ${epochs} epochs done)`);
  else note('seqlab: no finished epoch to resume from; starting from the beginning');
}

/**
 * Disposes a trained model and the optimizer `train` attached to it: tfjs-layers only frees
 * optimizers it created itself, so Adam's moment estimates would otherwise outlive the model.
 */
export function disposeTrained(model: { dispose(): void }): void {
  const optimizer = (model as { optimizer?: { dispose(): void } }).optimizer;
  model.dispose();
  optimizer?.dispose();
}
