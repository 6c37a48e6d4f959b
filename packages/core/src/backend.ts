import * as tf from '@tensorflow/tfjs-core';
// Both backends are regular dependencies. Importing them here, before any kernel patching,
// means their stock kernels are registered first and seqlab's replacements win.
import { BadInputError, InternalError, UnsupportedError } from './errors.js';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import './chained-ops.js';
import { registerTrainingKernels, type KernelPatchReport } from './kernels/index.js';

/**
 * Two notices TensorFlow.js prints through `console.warn` that a seqlab user cannot act on: the
 * cpu backend's "install tfjs-node" banner (seqlab already chose the fastest backend that loads
 * and reports why in {@link BackendInfo}), and tfjs-layers' note that an orthogonal initializer
 * on a large recurrent kernel may be slow (it runs once per layer build). Matched on their exact
 * wording so every other warning still reaches the console.
 */
const TFJS_NOTICES: readonly RegExp[] = [
  /^\s*=+\s*Hi, looks like you are running TensorFlow\.js in Node\.js\. To speed things up dramatically, install our node backend/,
  /^Orthogonal initializer is being called on a matrix with more than \d+ \(\d+\) elements: Slowness may result\.$/,
];

const NOTICE_FILTER = Symbol.for('seqlab.tfjsNoticeFilter');

/** Whether `args` (as passed to `console.warn`) is one of the {@link TFJS_NOTICES}. */
function isTfjsNotice(args: readonly unknown[]): boolean {
  return args.length === 1 && typeof args[0] === 'string' && TFJS_NOTICES.some((re) => re.test(args[0] as string));
}

// Installed when @seqlab/core is first imported, before any backend or layer can print; the
// symbol keeps a second copy of the module (e.g. source and dist in one process) from wrapping twice.
function filterTfjsNotices(): void {
  const target = console as unknown as Record<symbol, boolean | undefined>;
  if (target[NOTICE_FILTER]) return;
  const warn = console.warn.bind(console);
  console.warn = (...args: unknown[]): void => {
    if (!isTfjsNotice(args)) warn(...args);
  };
  target[NOTICE_FILTER] = true;
}
filterTfjsNotices();

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
