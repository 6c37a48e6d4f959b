import {
  BatchMatMul,
  getKernel,
  Transpose,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

interface BatchMatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

// The wasm backend's BatchMatMul is fast (XNNPACK) only without transpose flags; with either flag
// set it falls back to a loop about 12x slower. Every matMul gradient sets one of them, so an
// RNN's backward pass spent most of its time there. Transposing the operand first (a cheap copy)
// and calling the stock kernel without flags gives the fast path.
const stockFuncs = new Map<string, KernelFunc>();
const configs = new Map<string, KernelConfig>();

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

function makeKernelFunc(backendName: string): KernelFunc {
  return ({ inputs, backend: anyBackend, attrs }) => {
    const backend = anyBackend as KernelBackend;
    const stock = stockFuncs.get(backendName)!;
    const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
    if (!transposeA && !transposeB) return stock({ inputs, backend, attrs });
    const transpose = getKernel(Transpose, backendName)!.kernelFunc;
    let { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    const temps: TensorInfo[] = [];
    if (transposeA) {
      a = transpose({ inputs: { x: a }, backend, attrs: { perm: swapLastTwo(a.shape.length) } }) as TensorInfo;
      temps.push(a);
    }
    if (transposeB) {
      b = transpose({ inputs: { x: b }, backend, attrs: { perm: swapLastTwo(b.shape.length) } }) as TensorInfo;
      temps.push(b);
    }
    const out = stock({ inputs: { a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    for (const t of temps) backend.disposeData(t.dataId);
    return out;
  };
}

/**
 * Kernel configs that route transposed BatchMatMul through the backend's fast untransposed
 * kernel (wasm). Backends without a stock BatchMatMul get none.
 */
export function batchMatMulConfigs(backendNames: string[]): KernelConfig[] {
  const out: KernelConfig[] = [];
  for (const backendName of backendNames) {
    let config = configs.get(backendName);
    if (!config) {
      const stock = getKernel(BatchMatMul, backendName);
      if (!stock) continue;
      stockFuncs.set(backendName, stock.kernelFunc);
      // The stock setupFunc binds the wasm function the stock kernelFunc calls; keep it.
      config = { kernelName: BatchMatMul, backendName, kernelFunc: makeKernelFunc(backendName), setupFunc: stock.setupFunc };
      configs.set(backendName, config);
    }
    out.push(config);
  }
  return out;
}
