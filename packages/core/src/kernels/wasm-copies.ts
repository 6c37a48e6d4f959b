import { backend_util, GatherV2, Reverse, Slice, slice_util, util, type DataType, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';

// The wasm backend's Reverse and GatherV2 compute every element's source through a per-element
// multi-dimensional index conversion. A BiLSTM reverses its inputs and outputs (and their
// gradients) every batch, and every embedding lookup is a GatherV2 over thousands of ids; on a
// review-length batch (32 x 256 x 100) those two took over 40% of a training step. Both are
// contiguous block copies, done here directly on the wasm heap. So is Slice, which the stock
// kernel starts by copying its whole input out of the heap (readSync) however small the slice:
// the recurrent layers' gradients slice every time step out of [batch, time, features].

type HeapArray = Float32Array | Int32Array | Uint8Array;

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): HeapArray;
}

const stock = new Map<string, KernelFunc>();
const COPYABLE = new Set<DataType>(['float32', 'int32', 'bool']);

/** Reverses heap values of `shape` along `axes` into `out` (same size; `out` is not `x`). */
function reverseInto(x: HeapArray, out: HeapArray, shape: readonly number[], axes: readonly number[]): void {
  const flip = new Set(axes);
  // The copies run over blocks: the trailing dimensions after the last reversed axis are contiguous.
  const last = Math.max(...flip);
  const inner = util.sizeFromShape(shape.slice(last + 1) as number[]);
  const outerShape = shape.slice(0, last + 1);
  const strides = util.computeStrides(outerShape as number[]);
  const blocks = util.sizeFromShape(outerShape as number[]);
  for (let b = 0; b < blocks; b++) {
    let rest = b;
    let src = 0;
    for (let d = 0; d < outerShape.length; d++) {
      const stride = d < strides.length ? strides[d]! : 1;
      const i = Math.floor(rest / stride);
      rest -= i * stride;
      src += (flip.has(d) ? outerShape[d]! - 1 - i : i) * stride;
    }
    out.set(x.subarray(src * inner, (src + 1) * inner), b * inner);
  }
}

const reverse: KernelFunc = (args) => {
  const backend = args.backend as unknown as WasmBackendLike;
  const { x } = args.inputs as { x: TensorInfo };
  const { dims } = args.attrs as unknown as { dims: number | number[] };
  if (!COPYABLE.has(x.dtype) || x.shape.length === 0) return stock.get(Reverse)!(args);
  const axes = util.parseAxisParam(dims, x.shape);
  const out = backend.makeOutput([...x.shape], x.dtype);
  // Views taken after the allocation: growing the heap detaches older views.
  const xs = backend.typedArrayFromHeap(x);
  const os = backend.typedArrayFromHeap(out);
  if (axes.length === 0) os.set(xs);
  else reverseInto(xs, os, x.shape, axes);
  return out;
};

const gatherV2: KernelFunc = (args) => {
  const backend = args.backend as unknown as WasmBackendLike;
  const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
  const { axis, batchDims } = args.attrs as unknown as { axis: number; batchDims: number };
  if (!COPYABLE.has(x.dtype) || indices.dtype !== 'int32' || (batchDims ?? 0) !== 0 || util.sizeFromShape(x.shape) === 0) return stock.get(GatherV2)!(args);
  const parsedAxis = util.parseAxisParam(axis, x.shape)[0]!;
  const info = backend_util.segment_util.collectGatherOpShapeInfo(x as never, indices as never, parsedAxis, 0);
  const out = backend.makeOutput(info.outputShape, x.dtype);
  const xs = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(indices) as Int32Array;
  const os = backend.typedArrayFromHeap(out);
  const { outerSize, dimSize, sliceSize } = info;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id < 0 || id >= dimSize) throw new Error(`GatherV2: the index value ${id} is not in [0, ${dimSize - 1}]`);
  }
  for (let o = 0; o < outerSize; o++) {
    for (let i = 0; i < ids.length; i++) {
      const src = (o * dimSize + ids[i]!) * sliceSize;
      os.set(xs.subarray(src, src + sliceSize), (o * ids.length + i) * sliceSize);
    }
  }
  return out;
};

/** Copies the slice `begin`/`size` of heap values of `shape` into `out`, a contiguous run of the innermost axes at a time. */
function sliceInto(x: HeapArray, out: HeapArray, shape: readonly number[], begin: readonly number[], size: readonly number[]): void {
  const rank = shape.length;
  // The innermost axes that the slice takes whole are one contiguous run with the next axis's slice.
  let inner = rank - 1;
  while (inner > 0 && begin[inner] === 0 && size[inner] === shape[inner]) inner--;
  const run = util.sizeFromShape(size.slice(inner) as number[]);
  const strides = util.computeStrides(shape as number[]);
  const outerSize = size.slice(0, inner);
  const blocks = util.sizeFromShape(outerSize as number[]);
  const innerStride = inner < strides.length ? strides[inner]! : 1;
  const idx = new Array<number>(inner).fill(0);
  for (let b = 0; b < blocks; b++) {
    let src = begin[inner]! * innerStride;
    for (let d = 0; d < inner; d++) src += (begin[d]! + idx[d]!) * strides[d]!;
    out.set(x.subarray(src, src + run), b * run);
    for (let d = inner - 1; d >= 0; d--) {
      if (++idx[d]! < outerSize[d]!) break;
      idx[d] = 0;
    }
  }
}

const slice: KernelFunc = (args) => {
  const backend = args.backend as unknown as WasmBackendLike;
  const { x } = args.inputs as { x: TensorInfo };
  const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
  if (!COPYABLE.has(x.dtype) || x.shape.length === 0) return stock.get(Slice)!(args);
  const [begin_, size_] = slice_util.parseSliceParams(x as never, begin, size);
  const out = backend.makeOutput(size_, x.dtype);
  if (util.sizeFromShape(size_) === 0) return out;
  const xs = backend.typedArrayFromHeap(x);
  const os = backend.typedArrayFromHeap(out);
  sliceInto(xs, os, x.shape, begin_, size_);
  return out;
};

/**
 * Kernel configs for block-copy Reverse, GatherV2 and Slice on the wasm backend; the stock kernels
 * (whose setup functions are kept) still serve the cases these do not handle (other dtypes,
 * `batchDims`).
 */
export function wasmCopyConfigs(getStock: (name: string) => KernelConfig | undefined): KernelConfig[] {
  const out: KernelConfig[] = [];
  for (const [name, kernelFunc] of [
    [Reverse, reverse],
    [GatherV2, gatherV2],
    [Slice, slice],
  ] as const) {
    const s = getStock(name);
    if (!s) continue;
    if (s.kernelFunc !== kernelFunc) stock.set(name, s.kernelFunc);
    out.push({ kernelName: name, backendName: 'wasm', kernelFunc, ...(s.setupFunc ? { setupFunc: s.setupFunc } : {}) });
  }
  return out;
}
