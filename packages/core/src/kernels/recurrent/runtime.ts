import os from 'node:os';
import { isMainThread, Worker } from 'node:worker_threads';
import { RECURRENT_WASM_BASE64 } from './wasm-binary.generated.js';
import { hasSideWork, inSideWork, runSideWork } from '../../side-work.js';

/** The exported functions of native/recurrent.c (pointers are byte offsets into the memory). */
export interface RecurrentExports {
  gemm(M: number, N: number, K: number, A: number, B: number, C: number): void;
  gemm_p(M: number, N: number, K: number, A: number, lda: number, Bp: number, C: number, ldc: number): void;
  pack_b(K: number, N: number, B: number, ldb: number, out: number): void;
  gemm_tn_p(M: number, N: number, K: number, A: number, lda: number, Bp: number, C: number, ldc: number): void;
  transpose(M: number, N: number, input: number, out: number): void;
  lstm_forward(...args: number[]): void;
  lstm_backward(...args: number[]): void;
  gru_forward(...args: number[]): void;
  gru_backward(...args: number[]): void;
  simple_forward(...args: number[]): void;
  simple_backward(...args: number[]): void;
  tanh_inplace(n: number, x: number): void;
}

// The subset of the WebAssembly JS API used here (the project's TypeScript libs have no DOM).
interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}
/** A compiled WebAssembly module (opaque). */
export type WasmModule = object;
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const PAGE = 65536;
let compiled: WasmModule | undefined;
let loadError: Error | undefined;

/** The compiled module (compiled once per thread; cheap: 30 KB). Throws if this runtime lacks wasm SIMD. */
export function recurrentModule(): WasmModule {
  if (loadError) throw loadError;
  if (!compiled) {
    try {
      compiled = new wasm.Module(Buffer.from(RECURRENT_WASM_BASE64, 'base64'));
    } catch (err) {
      loadError = new Error(`seqlab recurrent kernels: WebAssembly SIMD module did not compile (${(err as Error).message})`);
      throw loadError;
    }
  }
  return compiled!;
}

/**
 * One instance of the kernels over its own shared memory, with a bump allocator that is reset
 * for every kernel call. The memory is a `SharedArrayBuffer`, so helper threads can instantiate
 * the same module over it and work on other rows of the batch.
 */
/** Memory shared between the threads running the kernels. */
export type { WasmMemory };

// Offset 0 stays unused: a null pointer means "absent" to the kernels.
const FIRST_OFFSET = 1024;

/**
 * Bytes of tables a runtime keeps resident (see {@link RecurrentRuntime.resident}): room for the
 * projected embeddings of every member of a served model, such as the default sentiment
 * model's three 54,000-word BiLSTMs (six tables of 56 MB). Tables that do not all fit would be
 * dropped and made again on every call.
 */
export const MAX_RESIDENT_BYTES = 512 * 2 ** 20;

/**
 * A table made on demand rather than held as an array: a runtime that keeps it resident (see
 * {@link RecurrentRuntime.resident}) calls `make` when it must copy it in, so the caller need
 * not keep a copy of its own.
 */
export interface ResidentSource {
  /** Identity of the table (the runtime keeps it weakly). */
  key: object;
  /** Length of the table in floats. */
  floats: number;
  /** The table's values (may run kernels; called before the call that reads it allocates). */
  make(): Float32Array;
}

export class RecurrentRuntime {
  readonly memory: WasmMemory;
  readonly exports: RecurrentExports;
  private top = 0;
  /** Where per-call allocations start: above the resident tables. */
  private base = FIRST_OFFSET;
  // Weak: a disposed model's table can be collected; its bytes here are reused at the next drop.
  private tables = new WeakMap<object, number>();
  private residentLimit = MAX_RESIDENT_BYTES;
  private f32!: Float32Array;
  private pool: KernelThreads | undefined;

  constructor(memory?: WasmMemory) {
    this.memory = memory ?? new wasm.Memory({ initial: 64, maximum: 65536, shared: true });
    const instance = new wasm.Instance(recurrentModule(), { env: { memory: this.memory } });
    this.exports = instance.exports as unknown as RecurrentExports;
    this.refresh();
  }

  private refresh(): void {
    this.f32 = new Float32Array(this.memory.buffer);
  }

  /** Calls an exported kernel on this thread. */
  call(name: KernelName, args: number[]): void {
    (this.exports[name] as (...a: number[]) => void)(...args);
  }

