import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { positiveInt } from '../errors.js';
import { maskAt, maskedSoftmax, single, singleShape, type Kwargs, type Shape } from './masking.js';

/** Arguments of {@link AttentionPooling}. */
export interface AttentionPoolingArgs {
  /** Hidden size of the scoring MLP. Default 64. */
  units?: number;
  /** Also output the attention weights `[batch, time]` as a second output. Default false. */
  returnAttentionWeights?: boolean;
  name?: string;
  trainable?: boolean;
}

/**
 * Attention pooling (Yang et al. 2016; Bahdanau-style scoring against a learned context vector):
 * `[batch, time, features]` -> `[batch, features]`, a weighted sum over time with weights
 * `softmax_t(v . tanh(W h_t + b))`. Padded positions (input mask) get weight exactly 0.
 */
export class AttentionPooling extends tfl.layers.Layer {
  static className = 'SeqlabAttentionPooling';
  readonly units: number;
  readonly returnAttentionWeights: boolean;
  private kernel!: tfl.LayerVariable;
  private bias!: tfl.LayerVariable;
  private context!: tfl.LayerVariable;

  constructor(args: AttentionPoolingArgs = {}) {
    super(args);
    this.units = positiveInt('AttentionPooling: units', args.units ?? 64);
    this.returnAttentionWeights = args.returnAttentionWeights ?? false;
    this.supportsMasking = true;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(inputShape);
    const features = shape[shape.length - 1];
    if (typeof features !== 'number') throw new Error(`AttentionPooling: the last input dimension must be known, got shape ${JSON.stringify(shape)}`);
    this.kernel = this.addWeight('kernel', [features, this.units], 'float32', tfl.initializers.glorotUniform({}));
    this.bias = this.addWeight('bias', [this.units], 'float32', tfl.initializers.zeros());
    this.context = this.addWeight('context', [this.units, 1], 'float32', tfl.initializers.glorotUniform({}));
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const shape = singleShape(inputShape);
    const pooled = [shape[0]!, shape[shape.length - 1]!];
    return this.returnAttentionWeights ? [pooled, [shape[0]!, shape[1]!]] : pooled;
  }

  override computeMask(): tf.Tensor | tf.Tensor[] {
    // No mask downstream of pooling (tfjs types masks as non-null; null means none).
    return (this.returnAttentionWeights ? [null, null] : null) as unknown as tf.Tensor;
  }

  /** Attention weights `[batch, time]` for a sequence batch and optional mask `[batch, time]`. */
  attentionWeights(x: tf.Tensor, mask?: tf.Tensor | null): tf.Tensor {
    return tf.tidy(() => {
      const [b, t, d] = x.shape as [number, number, number];
      const hidden = tf.tanh(tf.add(tf.matMul(tf.reshape(x, [b * t, d]), this.kernel.read()), this.bias.read()));
      const scores = tf.reshape(tf.matMul(hidden, this.context.read()), [b, t]);
      return maskedSoftmax(scores, mask);
    });
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    return tf.tidy(() => {
      const x = single(inputs);
      const weights = this.attentionWeights(x, maskAt(kwargs.mask, 0));
      const pooled = tf.squeeze(tf.matMul(tf.expandDims(weights, 1), x), [1]);
      return this.returnAttentionWeights ? [pooled, weights] : pooled;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units, returnAttentionWeights: this.returnAttentionWeights };
  }
}
tf.serialization.registerClass(AttentionPooling);

/** Creates an {@link AttentionPooling} layer. */
export function attentionPooling(args: AttentionPoolingArgs = {}): AttentionPooling {
  return new AttentionPooling(args);
}
