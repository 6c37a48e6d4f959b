import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { HttpError, WorkerError } from '../errors.js';
import type { FromWorker, Task, ToWorker, WorkerInit, WorkerStatus } from './protocol.js';

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** Number of worker threads. */
  size: number;
  /** In-flight tasks per worker beyond which new tasks are refused with 503. */
  maxQueue: number;
  /** Called when a worker dies unexpectedly (it is replaced). */
  onCrash?: (err: unknown) => void;
}

interface InFlight {
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  onChunk?: (text: string) => void;
}

interface Slot {
  worker: Worker;
  inFlight: Map<number, InFlight>;
  status?: WorkerStatus;
  numTensors: number;
  ready: Promise<void>;
  exited: boolean;
}

/** Per-call options of {@link WorkerPool.run}. */
export interface RunOptions {
  /** Aborting cancels the task (queued work is skipped, a stream stops at the next token). */
  signal?: AbortSignal;
  /** Receives streamed text pieces (`stream` tasks). */
  onChunk?: (text: string) => void;
}

// Workers started from TypeScript source (npm start, vitest) need tsx and the source condition;
// the compiled dist starts plain JavaScript workers. A worker's own entry module is loaded before
// `--import` hooks apply on Node 20, so the TS case boots through a tiny eval'd script that
// registers tsx first and then imports the real entry.
function spawn(init: WorkerInit): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const require = createRequire(here);
    const tsxApi = pathToFileURL(path.join(path.dirname(require.resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
    const entry = new URL('./worker.ts', here).href;
    const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })
      .catch((err) => { console.error(err); process.exit(1); });`;
    return new Worker(boot, { eval: true, workerData: init, execArgv: ['--conditions=@seqlab/source'] });
  }
  return new Worker(new URL('./worker.js', here), { workerData: init });
}

/**
 * A small pool of model worker threads. Model execution (tokenising, TensorFlow.js kernels,
 * forecaster fitting) happens there, so the HTTP thread stays free to answer health checks
 * and stream responses while the models are busy.
 */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closing = false;

  constructor(
    private readonly init: WorkerInit,
    private readonly options: WorkerPoolOptions,
  ) {
    for (let i = 0; i < options.size; i++) this.slots.push(this.createSlot());
  }

  /** Resolves when every worker has finished loading its models (successfully or not). */
  async whenReady(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.ready));
  }

  /** Last status each worker reported (undefined while still loading). */
  statuses(): Array<WorkerStatus | undefined> {
    return this.slots.map((s) => s.status);
  }

  /** Whether {@link close} has been called (readiness turns false so load balancers move on). */
  get isClosing(): boolean {
    return this.closing;
  }

  /** Live tensors summed over all workers, as of each worker's last finished task. */
  numTensors(): number {
    return this.slots.reduce((a, s) => a + s.numTensors, 0);
  }

  /** Tasks currently running or queued in workers. */
  inFlight(): number {
    return this.slots.reduce((a, s) => a + s.inFlight.size, 0);
  }

  /** Sends `task` to the least busy worker and resolves with its result. */
  run<T>(task: Task, options: RunOptions = {}): Promise<T> {
    if (this.closing) return Promise.reject(new HttpError(503, 'overloaded', 'server is shutting down'));
    const slot = this.slots.reduce((best, s) => (s.inFlight.size < best.inFlight.size ? s : best));
    if (slot.inFlight.size >= this.options.maxQueue) {
      return Promise.reject(new HttpError(503, 'overloaded', `model workers are saturated (${this.inFlight()} tasks queued); retry later`));
    }
    const { signal, onChunk } = options;
    if (signal?.aborted) return Promise.reject(new WorkerError('cancelled', 'request was cancelled'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => slot.worker.postMessage({ type: 'cancel', id } satisfies ToWorker);
      signal?.addEventListener('abort', onAbort, { once: true });
      slot.inFlight.set(id, {
        resolve: (v) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(v as T);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
        onChunk,
      });
      slot.worker.postMessage({ type: 'task', id, task } satisfies ToWorker);
    });
  }

  /** Stops accepting work, waits up to `timeoutMs` for running tasks, then ends the threads. */
  async close(timeoutMs = 10_000): Promise<void> {
    this.closing = true;
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await Promise.all(
      this.slots.map(async (s) => {
        s.exited = true;
        await s.worker.terminate();
      }),
    );
  }

  private createSlot(): Slot {
    const worker = spawn(this.init);
    let markReady!: () => void;
    const slot: Slot = {
      worker,
      inFlight: new Map(),
      numTensors: 0,
      ready: new Promise<void>((r) => (markReady = r)),
      exited: false,
    };
    worker.on('message', (msg: FromWorker) => {
      switch (msg.type) {
        case 'ready':
          slot.status = msg.status;
          slot.numTensors = msg.status.numTensors;
          markReady();
          break;
        case 'chunk':
          slot.inFlight.get(msg.id)?.onChunk?.(msg.text);
          break;
        case 'result': {
          slot.numTensors = msg.numTensors;
          const t = slot.inFlight.get(msg.id);
          slot.inFlight.delete(msg.id);
          t?.resolve(msg.value);
          break;
        }
        case 'error': {
          if (msg.numTensors !== undefined) slot.numTensors = msg.numTensors;
          const t = slot.inFlight.get(msg.id);
          slot.inFlight.delete(msg.id);
          t?.reject(new WorkerError(msg.kind, msg.message));
          break;
        }
      }
    });
    const fail = (err: unknown) => {
      if (slot.exited) return;
      slot.exited = true;
      markReady();
      for (const t of slot.inFlight.values()) t.reject(new WorkerError('internal', `model worker stopped: ${String(err)}`));
      slot.inFlight.clear();
      if (!this.closing) {
        this.options.onCrash?.(err);
        const i = this.slots.indexOf(slot);
        if (i >= 0) this.slots[i] = this.createSlot();
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    return slot;
  }
}