  /** Threads kernel calls may use (see {@link defaultKernelThreads}); set before the first parallel call. */
  get threads(): number {
    this.pool ??= new KernelThreads(this, defaultKernelThreads());
    return this.pool.threads;
  }

  /** Uses `threads` threads (1 or 2) from now on. */
  setThreads(threads: number): void {
    if (!(threads === 1 || threads === 2)) throw new Error(`setThreads: threads must be 1 or 2, got ${threads}`);
    this.pool?.close();
    this.pool = new KernelThreads(this, threads);
  }

  /** Runs independent kernel calls, on two threads when the runtime has two. */
  parallel(calls: Array<[KernelName, number[]]>): void {
    this.pool ??= new KernelThreads(this, defaultKernelThreads());
    this.pool.parallel(calls);
  }

  /** Bytes of memory the resident tables take now (part of the memory's size). */
  get residentBytes(): number {
    return this.base - FIRST_OFFSET;
  }

  /** Bytes of resident tables kept at most (default {@link MAX_RESIDENT_BYTES}). */
  get maxResidentBytes(): number {
    return this.residentLimit;
  }

  /** Sets {@link maxResidentBytes}; the tables kept so far are dropped (made again on use). */
  setMaxResidentBytes(bytes: number): void {
    if (!(Number.isInteger(bytes) && bytes > 0)) throw new Error(`setMaxResidentBytes: expected a positive integer, got ${bytes}`);
    this.residentLimit = bytes;
    this.tables = new WeakMap();
    this.base = FIRST_OFFSET;
    this.top = this.base;
  }

  /** Frees everything allocated since the last reset (resident tables stay). */
  reset(): void {
    // Side work runs while a kernel call is in flight on the helper: a session started now
    // would reuse that call's memory.
    if (inSideWork()) throw new Error('recurrent kernels: side work must not run kernels (see withSideWork)');
    this.top = this.base;
  }

  /**
   * The offset of `table` kept in this runtime's memory across calls (copied in on first use),
   * below the per-call allocations. Call right after {@link reset}, before any {@link alloc} of
   * the call. Tables are kept by identity (the array, or a {@link ResidentSource}'s key) up to
   * {@link maxResidentBytes} in all; one that does not fit drops every table kept so far
   * (they are copied in, or made, again when next used).
   */
  resident(table: Float32Array | ResidentSource): number {
    return this.residentAll([table])[0]!;
  }

  /**
   * {@link resident} for several tables that one call reads together: all of them are kept at
   * once (a table that must be copied in never drops another of the same call).
   */
  residentAll(tables: readonly (Float32Array | ResidentSource)[]): number[] {
    const sources = tables.map((t) => (t instanceof Float32Array ? { key: t, floats: t.length, make: () => t } : t));
    const unique = [...new Map(sources.map((s) => [s.key, s])).values()];
    const missing = unique.filter((s) => !this.tables.has(s.key));
    if (missing.length > 0) {
      if (this.top !== this.base) throw new Error('RecurrentRuntime.resident: call it before the call allocates anything');
      const size = (s: ResidentSource) => Math.ceil((s.floats * 4) / 16) * 16;
      const all = unique.reduce((sum, s) => sum + size(s), 0);
      if (all > this.maxResidentBytes) throw new RangeError(`RecurrentRuntime.resident: ${all} bytes of tables exceed ${this.maxResidentBytes}`);
      const needed = missing.reduce((sum, s) => sum + size(s), 0);
      // Dropping everything also drops this call's kept tables: they are copied in again.
      const drop = this.base + needed - FIRST_OFFSET > this.maxResidentBytes;
      if (drop) {
        this.tables = new WeakMap();
        this.base = FIRST_OFFSET;
      }
      for (const s of drop ? unique : missing) {
        // make() may run kernels of its own (they allocate above the base and are done by now).
        const values = s.make();
        if (values.length !== s.floats) throw new Error(`RecurrentRuntime.resident: a table made ${values.length} floats, expected ${s.floats}`);
        this.top = this.base;
        this.tables.set(s.key, this.put(values));
        this.base = this.top;
      }
    }
    return sources.map((s) => this.tables.get(s.key)!);
  }

  /** Allocates room for int32 `values` and copies them in. */
  putInts(values: ArrayLike<number>): number {
    const at = this.alloc(values.length);
    new Int32Array(this.memory.buffer, at, values.length).set(values);
    return at;
  }

