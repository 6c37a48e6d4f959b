import {
  backend_util,
  Reverse,
  SplitV,
  util,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { makeOutput, readValues } from './output.js';

// The cpu backend implements SplitV and Reverse with a per-element index computation through
// TensorBuffer; every LSTM/GRU step splits its gates and every backward layer of a
// Bidirectional reverses its sequence, so these two copies dominated a cpu training step.
// Both are plain strided block copies.

type Values = backend_util.TypedArray;

function newLike(values: Values, size: number): Values {
  const Ctor = values.constructor as new (n: number) => Values;
  return new Ctor(size);
}

/** Splits `values` of `shape` along `axis` into blocks of the given sizes. */
export function splitValues(values: Values, shape: readonly number[], sizes: readonly number[], axis: number): Values[] {
  const outer = util.sizeFromShape(shape.slice(0, axis) as number[]);
  const inner = util.sizeFromShape(shape.slice(axis + 1) as number[]);
  const axisLen = shape[axis]!;
  const outs: Values[] = [];
  let offset = 0;
  for (const s of sizes) {
    const out = newLike(values, outer * s * inner);
    const block = s * inner;
    for (let i = 0; i < outer; i++) {
      const src = (i * axisLen + offset) * inner;
      out.set(values.subarray(src, src + block), i * block);
    }
    outs.push(out);
    offset += s;
  }
  return outs;
}

/** Reverses `values` of `shape` along each of `dims`. */
export function reverseValues(values: Values, shape: readonly number[], dims: readonly number[]): Values {
  let cur = values;
  for (const axis of new Set(dims)) {
    const outer = util.sizeFromShape(shape.slice(0, axis) as number[]);
    const inner = util.sizeFromShape(shape.slice(axis + 1) as number[]);
    const axisLen = shape[axis]!;
    const out = newLike(cur, cur.length);
    for (let i = 0; i < outer; i++) {
      for (let a = 0; a < axisLen; a++) {
        const src = (i * axisLen + a) * inner;
        out.set(cur.subarray(src, src + inner), (i * axisLen + (axisLen - 1 - a)) * inner);
      }
    }
    cur = out;
  }
  return cur === values ? values.slice() : cur;
}

function stockFallback(kernelName: string): KernelFunc | undefined {
  return stock.get(kernelName);
}

const stock = new Map<string, KernelFunc>();

const splitV: KernelFunc = (args) => {
  const backend = args.backend as KernelBackend;
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype === 'string' || x.dtype === 'complex64') return stockFallback(SplitV)!(args);
  const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
  const $axis = util.parseAxisParam(axis, x.shape)[0]!;
  const sizes = backend_util.prepareSplitSize(x, numOrSizeSplits, $axis);
  const parts = splitValues(readValues(backend, x), x.shape, sizes, $axis);
  return parts.map((values, i) => {
    const shape = [...x.shape];
    shape[$axis] = sizes[i]!;
    return makeOutput(backend, shape, x.dtype, values);
  });
};

const reverse: KernelFunc = (args) => {
  const backend = args.backend as KernelBackend;
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype === 'string' || x.dtype === 'complex64') return stockFallback(Reverse)!(args);
  const { dims } = args.attrs as unknown as { dims: number | number[] };
  const axes = util.parseAxisParam(dims, x.shape);
  return makeOutput(backend, [...x.shape], x.dtype, reverseValues(readValues(backend, x), x.shape, axes));
};

/**
 * Kernel configs for fast SplitV and Reverse on the cpu backend. The stock kernels are kept for
 * the dtypes these do not handle (string, complex64).
 */
export function cpuCopyConfigs(getStock: (name: string) => KernelFunc | undefined): KernelConfig[] {
  for (const name of [SplitV, Reverse]) {
    const f = getStock(name);
    if (f && f !== splitV && f !== reverse) stock.set(name, f);
  }
  return [
    { kernelName: SplitV, backendName: 'cpu', kernelFunc: splitV },
    { kernelName: Reverse, backendName: 'cpu', kernelFunc: reverse },
  ];
}
