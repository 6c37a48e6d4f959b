import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CancelledError } from '@seqlab/core';
import { HttpError, WorkerError } from '../errors.js';
import type { FromWorker, Task, ToWorker, WorkerInit, WorkerMemory, WorkerStatus } from './protocol.js';

/** Why a worker was retired and replaced. */
export type RetirementReason =
  /** A task hit a backend fault (wasm trap, out of memory, corrupt weights). */
  | 'fault'
  /** The thread died on its own (uncaught error, exit). */
  | 'crash'
  /** A cancelled task did not stop within the grace period (stuck in code that cannot check). */
  | 'stuck'
  /** Its WebAssembly memory grew past `maxWasmMb` (recycled after its task, without failing one). */
  | 'memory';

/** Reported once a replacement worker has loaded its models. */
export interface ReplacementEvent {
  reason: RetirementReason;
  /** What went wrong with the retired worker. */
  message: string;
  /** Seconds from the retirement to the replacement being ready. */
  seconds: number;
}

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** Number of worker threads. */
  size: number;
  /** Tasks waiting per worker beyond which new tasks are refused with 503. */
  maxQueue: number;
  /** Workers that may run heavy tasks at the same time. Default: all but one (at least one). */
  heavyWorkers?: number;
  /** How long a cancelled task may keep running before its worker is replaced. Default 5000 ms. */
  cancelGraceMs?: number;
  /**
   * Nice value (Linux thread priority, 0-19) of the workers that run heavy tasks, when other
   * workers are left for cheap ones: the kernel then favours cheap requests and the HTTP thread
   * over expensive work. Default 0 (off).
   */
  heavyNice?: number;
  /**
   * Checks a task before it is queued (the cost model) and says whether it is heavy; throwing
   * refuses the task. Default: every task admitted as light.
   */
  admit?: (task: Task) => { heavy: boolean };
  /**
   * Loaded standby workers (0 or more, default 0). A retired heavy-lane worker is replaced by a
   * spare at once, and a new spare loads in the background at the heavy lane's priority, so
   * capacity returns in milliseconds instead of a model-loading time.
   */
  spares?: number;
  /**
   * WebAssembly memory (MB) past which a worker is recycled once its task has finished; 0 or
   * undefined: never. A wasm memory grows to the largest working set the worker has seen and
   * never shrinks, so a worker that once served a big request keeps its high-water mark for good.
   * A heavy-lane worker hands over to a loaded spare at once; any other keeps serving until its
   * replacement has loaded. A worker whose models alone fill the limit is left alone (a
   * replacement would be no smaller).
   */
  maxWasmMb?: number;
  /** Called when a worker dies unexpectedly (it is replaced). */
  onCrash?: (err: unknown) => void;
  /** Called when a replacement worker is ready. */
  onReplaced?: (event: ReplacementEvent) => void;
}

/** Per-call options of {@link WorkerPool.run}. */
export interface RunOptions {
  /** Aborting cancels the task: a queued one is dropped, a running one stops at its next check. */
  signal?: AbortSignal;
  /** Epoch milliseconds after which the worker stops the task by itself. */
  deadline?: number;
  /** Receives streamed text pieces (`stream` tasks). */
  onChunk?: (text: string) => void;
}

/** Capacity of the pool, for /readyz and /metrics. */
export interface PoolHealth {
  /** Configured workers. */
  workers: number;
  /** Workers that have loaded their models and serve tasks. */
  ready: number;
  /** Workers being replaced after a fault, crash or stuck task. */
  replacing: number;
  /** Workers over the memory limit still serving while their replacement loads. */
  recycling: number;
  /** Workers retired since start. */
  replacements: number;
  /** Loaded standby workers ready to take over from a retired one. */
  sparesReady: number;
  /** Tasks waiting for a worker. */
  queued: number;
  /** Tasks running in workers. */
  running: number;
}

/** The last memory report of one worker (`worker`: its position, or `spare0`, `spare1`...). */
export interface WorkerMemoryReport extends WorkerMemory {
  worker: string;
}