  /** Allocates `count` floats (16-byte aligned) and returns their byte offset. */
  alloc(count: number): number {
    const at = this.top;
    this.top += Math.ceil((count * 4) / 16) * 16;
    const need = this.top - this.memory.buffer.byteLength;
    if (need > 0) {
      this.memory.grow(Math.ceil(need / PAGE));
      this.refresh();
    } else if (this.f32.buffer.byteLength !== this.memory.buffer.byteLength) {
      // Another thread (or an earlier grow) enlarged the memory: views must be re-made.
      this.refresh();
    }
    return at;
  }

  /** Allocates room for `values` and copies them in. */
  put(values: ArrayLike<number>): number {
    const at = this.alloc(values.length);
    this.view(at, values.length).set(values);
    return at;
  }

  /** Allocates `count` zeroed floats. */
  zeros(count: number): number {
    const at = this.alloc(count);
    this.view(at, count).fill(0);
    return at;
  }

  /** Copies `count` floats from byte offset `from` to byte offset `to` inside the memory (no view made). */
  copyFloats(to: number, from: number, count: number): void {
    if (this.f32.buffer.byteLength !== this.memory.buffer.byteLength) this.refresh();
    this.f32.copyWithin(to / 4, from / 4, from / 4 + count);
  }

  /** A live view of `count` floats at byte offset `at` (valid until the next alloc/reset). */
  view(at: number, count: number): Float32Array {
    if (this.f32.buffer.byteLength !== this.memory.buffer.byteLength) this.refresh();
    return this.f32.subarray(at / 4, at / 4 + count);
  }

  /** A copy of `count` floats at `at`, safe to keep after the next reset. */
  take(at: number, count: number): Float32Array {
    return this.view(at, count).slice();
  }
}

// A helper thread runs kernel calls on its share of the batch. Its code is a self-contained
// script (no imports), so the same thing works from TypeScript sources and from dist/. It waits
// on a control word in the shared memory (Atomics.wait) rather than on messages: a wake-up costs
// microseconds, which matters when one call is a millisecond of work.
const FUNCTIONS = ['gemm', 'gemm_p', 'gemm_tn_p', 'pack_b', 'transpose', 'lstm_forward', 'lstm_backward', 'gru_forward', 'gru_backward', 'simple_forward', 'simple_backward', 'tanh_inplace'] as const;
/** Name of an exported kernel function. */
export type KernelName = (typeof FUNCTIONS)[number];
const CONTROL_WORDS = 64;
const MAX_ARGS = CONTROL_WORDS - 4;
const IDLE = 0;
const RUN = 1;
const EXIT = 2;
const STOPPED = 3;

