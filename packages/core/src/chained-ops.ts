import * as tf from '@tensorflow/tfjs-core';

/**
 * tfjs-core's Node bundle does not install the chained tensor methods (`t.flatten()`,
 * `t.square()`, ...); the browser/ESM entry and the `@tensorflow/tfjs` umbrella do, and
 * tfjs-layers relies on them (the orthogonal initializer of every LSTM/GRU calls
 * `flatten`). The files that install them cannot be imported from Node (extensionless ESM), so
 * they are defined here from the functional ops, only where missing.
 */
const GENERIC = [
  'abs', 'acos', 'acosh', 'add', 'all', 'any', 'argMax', 'argMin', 'asin', 'asinh', 'atan', 'atan2', 'atanh',
  'batchNorm', 'batchToSpaceND', 'broadcastTo', 'cast', 'ceil', 'clipByValue', 'conv1d', 'conv2d', 'cos', 'cosh',
  'cumprod', 'cumsum', 'depthToSpace', 'div', 'divNoNan', 'dot', 'elu', 'equal', 'erf', 'euclideanNorm', 'exp',
  'expandDims', 'expm1', 'fft', 'floor', 'floorDiv', 'gather', 'greater', 'greaterEqual', 'ifft', 'irfft',
  'isFinite', 'isInf', 'isNaN', 'leakyRelu', 'less', 'lessEqual', 'log', 'log1p', 'logSigmoid', 'logSoftmax',
  'logSumExp', 'logicalAnd', 'logicalNot', 'logicalOr', 'logicalXor', 'matMul', 'max', 'maximum', 'mean', 'min',
  'minimum', 'mirrorPad', 'mod', 'mul', 'neg', 'norm', 'notEqual', 'oneHot', 'onesLike', 'pad', 'pool', 'pow',
  'prelu', 'prod', 'reciprocal', 'relu', 'relu6', 'reshape', 'reverse', 'rfft', 'round', 'rsqrt', 'selu', 'sigmoid',
  'sign', 'sin', 'sinh', 'slice', 'softmax', 'softplus', 'spaceToBatchND', 'split', 'sqrt', 'square',
  'squaredDifference', 'squeeze', 'step', 'stridedSlice', 'sub', 'sum', 'tan', 'tanh', 'tile', 'topk', 'transpose',
  'unique', 'unstack', 'zerosLike',
] as const;

type Fn = (this: tf.Tensor, ...args: unknown[]) => unknown;

function special(): Record<string, Fn> {
  const asShape = function (this: tf.Tensor, ...shape: unknown[]) {
    return tf.reshape(this, shape as number[]);
  };
  return {
    flatten() {
      return tf.reshape(this, [this.size]);
    },
    as1D() {
      return tf.reshape(this, [this.size]);
    },
    as2D: asShape,
    as3D: asShape,
    as4D: asShape,
    as5D: asShape,
    asScalar() {
      if (this.size !== 1) throw new Error('The array must have only 1 element.');
      return tf.reshape(this, []);
    },
    asType(dtype) {
      return tf.cast(this, dtype as tf.DataType);
    },
    toFloat() {
      return tf.cast(this, 'float32');
    },
    toInt() {
      return tf.cast(this, 'int32');
    },
    toBool() {
      return tf.cast(this, 'bool');
    },
    reshapeAs(x) {
      return tf.reshape(this, (x as tf.Tensor).shape);
    },
    concat(x, axis) {
      const rest = x instanceof tf.Tensor ? [x] : (x as tf.Tensor[]);
      return tf.concat([this, ...rest], axis as number | undefined);
    },
    stack(x, axis) {
      const rest = x instanceof tf.Tensor ? [x] : (x as tf.Tensor[]);
      return tf.stack([this, ...rest], axis as number | undefined);
    },
    where(condition, x) {
      return tf.where(condition as tf.Tensor, this, x as tf.Tensor);
    },
  };
}

let done = false;

/** Installs the chained tensor methods that tfjs-core's Node bundle leaves out. Idempotent. */
export function installChainedOps(): void {
  if (done) return;
  done = true;
  const proto = tf.Tensor.prototype as unknown as Record<string, unknown>;
  const ops = tf as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of GENERIC) {
    if (typeof proto[name] === 'function' || typeof ops[name] !== 'function') continue;
    const op = ops[name];
    proto[name] = function (this: tf.Tensor, ...args: unknown[]) {
      this.throwIfDisposed();
      return op(this, ...args);
    };
  }
  for (const [name, fn] of Object.entries(special())) {
    if (typeof proto[name] === 'function') continue;
    proto[name] = function (this: tf.Tensor, ...args: unknown[]) {
      this.throwIfDisposed();
      return fn.apply(this, args);
    };
  }
}

installChainedOps();
