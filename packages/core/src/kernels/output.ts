import type { DataType, KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';
import type { backend_util } from '@tensorflow/tfjs-core';

type Values = backend_util.TypedArray;

/**
 * Read a tensor's values on any backend that keeps them in CPU-addressable memory
 * (cpu keeps typed arrays, wasm keeps them on its heap).
 */
export function readValues(backend: KernelBackend, t: TensorInfo): Values {
  return backend.readSync(t.dataId) as Values;
}

interface CpuLike {
  makeTensorInfo(shape: number[], dtype: DataType, values?: Values): TensorInfo;
}
interface WasmLike {
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number, values?: Values): TensorInfo;
}

/** Create the kernel's output tensor from computed values, on the backend that runs the kernel. */
export function makeOutput(backend: KernelBackend, shape: number[], dtype: DataType, values: Values): TensorInfo {
  // The cpu backend also has a `makeOutput`, with another signature; `makeTensorInfo` is the
  // method only the cpu-style backends have.
  const cpu = backend as unknown as Partial<CpuLike>;
  if (typeof cpu.makeTensorInfo === 'function') return cpu.makeTensorInfo(shape, dtype, values);
  return (backend as unknown as WasmLike).makeOutput(shape, dtype, undefined, values);
}
