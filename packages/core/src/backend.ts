import * as tf from '@tensorflow/tfjs-core';
// Both backends are regular dependencies. Importing them here, before any kernel patching,
// means their stock kernels are registered first and seqlab's replacements win.
import { BadInputError, InternalError, UnsupportedError } from './errors.js';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import './chained-ops.js';
import { registerTrainingKernels, type KernelPatchReport } from './kernels/index.js';

/** Backends seqlab knows how to choose between, fastest first. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/** What {@link initBackend} chose and why. */
export interface BackendInfo {
  /** The active TensorFlow.js backend. */
  name: BackendName;
  /** One sentence on why this backend was chosen (or why faster ones were not). */
  reason: string;
  /** Whether the wasm backend runs with SIMD (only meaningful for `wasm`). */
  simd?: boolean;
  /** Kernels seqlab added or replaced so that training works on this backend. */
  kernels: KernelPatchReport;
}

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /** Force a backend. Defaults to `process.env.SEQLAB_BACKEND`, then automatic choice. */
  backend?: BackendName;
  /** Print the choice once to stderr. Default: `false` (use {@link getBackendInfo} instead). */
  log?: boolean;
}

const VALID: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

let current: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;

async function tryTensorflow(): Promise<string | undefined> {
  try {
    // Optional dependency: present only where its install could download libtensorflow.
    const name = '@tensorflow/tfjs-node';
    await import(name);
    if (!(await tf.setBackend('tensorflow'))) return 'tfjs-node loaded but its backend failed to initialise';
    return undefined;
  } catch (err) {
    return `@tensorflow/tfjs-node is not installed or did not load (${firstLine(err)})`;
  }
}

async function tryWasm(): Promise<string | undefined> {
  try {
    if (!(await tf.setBackend('wasm'))) return 'the wasm backend failed to initialise';
    return undefined;
  } catch (err) {
    return `the wasm backend did not load (${firstLine(err)})`;
  }
}

async function useCpu(): Promise<void> {
  if (!(await tf.setBackend('cpu'))) throw new InternalError('seqlab: even the cpu backend failed to initialise');
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0]!.slice(0, 200);
}

function parseOverride(value: string | undefined, source: string): BackendName | undefined {
  if (value === undefined || value === '') return undefined;
  const v = value.trim().toLowerCase();
  if ((VALID as readonly string[]).includes(v)) return v as BackendName;
  throw new BadInputError(`${source} must be one of ${VALID.join(', ')}; got "${value}"`);
}

async function wasmSimd(): Promise<boolean | undefined> {
  try {
    return (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  } catch {
    return undefined;
  }
}

async function choose(options: InitBackendOptions): Promise<BackendInfo> {
  const forced =
    parseOverride(options.backend, 'initBackend({ backend })') ??
    parseOverride(process.env.SEQLAB_BACKEND, 'SEQLAB_BACKEND');
  // Training kernels are registered before any backend is set so they exist whatever is chosen.
  const kernels = registerTrainingKernels();
  let name: BackendName;
  let reason: string;
  if (forced) {
    const failure =
      forced === 'tensorflow' ? await tryTensorflow() : forced === 'wasm' ? await tryWasm() : (await useCpu(), undefined);
    if (failure) throw new UnsupportedError(`seqlab: backend "${forced}" was requested but ${failure}`);
    name = forced;
    reason = options.backend ? `requested by initBackend({ backend: '${forced}' })` : `requested by SEQLAB_BACKEND=${forced}`;
  } else {
    const tfFail = await tryTensorflow();
    if (!tfFail) {
      name = 'tensorflow';
      reason = '@tensorflow/tfjs-node loaded (native libtensorflow)';
    } else {
      const wasmFail = await tryWasm();
      if (!wasmFail) {
        name = 'wasm';
        reason = `${tfFail}; using wasm`;
      } else {
        await useCpu();
        name = 'cpu';
        reason = `${tfFail}; ${wasmFail}; using cpu`;
      }
    }
  }
  // The cpu backend prints an install hint for tfjs-node on first use, which would end up in
  // CLI output; the choice and its reason are reported through BackendInfo instead.
  if (name === 'cpu') (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  const info: BackendInfo = { name, reason, kernels };
  if (name === 'wasm') info.simd = await wasmSimd();
  if (options.log) process.stderr.write(`seqlab: backend ${name} (${reason})\n`);
  return info;
}

/**
 * Chooses and initialises the TensorFlow.js backend once per process: `tensorflow` (tfjs-node)
 * when it loads, else `wasm` (SIMD), else `cpu`; `SEQLAB_BACKEND` or `options.backend` override.
 * Later calls return the first choice; pass a different `backend` to switch explicitly.
 *
 * @example
 * ```ts
 * import { initBackend } from '@seqlab/core';
 * const info = await initBackend();
 * console.log(info.name, info.reason);
 * ```
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  if (current && (!options.backend || options.backend === current.name)) return current;
  if (pending && !options.backend) return pending;
  pending = choose(options).then(
    (info) => {
      current = info;
      pending = undefined;
      return info;
    },
    (err: unknown) => {
      pending = undefined;
      throw err;
    },
  );
  return pending;
}

/** The backend chosen by {@link initBackend}, or `undefined` before it ran. */
export function getBackendInfo(): BackendInfo | undefined {
  return current;
}
