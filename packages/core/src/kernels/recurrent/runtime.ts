import { RECURRENT_WASM_BASE64 } from './wasm-binary.generated.js';

/** The exported functions of native/recurrent.c (pointers are byte offsets into the memory). */
export interface RecurrentExports {
  gemm(M: number, N: number, K: number, A: number, B: number, C: number): void;
  transpose(M: number, N: number, input: number, out: number): void;
  lstm_forward(...args: number[]): void;
  lstm_backward(...args: number[]): void;
  gru_forward(...args: number[]): void;
  gru_backward(...args: number[]): void;
  simple_forward(...args: number[]): void;
  simple_backward(...args: number[]): void;
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

export class RecurrentRuntime {
  readonly memory: WasmMemory;
  readonly exports: RecurrentExports;
  private top = 0;
  private f32!: Float32Array;

  constructor(memory?: WasmMemory) {
    this.memory = memory ?? new wasm.Memory({ initial: 64, maximum: 65536, shared: true });
    const instance = new wasm.Instance(recurrentModule(), { env: { memory: this.memory } });
    this.exports = instance.exports as unknown as RecurrentExports;
    this.refresh();
  }

  private refresh(): void {
    this.f32 = new Float32Array(this.memory.buffer);
  }

  /** Frees everything allocated since the last reset. */
  reset(): void {
    this.top = 1024; // keep offset 0 unused: a null pointer means "absent" to the kernels
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
