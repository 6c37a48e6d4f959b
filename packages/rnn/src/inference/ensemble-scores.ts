import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { CompiledModel } from './compiled-model.js';

/**
 * The mean over ensemble members of class probabilities `[B, C]` and attention weights
 * `[B, L]` (still a distribution over the tokens), on the inference fast path when `compiled`
 * is given, else through tf.layers' `predict` of the members' explainer models.
 */
export async function ensembleScores(
  compiled: CompiledModel[] | undefined,
  explainers: tfl.LayersModel[],
  ids: Int32Array,
  B: number,
  L: number,
): Promise<[Float32Array, Float32Array]> {
  if (compiled) {
    const outs = compiled.map((c) => c.predict(ids, B, L));
    if (outs.length === 1) return [outs[0]![0]!, outs[0]![1]!];
    const mean = (k: number) => {
      const acc = new Float32Array(outs[0]![k]!.length);
      for (const o of outs) for (let i = 0; i < acc.length; i++) acc[i]! += o[k]![i]!;
      for (let i = 0; i < acc.length; i++) acc[i]! /= outs.length;
      return acc;
    };
    return [mean(0), mean(1)];
  }
  const [probsT, weightsT] = tf.tidy(() => {
    const x = tf.tensor2d(ids, [B, L], 'int32');
    const outs = explainers.map((m) => m.predict(x) as tf.Tensor[]);
    if (outs.length === 1) return outs[0]!;
    return [tf.div(tf.addN(outs.map((o) => o[0]!)), outs.length), tf.div(tf.addN(outs.map((o) => o[1]!)), outs.length)];
  });
  const probs = (await probsT!.data()) as Float32Array;
  const weights = (await weightsT!.data()) as Float32Array;
  tf.dispose([probsT!, weightsT!]);
  return [probs, weights];
}
