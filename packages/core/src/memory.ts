import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

/**
 * Runs a full garbage collection now. For the seams of a long job whose stages each build large
 * typed arrays (a training run's feature matrices, hundreds of MB on a large corpus): shared
 * array buffers are freed only when collected, and V8 sees no heap pressure from them, so
 * without this the matrix of a finished stage was still resident while the next stage built its
 * own (a 250,000-review run held the tf-idf matrix through the whole fastText fit, about 500 MB
 * of its peak). Costs a few hundred milliseconds on a heap of hundreds of MB: call it between
 * stages, never per item.
 */
export function releaseMemory(): void {
  if (!collect) {
    // `gc` is reachable only with --expose-gc; set at run time it applies to new contexts.
    v8.setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}

/**
 * Calls {@link releaseMemory} every `ms` milliseconds (when the event loop is free) until the
 * returned function is called. For a long job that keeps a large live heap (a corpus's texts):
 * V8 lets garbage grow to about the live size again before it collects, so a 600 MB heap
 * floated up to 1.2 GB of RSS between collections.
 */
export function releaseMemoryEvery(ms: number): () => void {
  const timer = setInterval(releaseMemory, ms);
  // Never the reason a finished program stays alive.
  timer.unref();
  return () => clearInterval(timer);
}
