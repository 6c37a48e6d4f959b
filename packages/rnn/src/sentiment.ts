import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadLayersModel } from '@seqlab/core';
import { TextVectorizer } from '@seqlab/tokenize';
import { resolveTextClassifierOptions, withAttentionWeights, type TextClassifierConfig } from './builders/text-classifier.js';
import { RnnArgumentError } from './errors.js';
import { readJson } from './generation/load.js';

/** One token of an explained prediction, with offsets into the input text. */
export interface AttributedToken {
  text: string;
  start: number;
  end: number;
  /** Attention weight of the token (the weights of one text sum to 1). */
  weight: number;
}

/** A sentiment prediction. */
export interface SentimentPrediction {
  label: 'negative' | 'positive';
  /** Probability of `label`. */
  score: number;
  /** Class probabilities in label order `[negative, positive]`. */
  probabilities: number[];
  tokens: AttributedToken[];
}

/** `config.json` of a saved sentiment model directory. */
export interface SentimentModelDirConfig {
  task: 'sentiment';
  format: string;
  labels: ['negative', 'positive'];
  vectorizerFile: string;
  /** Tokens kept per text (longer texts are truncated at the end). */
  maxLength: number;
  architecture: TextClassifierConfig;
  [key: string]: unknown;
}

/** A loaded sentiment classifier that explains its predictions with attention weights. */
export class SentimentModel {
  private disposed = false;

  constructor(
    private readonly explainer: tfl.LayersModel,
    readonly vectorizer: TextVectorizer,
    readonly config: SentimentModelDirConfig,
    private readonly owned: tfl.LayersModel,
  ) {}

  /** Classifies texts; batches internally. */
  async predict(texts: string[], options: { batchSize?: number } = {}): Promise<SentimentPrediction[]> {
    if (this.disposed) throw new Error('SentimentModel: used after dispose()');
    if (!Array.isArray(texts)) throw new RnnArgumentError(`predict: texts must be an array of strings, got ${typeof texts}`);
    texts.forEach((t, i) => {
      if (typeof t !== 'string') throw new RnnArgumentError(`predict: texts[${i}] must be a string, got ${typeof t}`);
    });
    const batchSize = options.batchSize ?? 64;
    const out: SentimentPrediction[] = [];
    for (let s = 0; s < texts.length; s += batchSize) {
      const chunk = texts.slice(s, s + batchSize);
      const enc = this.vectorizer.encode(chunk, { padding: 'post', truncation: 'post' });
      const [B, L0] = enc.shape;
      const L = Math.max(2, Math.min(L0, this.config.maxLength));
      const ids = new Int32Array(B * L);
      for (let r = 0; r < B; r++) ids.set(enc.ids.subarray(r * L0, r * L0 + Math.min(L, L0)), r * L);
      const [probsT, weightsT] = tf.tidy(() => this.explainer.predict(tf.tensor2d(ids, [B, L], 'int32')) as tf.Tensor[]);
      const probs = (await probsT!.data()) as Float32Array;
      const weights = (await weightsT!.data()) as Float32Array;
      tf.dispose([probsT!, weightsT!]);
      for (let r = 0; r < B; r++) {
        const p = [probs[r * 2]!, probs[r * 2 + 1]!];
        const label = p[1]! >= p[0]! ? 'positive' : 'negative';
        const tokens = enc.tokens[r]!.slice(0, L).map((t, j) => ({ text: t.text, start: t.start, end: t.end, weight: weights[r * L + j]! }));
        out.push({ label, score: label === 'positive' ? p[1]! : p[0]!, probabilities: p, tokens });
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.owned.dispose();
  }
}

/**
 * Loads a sentiment model saved by the SST-2 recipe: `model.json` (a {@link textClassifier}
 * with attention pooling), the vectorizer JSON and `config.json`.
 *
 * @example
 * ```ts
 * const sentiment = await loadSentimentModel('models/sentiment');
 * const [r] = await sentiment.predict(['a gorgeous, witty film']);
 * console.log(r.label, r.score.toFixed(3), r.tokens.map((t) => `${t.text}:${t.weight.toFixed(2)}`));
 * ```
 */
export async function loadSentimentModel(dir: string): Promise<SentimentModel> {
  const config = await readJson<SentimentModelDirConfig>(path.join(dir, 'config.json'), 'loadSentimentModel');
  if (config.task !== 'sentiment') {
    throw new RnnArgumentError(`loadSentimentModel: ${path.join(dir, 'config.json')} has task ${JSON.stringify(config.task)}, expected "sentiment"`);
  }
  const arch = resolveTextClassifierOptions(config.architecture);
  if (arch.numClasses !== 2) throw new RnnArgumentError(`loadSentimentModel: expected a 2-class model, config says ${arch.numClasses}`);
  const vectorizer = TextVectorizer.fromJSON(await readJson<unknown>(path.join(dir, config.vectorizerFile ?? 'vectorizer.json'), 'loadSentimentModel'));
  if (vectorizer.vocabSize !== arch.vocabSize) {
    throw new RnnArgumentError(`loadSentimentModel: the vectorizer has ${vectorizer.vocabSize} tokens but the model expects ${arch.vocabSize}`);
  }
  const model = await loadLayersModel(dir);
  return new SentimentModel(withAttentionWeights(model), vectorizer, config, model);
}
