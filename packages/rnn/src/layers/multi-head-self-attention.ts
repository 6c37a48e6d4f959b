import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { positiveInt } from '../errors.js';
import { maskAt, maskedSoftmax, single, singleShape, type Kwargs, type Shape } from './masking.js';

/** Arguments of {@link MultiHeadSelfAttention}. */
export interface MultiHeadSelfAttentionArgs {
  /** Number of heads. Default 4. */
  numHeads?: number;
  /** Size of each head's queries and keys (and values). Default: features / numHeads. */
  keyDim?: number;
  /** Add the input to the output (a residual connection). Default false. */
  residual?: boolean;
  name?: string;
  trainable?: boolean;
}

/**
 * Multi-head scaled dot-product self-attention (Vaswani et al. 2017) over `[batch, time,
 * features]`, projecting back to `features`. Keys at padded positions get weight 0 and the
 * input mask passes through, so it can sit between a masked RNN and attention pooling.
 */
export class MultiHeadSelfAttention extends tfl.layers.Layer {
  static className = 'SeqlabMultiHeadSelfAttention';
  readonly numHeads: number;
  readonly keyDim: number | undefined;
  readonly residual: boolean;
  private headDim = 0;
  private wq!: tfl.LayerVariable;
  private wk!: tfl.LayerVariable;
  private wv!: tfl.LayerVariable;
  private wo!: tfl.LayerVariable;
  private bo!: tfl.LayerVariable;

  constructor(args: MultiHeadSelfAttentionArgs = {}) {
    super(args);
    this.numHeads = positiveInt('MultiHeadSelfAttention: numHeads', args.numHeads ?? 4);
    this.keyDim = args.keyDim === undefined ? undefined : positiveInt('MultiHeadSelfAttention: keyDim', args.keyDim);
    this.residual = args.residual ?? false;
    this.supportsMasking = true;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(inputShape);
    const d = shape[shape.length - 1] as number;
    this.headDim = this.keyDim ?? Math.max(1, Math.floor(d / this.numHeads));
    const inner = this.headDim * this.numHeads;
    const init = () => tfl.initializers.glorotUniform({});
    this.wq = this.addWeight('query_kernel', [d, inner], 'float32', init());
    this.wk = this.addWeight('key_kernel', [d, inner], 'float32', init());
    this.wv = this.addWeight('value_kernel', [d, inner], 'float32', init());
    this.wo = this.addWeight('output_kernel', [inner, d], 'float32', init());
    this.bo = this.addWeight('output_bias', [d], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return singleShape(inputShape);
  }

  override computeMask(_inputs: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    return maskAt(mask, 0) as unknown as tf.Tensor;
  }

  /** Attention weights `[batch, heads, time, time]`. */
  attentionWeights(x: tf.Tensor, mask?: tf.Tensor | null): tf.Tensor {
    return tf.tidy(() => this.attend(x, mask ?? null).weights);
  }

  private attend(x: tf.Tensor, mask: tf.Tensor | null): { out: tf.Tensor; weights: tf.Tensor } {
    const [b, t, d] = x.shape as [number, number, number];
    const h = this.numHeads;
    const hd = this.headDim;
    const flat = tf.reshape(x, [b * t, d]);
    const heads = (w: tfl.LayerVariable) => tf.transpose(tf.reshape(tf.matMul(flat, w.read()), [b, t, h, hd]), [0, 2, 1, 3]);
    const q = heads(this.wq);
    const k = heads(this.wk);
    const v = heads(this.wv);
    const scores = tf.div(tf.matMul(q, k, false, true), Math.sqrt(hd)); // [b, h, t, t]
    const weights = maskedSoftmax(scores, mask ? tf.reshape(mask, [b, 1, 1, t]) : null);
    const ctx = tf.reshape(tf.transpose(tf.matMul(weights, v), [0, 2, 1, 3]), [b * t, h * hd]);
    const out = tf.reshape(tf.add(tf.matMul(ctx, this.wo.read()), this.bo.read()), [b, t, d]);
    return { out, weights };
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs);
      const out = this.attend(x, maskAt(kwargs.mask, 0)).out;
      // Built in rather than a tfjs Add layer: Add's computeMask returns a [1, batch, time] mask.
      return this.residual ? tf.add(x, out) : out;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), numHeads: this.numHeads, residual: this.residual, ...(this.keyDim !== undefined ? { keyDim: this.keyDim } : {}) };
  }
}
tf.serialization.registerClass(MultiHeadSelfAttention);

/** Creates a {@link MultiHeadSelfAttention} layer. */
export function multiHeadSelfAttention(args: MultiHeadSelfAttentionArgs = {}): MultiHeadSelfAttention {
  return new MultiHeadSelfAttention(args);
}
