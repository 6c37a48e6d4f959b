import * as tf from '@tensorflow/tfjs-core';

// The Node build of @tensorflow/tfjs-core does not register the chained tensor methods
// (`t.flatten()` ...) that only the umbrella `@tensorflow/tfjs` package installs, yet
// tfjs-layers' Orthogonal initializer (the LSTM/GRU default for recurrent kernels) calls
// `flatten()`. Installing the one method it needs keeps the stock defaults usable.
type WithFlatten = { flatten?: () => tf.Tensor };
const proto = tf.Tensor.prototype as unknown as WithFlatten;
if (typeof proto.flatten !== 'function') {
  proto.flatten = function (this: tf.Tensor): tf.Tensor {
    return tf.reshape(this, [this.size]);
  };
}

export {};
