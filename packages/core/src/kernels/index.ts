import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { batchMatMulConfigs } from './batch-mat-mul.js';
import { cpuCopyConfigs } from './cpu-copies.js';
import { conv2dBackpropFilterConfigs } from './conv2d-backprop-filter.js';
import { unsortedSegmentSumConfigs } from './unsorted-segment-sum.js';
import { wasmCopyConfigs } from './wasm-copies.js';

export { unsortedSegmentSumValues } from './unsorted-segment-sum.js';
export { conv2dBackpropFilterValues } from './conv2d-backprop-filter.js';
export { splitValues, reverseValues } from './cpu-copies.js';

/** Which kernels seqlab installs, per backend. */
export interface KernelPatchReport {
  /** `kernelName@backend` strings that were added where the backend had none. */
  added: string[];
  /** `kernelName@backend` strings whose stock implementation was replaced. */
  replaced: string[];
}

function install(configs: KernelConfig[], replace: boolean, report: KernelPatchReport): void {
  for (const config of configs) {
    const id = `${config.kernelName}@${config.backendName}`;
    const existing = getKernel(config.kernelName, config.backendName);
    if (existing) {
      // Our own kernel from an earlier call: nothing to do.
      if (existing.kernelFunc === config.kernelFunc) continue;
      if (!replace) continue;
      stock.set(id, existing);
      unregisterKernel(config.kernelName, config.backendName);
      registerKernel(config);
      report.replaced.push(id);
    } else {
      registerKernel(config);
      report.added.push(id);
    }
  }
}

let installed: KernelPatchReport | undefined;
// Replaced stock kernels, so benchmarks can measure them.
const stock = new Map<string, KernelConfig>();

/**
 * Registers the training kernels that stock TensorFlow.js lacks or runs too slowly in Node:
 * UnsortedSegmentSum (embedding gradient) for wasm and cpu, Conv2DBackpropFilter (Conv1D
 * gradient) for wasm, and a BatchMatMul for wasm that keeps transposed products (every matMul
 * gradient) on the fast path, and single-pass SplitV / Reverse for cpu (LSTM gates, backward
 * RNN layers) and block-copy Reverse / GatherV2 / Slice for wasm (backward RNN layers, embedding
 * lookups, time steps sliced in recurrent gradients). Idempotent. Native tfjs-node kernels are left alone.
 */
export function registerTrainingKernels(): KernelPatchReport {
  if (installed) return installed;
  const report: KernelPatchReport = { added: [], replaced: [] };
  install(unsortedSegmentSumConfigs(['wasm']), false, report);
  install(unsortedSegmentSumConfigs(['cpu']), true, report);
  install(conv2dBackpropFilterConfigs(['wasm']), false, report);
  install(batchMatMulConfigs(['wasm']), true, report);
  install(cpuCopyConfigs((name) => getKernel(name, 'cpu')?.kernelFunc), true, report);
  install(wasmCopyConfigs((name) => getKernel(name, 'wasm')), true, report);
  installed = report;
  return report;
}

/**
 * Returns TensorFlow.js to its stock kernels (removes the ones seqlab added, puts back the ones
 * it replaced), so a benchmark can measure stock behaviour. Call {@link registerTrainingKernels}
 * again to re-install seqlab's.
 */
export function restoreStockKernels(): void {
  for (const id of installed?.added ?? []) {
    const [kernelName, backendName] = id.split('@') as [string, string];
    unregisterKernel(kernelName, backendName);
  }
  for (const config of stock.values()) {
    unregisterKernel(config.kernelName, config.backendName);
    registerKernel(config);
  }
  stock.clear();
  installed = undefined;
}
