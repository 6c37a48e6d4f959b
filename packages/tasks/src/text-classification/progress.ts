import type { TrainEvent } from '../training/types.js';

/** A fit's own progress report: `done` of `total` units in a named stage (featurize, fit, score ...). */
export interface StageProgress {
  stage: string;
  done: number;
  total: number;
}

/**
 * Turns a fit's `{ stage, done, total }` reports into `items` events with an ETA from the
 * stage's own pace so far, so every long stage (featurizing a corpus, the L-BFGS grid, scoring
 * validation rows) shows how far it is and how long it has left.
 */
export function itemsWithEta(emit: (event: TrainEvent) => void, candidate?: string): (progress: StageProgress) => void {
  let stage = '';
  let started = 0;
  return ({ stage: name, done, total }) => {
    if (name !== stage) {
      stage = name;
      started = performance.now();
    }
    const elapsed = (performance.now() - started) / 1000;
    const etaSeconds = done > 0 ? (elapsed / done) * Math.max(0, total - done) : undefined;
    emit({ type: 'items', stage: name, ...(candidate ? { candidate } : {}), done, total, ...(etaSeconds !== undefined ? { etaSeconds } : {}) });
  };
}
