import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { positiveInt } from '../errors.js';
import { maskAt, single, singleShape, type Kwargs, type Shape } from './masking.js';

/** Arguments of {@link MaskedConv1D}. */
export interface MaskedConv1DArgs {
  filters: number;
  /** Default 3. */
  kernelSize?: number;
  /** Default 'relu'. */
  activation?: 'relu' | 'tanh' | 'linear';
  name?: string;
  trainable?: boolean;
}

/**
 * A 'same'-padded Conv1D that respects and forwards the sequence mask: padded positions are
 * zeroed before the convolution (so padding reads like the zero padding at the edges) and
 * after it. tfjs's own Conv1D rejects masked inputs. The front end of the CNN-RNN hybrid.
 */
export class MaskedConv1D extends tfl.layers.Layer {
  static className = 'SeqlabMaskedConv1D';
  readonly filters: number;
  readonly kernelSize: number;
  readonly activation: 'relu' | 'tanh' | 'linear';
  private kernel!: tfl.LayerVariable;
  private bias!: tfl.LayerVariable;

  constructor(args: MaskedConv1DArgs) {
    super(args);
    this.filters = positiveInt('MaskedConv1D: filters', args.filters);
    this.kernelSize = positiveInt('MaskedConv1D: kernelSize', args.kernelSize ?? 3);
    this.activation = args.activation ?? 'relu';
    this.supportsMasking = true;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(inputShape);
    const d = shape[shape.length - 1] as number;
    this.kernel = this.addWeight('kernel', [this.kernelSize, d, this.filters], 'float32', tfl.initializers.glorotUniform({}));
    this.bias = this.addWeight('bias', [this.filters], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(inputShape);
    return [shape[0]!, shape[1]!, this.filters];
  }

  override computeMask(_inputs: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    return maskAt(mask, 0) as unknown as tf.Tensor;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      let x = single(inputs) as tf.Tensor3D;
      const mask = maskAt(kwargs.mask, 0);
      const m = mask ? tf.expandDims(tf.cast(mask, 'float32'), -1) : null;
      if (m) x = tf.mul(x, m);
      let y: tf.Tensor = tf.add(tf.conv1d(x, this.kernel.read() as tf.Tensor3D, 1, 'same'), this.bias.read());
      if (this.activation === 'relu') y = tf.relu(y);
      else if (this.activation === 'tanh') y = tf.tanh(y);
      return m ? tf.mul(y, m) : y;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize, activation: this.activation };
  }
}
tf.serialization.registerClass(MaskedConv1D);

/** Creates a {@link MaskedConv1D} layer. */
export function maskedConv1d(args: MaskedConv1DArgs): MaskedConv1D {
  return new MaskedConv1D(args);
}
