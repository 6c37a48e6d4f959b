import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { NotFoundError, UsageError } from './errors.js';
import type { CurvePoint } from './plots.js';

/*
 * What the CLI's `train *` commands share: the record of a run's options for `--resume`, and
 * the training-curve points of a report's history. Training itself is @seqlab/tasks' train().
 *
 * Folders (--out DIR):
 *   DIR.run/              the run folder: checkpoints (last/, best/, state.json) and run.json,
 *                         the options of the run, so `--resume DIR` needs no other flags;
 *                         removed after a successful run
 *   DIR/                  the model: its files, training.json and the training-curve plot
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

/** One epoch of a training report's history (what the curve reads). */
export interface HistoryEpoch {
  /** 0-based. */
  epoch: number;
  loss: number;
  accuracy: number;
  val_loss?: number;
  val_accuracy?: number;
  partial?: boolean;
}

/** The 1-based epoch the time budget cut short (the last one, when it is partial), for the plot's marker. */
export function partialEpochOf(history: readonly HistoryEpoch[]): number | undefined {
  const last = history.at(-1);
  return last?.partial ? last.epoch + 1 : undefined;
}

/** Training-curve points from a run's history (a resumed run's covers the whole run). */
export function curveFromHistory(history: readonly HistoryEpoch[]): CurvePoint[] {
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