const THREAD_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, names } = workerData;
const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
const fns = names.map((n) => exports[n]);
const ctrl = new Int32Array(memory.buffer, control, ${CONTROL_WORDS});
for (;;) {
  Atomics.wait(ctrl, 0, ${IDLE});
  const state = Atomics.load(ctrl, 0);
  if (state === ${EXIT}) {
    Atomics.store(ctrl, 0, ${STOPPED});
    Atomics.notify(ctrl, 0);
    break;
  }
  if (state !== ${RUN}) continue;
  const args = Array.from(ctrl.subarray(4, 4 + ctrl[2]));
  try { fns[ctrl[1]](...args); ctrl[3] = 0; } catch (e) { ctrl[3] = 1; }
  Atomics.store(ctrl, 0, ${IDLE});
  Atomics.notify(ctrl, 0);
}
`;

interface HelperThread {
  control: Int32Array;
  worker: { unref(): void };
}

/**
 * Number of threads the kernels use: `SEQLAB_THREADS` (1 or 2), else 2 on the main thread of a
 * machine with 2 or more cores and 1 inside worker threads (a pool of workers, such as the API
 * service's, already spreads its work over the cores).
 */
export function defaultKernelThreads(): number {
  const env = Number(process.env.SEQLAB_THREADS);
  if (Number.isInteger(env) && env >= 1) return Math.min(env, 2);
  if (!isMainThread) return 1;
  return Math.max(1, Math.min(2, os.availableParallelism()));
}

/**
 * The calling thread plus (with 2 threads) one helper over the same memory. `parallel` runs a
 * list of calls, the first on the calling thread and the second on the helper, and returns
 * when both are done.
 */
class KernelThreads {
  private helper: HelperThread | undefined;
  private failed = false;

  constructor(
    private readonly runtime: RecurrentRuntime,
    readonly threads: number,
  ) {}

  private start(): HelperThread | undefined {
    if (this.helper || this.failed || this.threads < 2) return this.helper;
    try {
      // Word 64..127 of the reserved low memory (below the allocator's first byte).
      const control = 256;
      const names = [...FUNCTIONS];
      // A helper stopped before this one leaves its control word STOPPED.
      Atomics.store(new Int32Array(this.runtime.memory.buffer as SharedArrayBuffer, control, 1), 0, IDLE);
      const worker = new Worker(THREAD_SOURCE, { eval: true, workerData: { module: recurrentModule(), memory: this.runtime.memory, control, names } });
      // The helper must never keep a finished program alive.
      worker.unref();
      this.helper = { control: new Int32Array(this.runtime.memory.buffer as SharedArrayBuffer, control, CONTROL_WORDS), worker };
    } catch {
      this.failed = true;
    }
    return this.helper;
  }

  /**
   * Stops the helper thread (if started) and waits (up to a few seconds) until it has stopped
   * reading the control words, which the next helper reuses.
   */
  close(): void {
    if (!this.helper) return;
    const ctrl = this.helper.control;
    Atomics.store(ctrl, 0, EXIT);
    Atomics.notify(ctrl, 0);
    for (let i = 0; i < 5 && Atomics.load(ctrl, 0) === EXIT; i++) Atomics.wait(ctrl, 0, EXIT, 1000);
    this.helper = undefined;
  }

  /**
   * Runs independent calls on this thread and the helper. Without side work, `calls[0]` runs
   * here and `calls[1]` on the helper, concurrently (later calls here, after them). With side
   * work registered (see `withSideWork`), the calls are a queue both threads take from: the
   * helper one call at a time, this thread side work while there is any and then calls too, so
   * a caller that splits its rows into several calls lets the threads end together.
   */
  parallel(calls: Array<[KernelName, number[]]>): void {
    const helper = calls.length > 1 ? this.start() : undefined;
    if (!helper) {
      for (const [name, args] of calls) this.runtime.call(name, args);
      return;
    }
    if (hasSideWork()) {
      this.sharedQueue(helper, [...calls]);
      return;
    }
    this.post(helper, calls[1]!);
    let error: unknown;
    try {
      this.runtime.call(calls[0]![0], calls[0]![1]);
      for (const [name, args] of calls.slice(2)) this.runtime.call(name, args);
    } catch (err) {
      error = err;
    }
    this.finish(helper, calls[1]![0]);
    if (error) throw error;
  }

  private sharedQueue(helper: HelperThread, queue: Array<[KernelName, number[]]>): void {
    let current = queue.shift()!;
    this.post(helper, current);
    let error: unknown;
    for (;;) {
      if (Atomics.load(helper.control, 0) !== RUN) {
        this.finish(helper, current[0]);
        const next = queue.shift();
        if (!next) break;
        this.post(helper, (current = next));
        continue;
      }
      try {
        if (error === undefined && runSideWork()) continue;
      } catch (err) {
        error = err;
      }
      const mine = queue.shift();
      if (!mine) {
        this.finish(helper, current[0]);
        break;
      }
      // One call at a time, looking at the helper between them: it takes the next as soon as it is free.
      try {
        this.runtime.call(mine[0], mine[1]);
      } catch (err) {
        error ??= err;
      }
    }
    if (error) throw error;
  }

  private post(helper: HelperThread, [name, args]: [KernelName, number[]]): void {
    if (args.length > MAX_ARGS) throw new Error(`kernel ${name}: too many arguments for the helper thread`);
    const ctrl = helper.control;
    ctrl[1] = FUNCTIONS.indexOf(name);
    ctrl[2] = args.length;
    ctrl.set(args, 4);
    Atomics.store(ctrl, 0, RUN);
    Atomics.notify(ctrl, 0);
  }

  /** Waits for the helper's call to end; throws if it failed. */
  private finish(helper: HelperThread, name: KernelName): void {
    const ctrl = helper.control;
    while (Atomics.load(ctrl, 0) === RUN) Atomics.wait(ctrl, 0, RUN, 1000);
    if (ctrl[3] !== 0) throw new Error(`recurrent kernel ${name} failed on the helper thread`);
  }
}

let shared: RecurrentRuntime | undefined;

/** The process's (thread's) runtime, created on first use. */
export function recurrentRuntime(): RecurrentRuntime {
  shared ??= new RecurrentRuntime();
  return shared;
}

/** Whether the recurrent kernels can run here (WebAssembly with SIMD and shared memory). */
export function recurrentKernelsAvailable(): boolean {
  try {
    recurrentRuntime();
    return true;
  } catch {
    return false;
  }
}