/** What {@link WorkerPool.close} could not finish. */
export interface CloseReport {
  /** Tasks (queued or running) answered with 503 because the timeout ran out. */
  abandoned: number;
}

interface Job {
  id: number;
  task: Task;
  heavy: boolean;
  deadline?: number;
  onChunk?: (text: string) => void;
  settle: (err: unknown, value?: unknown) => void;
  settled: boolean;
  /** Set once cancelled while running: the worker gets this long to stop. */
  graceTimer?: NodeJS.Timeout;
  cancelled: boolean;
  /** Re-queued once already after its worker crashed under it. */
  requeued: boolean;
}

interface Slot {
  /** Position in the pool; -1 for a spare. */
  index: number;
  worker: Worker;
  job?: Job;
  status?: WorkerStatus;
  numTensors: number;
  /** Has reported its first status (models loaded or given up on). */
  loaded: boolean;
  ready: Promise<void>;
  exited: boolean;
  /** Set on a replacement: why and when its predecessor was retired. */
  replacing?: { reason: RetirementReason; message: string; since: number };
  /** Consecutive crashes before ever loading (backs off respawning a worker that cannot start). */
  failedStarts: number;
  /** Its memory as of its last answer. */
  memory?: WorkerMemory;
  /** WebAssembly bytes once its models had loaded (recycling cannot go below it). */
  loadedWasm?: number;
  /** Over the memory limit: the replacement loading to take its place. */
  successor?: Slot;
  /** On a successor: the worker it replaces once loaded, and since when. */
  recycles?: { slot: Slot; message: string; since: number };
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
    // The thread lowers its priority (if asked) before compiling anything, so that a starting
    // replacement does not compete with the workers serving requests.
    const boot = `import('node:fs').then(async (fs) => {
        const nice = ${JSON.stringify(init.nice ?? 0)};
        if (nice && process.platform === 'linux') {
          try { (await import('node:os')).setPriority(Number(fs.readlinkSync('/proc/thread-self').split('/').pop()), nice); } catch {}
        }
        const m = await import(${JSON.stringify(tsxApi)});
        m.register();
        return import(${JSON.stringify(entry)});
      })
      .catch((err) => { console.error(err); process.exit(1); });`;
    return new Worker(boot, { eval: true, workerData: init, execArgv: ['--conditions=@seqlab/source'] });
  }
  return new Worker(new URL('./worker.js', here), { workerData: init });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A small pool of model worker threads. Model execution (tokenising, TensorFlow.js kernels,
 * forecaster fitting) happens there, so the HTTP thread stays free to answer health checks
 * and stream responses while the models are busy.
 *
 * Tasks wait in one queue here and each worker runs one at a time, so a worker that must be
 * retired takes only its running task with it; everything queued simply goes to the next free
 * worker. Heavy tasks may occupy at most `heavyWorkers` workers, so cheap requests keep a worker.
 */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly spares: Slot[] = [];
  private readonly queue: Job[] = [];
  /** Recycled workers out of the pool that still finish their last task. */
  private readonly draining = new Set<Slot>();
  private readonly heavyLimit: number;
  private readonly graceMs: number;
  private nextId = 1;
  private closing = false;
  private replacements = 0;

  constructor(
    private readonly init: WorkerInit,
    private readonly options: WorkerPoolOptions,
  ) {
    this.heavyLimit = Math.max(1, Math.min(options.size, options.heavyWorkers ?? options.size - 1));
    this.graceMs = options.cancelGraceMs ?? 5000;
    for (let i = 0; i < options.size; i++) this.slots.push(this.createSlot(i));
    for (let i = 0; i < (options.spares ?? 0); i++) this.spares.push(this.createSlot(-1));
  }

  /** Resolves when every worker has finished loading its models (successfully or not). */
  async whenReady(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.ready));
  }

  /**
   * Last status of each worker: undefined while a first worker is still loading. Replacements
   * still loading are left out (they show in {@link health} instead), so a replacement lowers
   * capacity without making the service look unready.
   */
  statuses(): Array<WorkerStatus | undefined> {
    return this.slots.filter((s) => s.loaded || !s.replacing).map((s) => (s.loaded ? s.status : undefined));
  }

  /** Workers ready, being replaced, and tasks queued or running. */
  health(): PoolHealth {
    return {
      workers: this.slots.length,
      ready: this.slots.filter((s) => s.loaded && !s.exited).length,
      replacing: this.slots.filter((s) => !s.loaded && s.replacing).length,
      recycling: this.slots.filter((s) => s.successor).length,
      replacements: this.replacements,
      sparesReady: this.spares.filter((s) => s.loaded && !s.exited).length,
      queued: this.queue.length,
      running: this.inFlight() - this.queue.length,
    };
  }

  /** Whether {@link close} has been called (readiness turns false so load balancers move on). */
  get isClosing(): boolean {
    return this.closing;
  }

  /** Live tensors summed over all workers, as of each worker's last finished task. */
  numTensors(): number {
    return this.slots.reduce((a, s) => a + s.numTensors, 0);
  }

  /** Tasks currently running or queued. */
  inFlight(): number {
    return this.queue.length + this.slots.filter((s) => s.job).length + [...this.draining].filter((s) => s.job).length;
  }

  /** Each serving worker's and loaded spare's memory as of its last answer. */
  memory(): WorkerMemoryReport[] {
    const named = [...this.slots.map((s) => [String(s.index), s] as const), ...this.spares.map((s, i) => [`spare${i}`, s] as const)];
    return named.flatMap(([worker, s]) => (s.memory && !s.exited ? [{ worker, ...s.memory }] : []));
  }

  /** Queues `task` for the next free worker and resolves with its result. */
  run<T>(task: Task, options: RunOptions = {}): Promise<T> {
    if (this.closing) return Promise.reject(new WorkerError('shutting_down', 'server is shutting down; retry on another instance'));
    let heavy: boolean;
    try {
      heavy = this.options.admit?.(task).heavy ?? false;
    } catch (err) {
      return Promise.reject(err);
    }
    const { signal, onChunk, deadline } = options;
    if (signal?.aborted) return Promise.reject(new CancelledError('request was cancelled'));
    if (this.queue.length >= this.options.maxQueue * this.slots.length) {
      return Promise.reject(new HttpError(503, 'overloaded', `model workers are saturated (${this.inFlight()} tasks queued); retry later`));
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => this.cancel(job, signal?.reason);
      const job: Job = {
        id: this.nextId++,
        task,
        heavy,
        deadline,
        onChunk,
        settled: false,
        cancelled: false,
        requeued: false,
        settle: (err, value) => {
          if (job.settled) return;
          job.settled = true;
          clearTimeout(job.graceTimer);
          signal?.removeEventListener('abort', onAbort);
          if (err === undefined) resolve(value as T);
          else reject(err);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(job);
      this.pump();
    });
  }

  /**
   * Runs a `fault` task: the worker that takes it hits a real wasm trap and is replaced. Needs
   * the pool to have been started with `faultInjection`. Resolves with the fault's message.
   */
  async injectFault(): Promise<string> {
    try {
      await this.run({ kind: 'fault' });
    } catch (err) {
      if (err instanceof WorkerError && err.kind === 'worker_fault') return err.message;
      throw err;
    }
    throw new Error('fault task returned normally');
  }

  /**
   * Stops accepting work and waits up to `timeoutMs` for queued and running tasks. Whatever is
   * left then is answered with 503 `shutting_down` (so its caller gets a clear answer instead
   * of a reset connection), and the threads end.
   */
  async close(timeoutMs = 10_000): Promise<CloseReport> {
    this.closing = true;
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight() > 0 && Date.now() < deadline) await sleep(20);
    const busy = [...this.slots, ...this.draining];
    const left = [...this.queue.splice(0), ...busy.flatMap((s) => (s.job ? [s.job] : []))];
    const err = new WorkerError('shutting_down', `the server shut down before this request finished (shutdown timeout ${timeoutMs} ms); retry`);
    for (const job of left) job.settle(err);
    for (const s of busy) s.job = undefined;
    const successors = this.slots.flatMap((s) => (s.successor ? [s.successor] : []));
    await Promise.all(
      [...busy, ...this.spares, ...successors].map(async (s) => {
        s.exited = true;
        await s.worker.terminate();
      }),
    );
    return { abandoned: left.length };
  }

  private cancel(job: Job, reason: unknown): void {
    if (job.settled || job.cancelled) return;
    job.cancelled = true;
    const why = reason instanceof Error ? reason.message : 'request was cancelled';
    const queued = this.queue.indexOf(job);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      job.settle(new CancelledError(`${why} (before it ran)`));
      return;
    }
    const slot = [...this.slots, ...this.draining].find((s) => s.job === job);
    if (!slot) return;
    slot.worker.postMessage({ type: 'cancel', id: job.id, reason: why } satisfies ToWorker);
    job.graceTimer = setTimeout(() => {
      if (!job.settled && slot.job === job) this.retire(slot, 'stuck', `task ${job.task.kind} did not stop within ${this.graceMs} ms of its cancellation`);
    }, this.graceMs);
  }

  /** Whether heavy tasks may run on `slot`: the first `heavyLimit` workers form the heavy lane. */
  private inHeavyLane(slot: Slot): boolean {
    return slot.index >= 0 && slot.index < this.heavyLimit;
  }

  /**
   * Hands queued tasks to free workers in queue order: heavy ones only to the heavy lane and
   * while fewer than `heavyLimit` run; cheap ones preferably to the other workers.
   */
  private pump(): void {
    for (;;) {
      const free = this.slots.filter((s) => s.loaded && !s.exited && !s.job);
      if (free.length === 0 || this.queue.length === 0) return;
      const heavyRunning = this.slots.filter((s) => s.job?.heavy).length;
      // While workers are being replaced the heavy lane shrinks first, so the workers left still
      // keep the share reserved for cheap work.
      const missing = this.slots.filter((s) => !s.loaded || s.exited).length;
      const maxHeavy = this.slots.length > 1 ? this.heavyLimit - missing : this.heavyLimit;
      let pick: { at: number; slot: Slot } | undefined;
      for (let i = 0; i < this.queue.length && !pick; i++) {
        if (this.queue[i]!.heavy) {
          const slot = heavyRunning < maxHeavy ? free.find((s) => this.inHeavyLane(s)) : undefined;
          if (slot) pick = { at: i, slot };
        } else pick = { at: i, slot: free.find((s) => !this.inHeavyLane(s)) ?? free[0]! };
      }
      if (!pick) return;
      const [job] = this.queue.splice(pick.at, 1);
      if (job!.deadline !== undefined && job!.deadline <= Date.now()) {
        job!.settle(new WorkerError('cancelled', 'the request deadline passed while it waited for a model worker'));
        continue;
      }
      pick.slot.job = job;
      pick.slot.worker.postMessage({ type: 'task', id: job!.id, task: job!.task, deadline: job!.deadline } satisfies ToWorker);
    }
  }

  private finish(slot: Slot, id: number, err: unknown, value?: unknown): void {
    const job = slot.job;
    if (!job || job.id !== id) return;
    slot.job = undefined;
    job.settle(err, value);
    if (this.draining.has(slot)) this.endDrained(slot);
    else if (this.overMemory(slot)) this.recycle(slot);
    this.pump();
  }

  private overMemory(slot: Slot): boolean {
    const limit = (this.options.maxWasmMb ?? 0) * 2 ** 20;
    // Resident tables are the models' own (bounded, and a successor would build them again).
    const wasm = transientWasmBytes(slot.memory);
    return limit > 0 && wasm > limit && (slot.loadedWasm ?? 0) < limit && !slot.exited && this.slots[slot.index] === slot;
  }

  /**
   * Replaces a worker whose wasm memory passed the limit, without failing a task: it is idle
   * now (each worker runs one task at a time). In the heavy lane a loaded spare takes over at
   * once; elsewhere the worker keeps serving until a successor has loaded its models (spares run
   * at the heavy lane's lower priority, so they never stand in for the cheap lane).
   */
  private recycle(slot: Slot): void {
    if (slot.successor || this.closing) return;
    const mb = (transientWasmBytes(slot.memory) / 2 ** 20).toFixed(0);
    const message = `WebAssembly memory ${mb} MB is over the ${this.options.maxWasmMb} MB limit`;
    if (this.inHeavyLane(slot) && this.spares.some((s) => s.loaded && !s.exited)) {
      this.retire(slot, 'memory', message);
      return;
    }
    const successor = this.createSlot(slot.index);
    successor.recycles = { slot, message, since: Date.now() };
    slot.successor = successor;
  }

  /** A successor has loaded: it takes its predecessor's place, which ends after its running task. */
  private takeOver(successor: Slot): void {
    const { slot, message, since } = successor.recycles!;
    successor.recycles = undefined;
    slot.successor = undefined;
    if (this.closing || slot.exited || this.slots[slot.index] !== slot) {
      this.endDrained(successor);
      return;
    }
    this.slots[slot.index] = successor;
    this.replacements++;
    if (slot.job) this.draining.add(slot);
    else this.endDrained(slot);
    this.options.onReplaced?.({ reason: 'memory', message, seconds: (Date.now() - since) / 1000 });
    this.pump();
  }

  private endDrained(slot: Slot): void {
    this.draining.delete(slot);
    slot.exited = true;
    void slot.worker.terminate();
  }

  /** Ends a broken worker, answers or re-queues its task, and starts a replacement. */
  private retire(slot: Slot, reason: RetirementReason, message: string): void {
    if (slot.exited) return;
    slot.exited = true;
    this.draining.delete(slot);
    // A successor still loading is dropped: this retirement starts its own replacement.
    if (slot.successor) this.endDrained(slot.successor);
    slot.successor = undefined;
    // A successor that died while loading: its predecessor serves on and tries again after its next task.
    if (slot.recycles && slot.recycles.slot.successor === slot) slot.recycles.slot.successor = undefined;
    const job = slot.job;
    slot.job = undefined;
    if (job && !job.settled) {
      if (reason === 'crash' && !job.cancelled && !job.requeued && !this.closing) {
        // The thread died under a task that did not report a fault: give it one more worker.
        job.requeued = true;
        this.queue.unshift(job);
      } else if (reason === 'stuck') {
        job.settle(new WorkerError('cancelled', `${message}; its worker was replaced`));
      } else {
        job.settle(new WorkerError('worker_fault', `model worker failed (${message}); it is being replaced`));
      }
    }
    void slot.worker.terminate();
    if (this.closing) return;
    if (slot.index < 0) {
      // A spare died while standing by: start another.
      this.spares.splice(this.spares.indexOf(slot), 1);
      this.spares.push(this.createSlot(-1, undefined, slot.loaded ? 0 : slot.failedStarts + 1));
      return;
    }
    if (this.slots[slot.index] !== slot) {
      // A drained or unplaced worker: its task may have been re-queued for the others.
      this.pump();
      return;
    }
    this.replacements++;
    const since = Date.now();
    // Spares run at the heavy lane's priority, so they stand in for heavy-lane workers (where
    // faults and stuck tasks happen); a cheap-lane worker is replaced by a fresh one.
    const spare = this.inHeavyLane(slot) ? this.spares.find((s) => s.loaded && !s.exited) : undefined;
    if (spare) {
      this.spares.splice(this.spares.indexOf(spare), 1);
      spare.index = slot.index;
      this.slots[slot.index] = spare;
      this.spares.push(this.createSlot(-1));
      this.options.onReplaced?.({ reason, message, seconds: (Date.now() - since) / 1000 });
    } else {
      const failedStarts = slot.loaded ? 0 : slot.failedStarts + 1;
      this.slots[slot.index] = this.createSlot(slot.index, { reason, message, since }, failedStarts);
    }
    this.pump();
  }

  private createSlot(index: number, replacing?: Slot['replacing'], failedStarts = 0): Slot {
    let markReady!: () => void;
    const slot: Slot = {
      index,
      // Set by start(); a worker that cannot even start is respawned with a growing delay.
      worker: undefined as unknown as Worker,
      numTensors: 0,
      loaded: false,
      ready: new Promise<void>((r) => (markReady = r)),
      exited: false,
      replacing,
      failedStarts,
    };
    const start = (delayed: boolean) => {
      if (delayed && (this.closing || (this.slots[index] !== slot && !this.spares.includes(slot) && !slot.recycles))) {
        markReady();
        return;
      }
      // Heavy-lane workers (and spares, which stand in for them) run at a lower priority only
      // when there are other workers to favour.
      const lowered = (index < 0 || this.inHeavyLane(slot)) && this.options.size > this.heavyLimit;
      const nice = lowered ? (this.options.heavyNice ?? 0) : 0;
      const worker = spawn({ ...this.init, nice });
      slot.worker = worker;
      worker.on('message', (msg: FromWorker) => this.onMessage(slot, msg, markReady));
      const crashed = (err: unknown) => {
        if (slot.exited) return;
        markReady();
        if (!this.closing) this.options.onCrash?.(err);
        this.retire(slot, 'crash', err instanceof Error ? err.message : String(err));
      };
      worker.on('error', crashed);
      worker.on('exit', (code) => crashed(new Error(`model worker exited with code ${code}`)));
    };
    if (failedStarts === 0) start(false);
    else {
      // A stand-in until the delayed start: nothing is dispatched to an unloaded slot.
      slot.worker = { terminate: () => Promise.resolve(0), postMessage: () => undefined } as unknown as Worker;
      setTimeout(() => start(true), Math.min(5000, 100 * 2 ** failedStarts)).unref();
    }
    return slot;
  }

  /** What a worker says: loaded (or a status), a streamed piece, a result, an error or a fault. */
  private onMessage(slot: Slot, msg: FromWorker, markReady: () => void): void {
    switch (msg.type) {
      case 'ready':
        slot.status = msg.status;
        slot.numTensors = msg.status.numTensors;
        slot.memory = msg.status.memory;
        if (!slot.loaded) {
          slot.loaded = true;
          slot.loadedWasm = msg.status.memory.wasmBytes;
          markReady();
          if (slot.recycles) this.takeOver(slot);
          if (slot.replacing) {
            const { reason, message, since } = slot.replacing;
            this.options.onReplaced?.({ reason, message, seconds: (Date.now() - since) / 1000 });
          }
          this.pump();
        }
        break;
      case 'chunk':
        if (slot.job?.id === msg.id) slot.job.onChunk?.(msg.text);
        break;
      case 'result':
        slot.numTensors = msg.numTensors;
        slot.memory = msg.memory;
        this.finish(slot, msg.id, undefined, msg.value);
        break;
      case 'error': {
        if (msg.numTensors !== undefined) slot.numTensors = msg.numTensors;
        if (msg.memory) slot.memory = msg.memory;
        const err = new WorkerError(msg.kind, msg.message, msg.details);
        if (!msg.fault) {
          this.finish(slot, msg.id, err);
          break;
        }
        // Answer the faulting task with its own error, then retire the worker before anything
        // else can be dispatched to it.
        const job = slot.job?.id === msg.id ? slot.job : undefined;
        if (job) slot.job = undefined;
        job?.settle(err);
        this.retire(slot, 'fault', msg.message);
        break;
      }
    }
  }
}

/** A worker's WebAssembly memory other than the recurrent kernels' resident tables. */
function transientWasmBytes(memory: WorkerMemory | undefined): number {
  return Math.max(0, (memory?.wasmBytes ?? 0) - (memory?.residentBytes ?? 0));
}
