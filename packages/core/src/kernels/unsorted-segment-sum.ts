import { UnsortedSegmentSum, util, type KernelBackend, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { makeOutput, readValues } from './output.js';

/**
 * Scatter-add: out[segmentIds[i], ...] += x[i, ...].
 *
 * This is the gradient of `gather`, i.e. of every embedding layer. The stock cpu kernel builds a
 * mask per segment (cost vocabulary x tokens) and the wasm backend has no kernel at all; a single
 * pass over the rows costs tokens x embeddingDim.
 */
export function unsortedSegmentSumValues(
  x: ArrayLike<number>,
  xShape: readonly number[],
  segmentIds: ArrayLike<number>,
  numSegments: number,
): Float32Array {
  const idsCount = segmentIds.length;
  const total = util.sizeFromShape(xShape as number[]);
  const inner = idsCount === 0 ? 0 : total / idsCount;
  if (!Number.isInteger(inner)) {
    throw new Error(`UnsortedSegmentSum: x has ${total} values, not a multiple of ${idsCount} segment ids`);
  }
  const out = new Float32Array(numSegments * inner);
  for (let i = 0; i < idsCount; i++) {
    const seg = segmentIds[i];
    // TensorFlow drops rows whose id is out of range instead of failing; do the same.
    if (seg < 0 || seg >= numSegments) continue;
    const src = i * inner;
    const dst = seg * inner;
    for (let j = 0; j < inner; j++) out[dst + j] += x[src + j];
  }
  return out;
}

const kernelFunc: KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = anyBackend as KernelBackend;
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = attrs as unknown as { numSegments: number };
  // On wasm, views of the heap: readSync would first copy the whole gradient (tokens x width)
  // out of it. Both are read before the output is allocated, which may move the heap.
  const heap = (backend as unknown as { typedArrayFromHeap?(t: TensorInfo): ArrayLike<number> }).typedArrayFromHeap?.bind(backend);
  const xVals = heap ? heap(x) : readValues(backend, x);
  const ids = heap ? heap(segmentIds) : readValues(backend, segmentIds);
  const values = unsortedSegmentSumValues(xVals, x.shape, ids, numSegments);
  const idsRank = segmentIds.shape.length;
  const outShape = [numSegments, ...x.shape.slice(idsRank)];
  const out = makeOutput(backend, outShape, 'float32', values);
  return out;
};

/** Kernel configs for the backends that lack (wasm) or have a slow (cpu) UnsortedSegmentSum. */
export function unsortedSegmentSumConfigs(backendNames: string[]): KernelConfig[] {
  return backendNames.map((backendName) => ({ kernelName: UnsortedSegmentSum, backendName, kernelFunc }));
}
