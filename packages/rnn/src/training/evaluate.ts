import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { BatchSource } from './data.js';
import { correctCount, weightedLoss, type OutputKind } from './loss.js';

/** Mean loss (nats per scored label) and accuracy of a model over a batch source. */
export interface EvaluationResult {
  loss: number;
  accuracy: number;
  /** Labels that were scored (weight > 0). */
  count: number;
}

/** Guesses what a model outputs from its last layer: softmax (probabilities), sigmoid (independent probabilities) or else logits. */
export function detectOutputKind(model: tfl.LayersModel): OutputKind {
  const last = model.layers[model.layers.length - 1];
  const activation = (last?.getConfig() as { activation?: unknown } | undefined)?.activation;
  return activation === 'softmax' ? 'probabilities' : activation === 'sigmoid' ? 'sigmoid' : 'logits';
}

/**
 * Scores a model on every batch of `data` (inference mode: no dropout). Loss is the
 * label-weighted mean negative log-likelihood in nats (for sigmoid outputs the binary
 * cross-entropy per class, and accuracy is subset accuracy).
 */
export function evaluate(model: tfl.LayersModel, data: BatchSource, options: { output?: OutputKind } = {}): EvaluationResult {
  const kind = options.output ?? detectOutputKind(model);
  let lossSum = 0;
  let weightSum = 0;
  let correct = 0;
  for (const batch of data.batches(0)) {
    try {
      const [l, w, c] = tf.tidy(() => {
        const out = model.apply(batch.x, { training: false }) as tf.Tensor;
        const { loss, weightSum: ws } = weightedLoss(out, batch.y, kind, batch.weights);
        return [tf.mul(loss, ws), ws, correctCount(out, batch.y, batch.weights, kind)];
      });
      lossSum += l!.dataSync()[0]!;
      weightSum += w!.dataSync()[0]!;
      correct += c!.dataSync()[0]!;
      tf.dispose([l!, w!, c!]);
    } finally {
      tf.dispose([batch.x, batch.y, ...(batch.weights ? [batch.weights] : [])]);
    }
  }
  return { loss: weightSum > 0 ? lossSum / weightSum : NaN, accuracy: weightSum > 0 ? correct / weightSum : NaN, count: weightSum };
}
