import {
  backend_util,
  Conv2DBackpropFilter,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { makeOutput, readValues } from './output.js';

interface Conv2DBackpropFilterAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/**
 * dW[fr, fc, d1, d2] = sum over batch and output positions of x[b, r, c, d1] * dy[b, yr, yc, d2],
 * where (r, c) is the input position that filter tap (fr, fc) saw for output (yr, yc).
 * Needed to train Conv1D (which tfjs lowers to Conv2D) on the wasm backend.
 */
export function conv2dBackpropFilterValues(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  info: backend_util.Conv2DInfo,
): Float32Array {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const isChannelsLast = info.dataFormat === 'channelsLast';
  const dW = new Float32Array(filterHeight * filterWidth * inChannels * outChannels);

  // Strides of x and dy in either layout, so one loop nest serves NHWC and NCHW.
  const xS = isChannelsLast
    ? { b: inHeight * inWidth * inChannels, h: inWidth * inChannels, w: inChannels, c: 1 }
    : { b: inChannels * inHeight * inWidth, h: inWidth, w: 1, c: inHeight * inWidth };
  const yS = isChannelsLast
    ? { b: outHeight * outWidth * outChannels, h: outWidth * outChannels, w: outChannels, c: 1 }
    : { b: outChannels * outHeight * outWidth, h: outWidth, w: 1, c: outHeight * outWidth };

  for (let fr = 0; fr < filterHeight; fr++) {
    for (let fc = 0; fc < filterWidth; fc++) {
      for (let b = 0; b < batchSize; b++) {
        for (let yr = 0; yr < outHeight; yr++) {
          const r = yr * strideHeight + fr * dilationHeight - padTop;
          if (r < 0 || r >= inHeight) continue;
          for (let yc = 0; yc < outWidth; yc++) {
            const c = yc * strideWidth + fc * dilationWidth - padLeft;
            if (c < 0 || c >= inWidth) continue;
            const xBase = b * xS.b + r * xS.h + c * xS.w;
            const yBase = b * yS.b + yr * yS.h + yc * yS.w;
            const wBase = (fr * filterWidth + fc) * inChannels * outChannels;
            for (let d1 = 0; d1 < inChannels; d1++) {
              const xv = x[xBase + d1 * xS.c];
              if (xv === 0) continue;
              const wRow = wBase + d1 * outChannels;
              for (let d2 = 0; d2 < outChannels; d2++) dW[wRow + d2] += xv * dy[yBase + d2 * yS.c];
            }
          }
        }
      }
    }
  }
  return dW;
}

const kernelFunc: KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = anyBackend as KernelBackend;
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  const values = conv2dBackpropFilterValues(readValues(backend, x), readValues(backend, dy), info);
  return makeOutput(backend, [...filterShape], 'float32', values);
};

/** Kernel configs for backends without a Conv2DBackpropFilter (wasm). */
export function conv2dBackpropFilterConfigs(backendNames: string[]): KernelConfig[] {
  return backendNames.map((backendName) => ({ kernelName: Conv2DBackpropFilter, backendName, kernelFunc }));
}
